"""The keys that tie an SQS record's or a schedule run's log lines together are on every line inside, and on
none after (the next record must not inherit them)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator

import pytest

from dialhub.observability import http_request_id, log_keys, logger
from dialhub.parallel import each


class _Lines(logging.Handler):
    """Each line as the service's formatter writes it when it is logged (keys are read at that moment)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logger.registered_formatter)
        self.lines: list[dict[str, object]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def lines() -> Iterator[list[dict[str, object]]]:
    handler = _Lines()
    logger.addHandler(handler)
    yield handler.lines
    logger.removeHandler(handler)


def test_the_keys_are_on_every_line_inside_and_gone_after(lines: list[dict[str, object]]) -> None:
    with log_keys(message_id="m-1", batch_id="b-1", campaign_id=None):
        logger.info("first")
        logger.warning("second")
    logger.info("after")
    first, second, after = lines
    for line in (first, second):
        assert line["message_id"] == "m-1" and line["batch_id"] == "b-1"
        assert "campaign_id" not in line  # a key without a value is left out, not logged as null
    assert "message_id" not in after and "batch_id" not in after


def test_the_keys_are_removed_when_the_work_inside_fails(lines: list[dict[str, object]]) -> None:
    with pytest.raises(RuntimeError), log_keys(export_id="exp-1"):
        raise RuntimeError("export failed")
    logger.info("next record")
    [line] = lines
    assert "export_id" not in line


def test_an_inner_block_leaves_the_outer_blocks_keys_as_they_were(lines: list[dict[str, object]]) -> None:
    with log_keys(correlation_id="run-1", campaign_id="cmp-outer"):
        with log_keys(campaign_id="cmp-inner", vendor="blu"):
            logger.info("inside")
        logger.info("outer again")
    logger.info("after")
    inside, outer_again, after = lines
    assert (inside["campaign_id"], inside["vendor"], inside["correlation_id"]) == ("cmp-inner", "blu", "run-1")
    assert (outer_again["campaign_id"], outer_again["correlation_id"]) == ("cmp-outer", "run-1")
    assert "vendor" not in outer_again
    assert not {"campaign_id", "correlation_id", "vendor"} & set(after)


def test_the_keys_belong_to_their_thread_and_the_writes_it_runs(lines: list[dict[str, object]]) -> None:
    """The offline stack runs every function in one process: one invocation's keys must neither appear on
    another's lines nor be removed by it; the parallel writes an invocation starts carry its keys."""
    inside, leave = threading.Event(), threading.Event()

    def other_invocation() -> None:
        with log_keys(correlation_id="other", campaign_id="cmp-other"):
            inside.set()
            leave.wait(5)
        logger.info("other thread, after its block")

    thread = threading.Thread(target=other_invocation)
    with log_keys(correlation_id="mine", campaign_id="cmp-mine"):
        thread.start()
        assert inside.wait(5)
        logger.info("mine, while the other is inside its block")
        leave.set()
        thread.join(5)
        logger.info("mine, after the other left its block")
        each(lambda n: logger.info("a parallel write", extra={"n": n}), [1, 2, 3])
    mine = [line for line in lines if line["message"] != "other thread, after its block"]
    assert {(line["correlation_id"], line["campaign_id"]) for line in mine} == {("mine", "cmp-mine")}
    assert len(mine) == 5
    [other_after] = [line for line in lines if line["message"] == "other thread, after its block"]
    assert "correlation_id" not in other_after


def test_the_http_functions_take_the_http_apis_request_id_as_correlation_id() -> None:
    assert http_request_id({"requestContext": {"requestId": "Dx1yZgQ2IAMEVbw="}}) == "Dx1yZgQ2IAMEVbw="
    assert http_request_id({"requestContext": {}}) is None and http_request_id({}) is None
