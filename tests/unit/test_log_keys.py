"""The keys that tie an SQS record's or a schedule run's log lines together are on every line inside, and on
none after (the next record must not inherit them)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from dialhub.observability import log_keys, logger


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
