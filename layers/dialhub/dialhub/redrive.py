"""The way back from the dispatch dead-letter queue: its batches moved back to the dispatch queue by SQS."""

from __future__ import annotations

from pydantic import Field

from dialhub.models import WireModel
from dialhub.queue import DispatchQueue


class RedriveView(WireModel):
    status: str = Field(description="SQS's status of the move: RUNNING, COMPLETED, CANCELLING, CANCELLED or FAILED")
    messages_moved: int = Field(description="Batches moved back to the dispatch queue so far")
    messages_to_move: int | None = Field(
        default=None, description="Batches the dead-letter queue held when the move started, as SQS counts them"
    )
    failure_reason: str | None = None


def redrive_dispatch(queue: DispatchQueue, dead_letter_arn: str) -> RedriveView:
    """Every batch SQS gave up on goes back to the dispatcher, which sends only contacts still claimable: what the
    vendor took before is not sent again, and what the sweep settled meanwhile is not sent at all."""
    task = queue.redrive(dead_letter_arn)
    return RedriveView(
        status=str(task.get("Status", "RUNNING")),
        messages_moved=int(task.get("ApproximateNumberOfMessagesMoved", 0)),
        messages_to_move=task.get("ApproximateNumberOfMessagesToMove"),
        failure_reason=task.get("FailureReason"),
    )
