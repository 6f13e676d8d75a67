"""What the webhook counts when a callback carries entries it cannot store: one rejection per unread entry,
under the vendor that sent them, beside the outcomes it could store."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import call_webhook, load_event
from tests.integration.test_blu_flow import _callback_event, _campaign


def _result_for(campaign_id: str) -> dict[str, Any]:
    result = json.loads(load_event("webhooks/blu_result.json")["body"])
    result["extVars"] = json.dumps({"campaignId": campaign_id, "contactId": "c0", "attempt": 1})
    return result


def test_each_entry_without_a_result_counts_one_rejection_for_its_vendor(deps: Any, metrics: Any) -> None:
    campaign_id = _campaign(deps, count=1)
    stored = _result_for(campaign_id)
    unread = [{key: value for key, value in stored.items() if key != "callId"} | {"userId": row} for row in range(3)]
    metrics()
    status, reply = call_webhook(deps, _callback_event({"taskId": stored["taskId"], "records": [stored, *unread]}))
    assert status == 422 and reply["message"].startswith("3 entries carry no call result")
    counted = metrics()
    rejected = {key: value for key, value in counted.items() if key[0] == "WebhookRejected"}
    assert rejected == {("WebhookRejected", (("vendor", "blu"), ("reason", "no_result"), ("service", "dialhub"))): 3}
    assert deps.store.get_outcome("blu", str(stored["callId"])) is not None
