"""The way back from the dispatch dead-letter queue: `POST /admin/dlq/redrive` moves the batches SQS gave up on
back with SQS's message-move task, and a re-driven batch goes through the same claims as any delivery."""

from __future__ import annotations

from typing import Any

import boto3
import httpx
import pytest

from dialhub.queue import DispatchQueue
from dialhub.settings import Settings
from dialhub.store import DynamoStore
from dialhub.vendors import StaticAdapters
from dialhub.vendors.blu.adapter import BluAdapter
from dialhub.wiring import Dependencies
from local.drivers import SqsDriver
from tests.conftest import (
    FakeContext,
    api_event,
    blu_account,
    call_api,
    create_template_queues,
    function_module,
    plan_now,
    states,
)
from tests.integration.test_blu_flow import _campaign
from tests.integration.test_stuck_claims import _BluDown

MAX_RECEIVES = 5  # the dispatch queue's redrive policy


@pytest.fixture
def wire() -> _BluDown:
    return _BluDown()


@pytest.fixture
def queues(aws: Any, template: Any) -> tuple[dict[str, str], dict[str, str]]:
    return create_template_queues(template, boto3.client("sqs"))


@pytest.fixture
def deps(table_name: str, queues: Any, blu_sim: Any, wire: _BluDown) -> Dependencies:
    urls, arns = queues
    settings = Settings(
        table_name=table_name,
        dispatch_queue_url=urls["DispatchQueue"],
        dispatch_dead_letter_arn=arns["DispatchDeadLetterQueue"],
        default_phone_region="PH",
    )
    client = httpx.Client(base_url=blu_sim.base_url, transport=wire)
    return Dependencies(
        settings=settings,
        store=DynamoStore(table_name),
        queue=DispatchQueue(urls["DispatchQueue"]),
        adapters=StaticAdapters({"blu": BluAdapter(blu_account(blu_sim.base_url), http=client)}),
    )


def _driver(deps: Dependencies, template: Any) -> SqsDriver:
    """The dispatch queue's event source, delivering to the dispatcher handler until SQS gives a batch up."""
    dispatcher = function_module("dispatcher")
    return SqsDriver(
        deps.queue.client,
        template.sqs_source("DispatcherFunction"),
        deps.queue.queue_url,
        lambda _, event: dispatcher.handle(event, FakeContext(), deps),
    )


def _waiting(deps: Dependencies, queue_id: str, queues: Any) -> int:
    attributes = deps.queue.client.get_queue_attributes(
        QueueUrl=queues[0][queue_id], AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def _redrive(deps: Dependencies) -> tuple[int, Any]:
    return call_api(deps, api_event("api/redrive_dispatch.json"))


def test_a_batch_given_up_while_blu_was_down_is_re_driven_and_dials_each_contact_once(
    deps: Dependencies, template: Any, queues: Any, blu_sim: Any, wire: _BluDown
) -> None:
    campaign_id = _campaign(deps, count=3)
    plan_now(deps)
    driver = _driver(deps, template)
    stats = driver.drain(max_rounds=20)
    assert stats.received == MAX_RECEIVES  # every delivery failed: Blu answered 503
    assert _waiting(deps, "DispatchDeadLetterQueue", queues) == 1 and _waiting(deps, "DispatchQueue", queues) == 0
    assert states(deps.store, campaign_id) == {"submitting": 3}
    assert sum(blu_sim.dial_requests.values()) == 0
    wire.down = False
    status, body = _redrive(deps)
    assert (status, body["status"], body["messagesMoved"]) == (202, "COMPLETED", 1)
    assert _waiting(deps, "DispatchDeadLetterQueue", queues) == 0
    assert driver.drain(max_rounds=20).received == 1
    assert states(deps.store, campaign_id) == {"submitted": 3}
    assert sum(blu_sim.dial_requests.values()) == 3 and max(blu_sim.dial_requests.values()) == 1
    status, body = _redrive(deps)  # nothing left: a move of nothing
    assert (status, body["messagesMoved"]) == (202, 0)
    assert sum(blu_sim.dial_requests.values()) == 3


def test_a_batch_re_driven_twice_sends_nothing_the_first_sent(
    deps: Dependencies, template: Any, queues: Any, blu_sim: Any, wire: _BluDown
) -> None:
    """A copy of a batch already sent (a second re-drive of a message SQS kept twice, say) finds every contact
    claimed and settled: nothing goes out again."""
    campaign_id = _campaign(deps, count=2)
    plan_now(deps)
    driver = _driver(deps, template)
    driver.drain(max_rounds=20)
    wire.down = False
    dead_letters = queues[0]["DispatchDeadLetterQueue"]
    copy = deps.queue.client.receive_message(QueueUrl=dead_letters)["Messages"][0]
    deps.queue.client.change_message_visibility(
        QueueUrl=dead_letters, ReceiptHandle=copy["ReceiptHandle"], VisibilityTimeout=0
    )
    assert _redrive(deps)[0] == 202
    driver.drain(max_rounds=20)
    deps.queue.client.send_message(QueueUrl=dead_letters, MessageBody=copy["Body"])
    assert _redrive(deps)[1]["messagesMoved"] == 1
    driver.drain(max_rounds=20)
    assert states(deps.store, campaign_id) == {"submitted": 2}
    assert sum(blu_sim.dial_requests.values()) == 2 and max(blu_sim.dial_requests.values()) == 1


def test_when_sqs_will_not_start_the_move_the_answer_is_a_409_saying_why(
    deps: Dependencies, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deps.settings, "dispatch_dead_letter_arn", "arn:aws:sqs:us-east-1:123456789012:no-such-queue")
    status, body = _redrive(deps)
    assert status == 409 and "SQS would not start the re-drive" in body["message"]
