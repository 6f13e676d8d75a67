"""What `POST /admin/dlq/redrive` answers is SQS's own account of the move, field by field, including the fields
SQS leaves out while a move is starting."""

from __future__ import annotations

from typing import Any

from dialhub.queue import DispatchQueue
from dialhub.redrive import RedriveView, redrive_dispatch

DEAD_LETTERS = "arn:aws:sqs:us-east-1:123456789012:dialhub-dispatch-dlq"


class _Queue(DispatchQueue):
    """SQS's answer to a listing of the move task, as given."""

    def __init__(self, listed: dict[str, Any]) -> None:
        self.listed = listed
        self.asked: list[str] = []

    def redrive(self, dead_letter_arn: str) -> dict[str, Any]:
        self.asked.append(dead_letter_arn)
        return self.listed


def test_a_failed_move_is_shown_with_its_counts_and_sqss_reason() -> None:
    queue = _Queue(
        {
            "Status": "FAILED",
            "ApproximateNumberOfMessagesMoved": 3,
            "ApproximateNumberOfMessagesToMove": 7,
            "FailureReason": "AWS.SimpleQueueService.NonExistentQueue",
        }
    )
    view = redrive_dispatch(queue, DEAD_LETTERS)
    assert view == RedriveView(
        status="FAILED", messages_moved=3, messages_to_move=7, failure_reason="AWS.SimpleQueueService.NonExistentQueue"
    )
    assert queue.asked == [DEAD_LETTERS]


def test_a_move_sqs_has_not_listed_yet_is_running_with_nothing_moved_and_nothing_known() -> None:
    assert redrive_dispatch(_Queue({}), DEAD_LETTERS) == RedriveView(
        status="RUNNING", messages_moved=0, messages_to_move=None, failure_reason=None
    )
