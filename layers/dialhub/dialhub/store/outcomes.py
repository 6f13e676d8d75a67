"""Call outcomes, their raw payloads and the outcome feed, written together with the contact they move."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError

from dialhub.dispositions import CallStatus
from dialhub.models import (
    CallOutcome,
    DialState,
    Hold,
)
from dialhub.parallel import each
from dialhub.store.codec import from_item, to_item
from dialhub.store.keys import (
    DUE,
    FEED,
    GSI_FEED,
    GSI_LISTING,
    call_key,
    campaign_key,
    contact_key,
    feed_key,
    history_pk,
    plain_key,
    stamp,
)
from dialhub.store.table import BATCH_GET_LIMIT, Table, chunks, is_condition_failure

RAW_PAYLOAD_LIMIT = 32_768  # bytes of a vendor payload kept (an item holds 400 KB)


@dataclass(frozen=True)
class RedialRequest:
    """The campaign policy's wish to call the contact again after a closing call (see record_outcome)."""

    hold: Hold  # reason "redial", until = from when
    max_attempts: int  # attempts in all: redialled only while the contact has made fewer
    dial_date: dt.date  # campaign-local day of the redial, to mark the campaign due
    vendor: str | None = None  # the vendor of the next attempt, when it is not the one that called (redialVia)


class RecordResult(StrEnum):
    STORED = "stored"  # new, or moved forward (e.g. in progress -> final)
    REDIAL = "redial"  # stored; its contact is queued again for the policy's next attempt
    DUPLICATE = "duplicate"  # nothing new: already final
    ORPHAN = "orphan"  # stored, but it moves no contact (unknown, or cancelled and the call never happened)


@dataclass(frozen=True)
class FeedPage:
    """Closing outcomes with when each was recorded; `position` is where the feed goes on from (the last entry
    read, or the position asked for when nothing was), `more` whether entries already follow it."""

    items: list[tuple[dt.datetime, CallOutcome]]
    position: str | None
    more: bool


class OutcomeTable(Table):
    def get_outcome(self, vendor: str, vendor_call_id: str) -> CallOutcome | None:
        response = self.client.get_item(
            TableName=self.table_name, Key=call_key(vendor, vendor_call_id), ConsistentRead=True
        )
        return CallOutcome.model_validate(from_item(response["Item"])) if "Item" in response else None

    def finished_calls(self, vendor: str, vendor_call_ids: list[str]) -> dict[str, bool]:
        """Which of these calls already have a final outcome stored, each with whether it can change no more
        (it closed its contact, or the policy redialled after it) (one read per 100 calls)."""
        keys = [call_key(vendor, call_id) for call_id in dict.fromkeys(vendor_call_ids)]
        items = self._batch_get(keys, "vendorCallId, #final, closesContact, redialAt", {"#final": "final"})
        return {
            item["vendorCallId"]: bool(item.get("closesContact") or item.get("redialAt"))
            for item in items
            if item.get("final")
        }

    def closing_outcomes(self, calls: list[tuple[str, str]]) -> dict[tuple[str, str], CallOutcome]:
        """The stored outcomes of these (vendor, vendorCallId) calls, read 100 to a request, requests in parallel."""
        keys = [call_key(vendor, call_id) for vendor, call_id in dict.fromkeys(calls)]
        outcomes = (
            CallOutcome.model_validate(item)
            for found in each(self._batch_get, list(chunks(keys, BATCH_GET_LIMIT)))
            for item in found
        )
        return {(outcome.vendor, outcome.vendor_call_id): outcome for outcome in outcomes}

    def page_feed(self, limit: int, after: str | None, delay: dt.timedelta) -> FeedPage:
        """Closing outcomes in the order they were recorded, each with when, up to `delay` ago: a write takes
        at most LONGEST_WRITE_SECONDS to commit and reach the index, so nothing older can still appear
        before a position this method has already passed."""
        horizon = stamp(self.clock() - delay)
        query = {
            "IndexName": GSI_FEED,
            "KeyConditionExpression": "gsi3pk = :feed AND gsi3sk < :horizon",
            "ExpressionAttributeValues": {":feed": {"S": FEED}, ":horizon": {"S": horizon}},
        }
        start = None
        if after is not None:
            _, vendor, call_id = after.split("#", 2)
            start = {**call_key(vendor, call_id), "gsi3pk": {"S": FEED}, "gsi3sk": {"S": after}}
        entries, key = self._page(query, limit, start, filtered=False)
        positions = [entry["gsi3sk"]["S"] for entry in entries]
        calls = [tuple(position.split("#", 2)[1:]) for position in positions]
        outcomes = self.closing_outcomes(calls)
        recorded = [
            (dt.datetime.fromisoformat(position.split("#", 1)[0]), outcomes.get(call))
            for position, call in zip(positions, calls, strict=True)
        ]
        # An outcome past its retention may be gone by the time it is read: it is skipped, the position kept.
        return FeedPage(
            [(at, outcome) for at, outcome in recorded if outcome is not None],
            positions[-1] if positions else after,
            key is not None,
        )

    def contact_history(self, campaign_id: str, contact_id: str) -> list[CallOutcome]:
        outcomes: list[CallOutcome] = []
        for page in self._query(
            IndexName=GSI_LISTING,
            KeyConditionExpression="gsi2pk = :contact",
            ExpressionAttributeValues={":contact": {"S": history_pk(campaign_id, contact_id)}},
        ):
            outcomes.extend(CallOutcome.model_validate(item) for item in page)
        return outcomes

    def record_outcome(
        self, outcome: CallOutcome, now: dt.datetime, redial: RedialRequest | None = None, raw: bytes | None = None
    ) -> RecordResult:
        """Store an outcome and move its contact, in one transaction; only ever forward.

        A final outcome is never replaced, except that a call first reported as an attempt the vendor would
        redial may later be reported as the one that closed the contact; a non-final one may be replaced by
        anything newer. The contact moves to FINAL together with its closing outcome, so the two agree; with
        a redial request, a closing call instead queues its contact again (while it has made fewer than the
        policy's attempts), and that call is never upgraded later, so a repeated callback cannot redial twice.
        The vendor's raw payload, when given, is kept beside the outcome for a shorter time, written with it
        or not at all.
        """
        extra = [{"Put": self._raw_payload_put(outcome, raw, now)}] if raw is not None else []
        if not (outcome.closes and outcome.campaign_id and outcome.contact_id):
            return self._transact(self._outcome_update(outcome, now), extra)
        if redial is not None:
            redialled = outcome.model_copy(update={"closes_contact": False, "redial_at": redial.hold.until})
            result = self._transact(
                self._outcome_update(redialled, now),
                [
                    {"Update": self._contact_redial_update(outcome, redial, now)},
                    {"Update": self._campaign_due_update(outcome.campaign_id, redial.dial_date)},
                    *extra,
                ],
            )
            if result is not RecordResult.ORPHAN:
                return RecordResult.REDIAL if result is RecordResult.STORED else result
            # The contact has made its last allowed attempt (or is no longer waiting for this call): it closes.
        result = self._transact(
            self._outcome_update(outcome, now, closing=True),
            [{"Update": self._contact_final_update(outcome, now)}, *extra],
        )
        if result is RecordResult.ORPHAN:
            self._transact(self._outcome_update(outcome, now), extra)
        return result

    def _transact(self, outcome_update: dict[str, Any], others: list[dict[str, Any]]) -> RecordResult:
        """The outcome and the items it moves, all or nothing: DUPLICATE when the outcome's own condition
        fails, ORPHAN (nothing written) when another item's does."""
        try:
            if others:
                self.client.transact_write_items(TransactItems=[{"Update": outcome_update}, *others])
            else:
                self.client.update_item(**outcome_update)
        except ClientError as exc:
            if is_condition_failure(exc):
                return RecordResult.DUPLICATE
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException" or not reasons:
                raise
            if reasons[0] == "ConditionalCheckFailed":
                return RecordResult.DUPLICATE
            if "ConditionalCheckFailed" in reasons[1:] and all(
                code in (None, "None", "ConditionalCheckFailed") for code in reasons
            ):
                return RecordResult.ORPHAN
            raise
        return RecordResult.STORED

    def _raw_payload_put(self, outcome: CallOutcome, raw: bytes, now: dt.datetime) -> dict[str, Any]:
        """What the vendor sent, as sent (cut at RAW_PAYLOAD_LIMIT), for disputes; it may hold personal data,
        so it expires long before the outcome does."""
        item = {
            **plain_key(call_key(outcome.vendor, outcome.vendor_call_id)),
            "sk": f"RAW#{stamp(now)}",
            "body": raw[:RAW_PAYLOAD_LIMIT].decode("utf-8", errors="replace"),
            "receivedAt": now.isoformat(),
            "expiresAt": int((now + self.raw_retention).timestamp()),
        }
        return {"TableName": self.table_name, "Item": to_item(item)}

    def _outcome_update(self, outcome: CallOutcome, now: dt.datetime, closing: bool = False) -> dict[str, Any]:
        """The outcome's conditional write; `closing` (written with the move of its contact to FINAL) also
        puts it in the outcome feed, stamped now: a closing outcome is final, so it is written only once."""
        data = outcome.to_wire()
        data.pop("firstSeenAt", None)
        data["lastUpdatedAt"] = now.isoformat()
        data["final"] = outcome.final
        data["expiresAt"] = self._expires_at(now)
        if outcome.campaign_id and outcome.contact_id:
            data["gsi2pk"] = history_pk(outcome.campaign_id, outcome.contact_id)
            started = outcome.started_at.isoformat() if outcome.started_at else now.isoformat()
            data["gsi2sk"] = f"{started}#{outcome.vendor_call_id}"
        if closing:
            data["gsi3pk"] = FEED
            data["gsi3sk"] = feed_key(outcome.vendor, outcome.vendor_call_id, self.clock())
        names = {f"#a{i}": attr for i, attr in enumerate(data)}
        values = {f":a{i}": value for i, value in enumerate(data.values())}
        sets = [f"#a{i} = :a{i}" for i in range(len(data))]
        names["#first"] = "firstSeenAt"
        names["#final"] = "final"
        values[":now"] = now.isoformat()
        values[":false"] = False
        condition = "attribute_not_exists(pk) OR #final = :false"
        if outcome.closes:
            names["#closes"] = "closesContact"
            names["#redial"] = "redialAt"
            condition += " OR (#closes = :false AND attribute_not_exists(#redial))"
        return {
            "TableName": self.table_name,
            "Key": call_key(outcome.vendor, outcome.vendor_call_id),
            "UpdateExpression": "SET " + ", ".join([*sets, "#first = if_not_exists(#first, :now)"]),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": to_item(values),
        }

    def _contact_final_update(self, outcome: CallOutcome, now: dt.datetime) -> dict[str, Any]:
        assert outcome.campaign_id and outcome.contact_id
        values = {
            ":final": DialState.FINAL.value,
            ":disposition": outcome.disposition.value,
            ":call": outcome.vendor_call_id,
            ":vendor": outcome.vendor,
            ":now": now.isoformat(),
            ":dnc": outcome.do_not_call,
        }
        condition = "attribute_exists(pk)"
        if outcome.status is CallStatus.CANCELLED:
            # The vendor confirming our cancel: the contact stays cancelled. A real call that raced the
            # cancel still makes it final, since that is what happened.
            condition += " AND #st <> :cancelled"
            values[":cancelled"] = DialState.CANCELLED.value
        sets = (
            "#st = :final, disposition = :disposition, lastCallId = :call, lastCallVendor = :vendor, "
            "updatedAt = :now, doNotCall = :dnc"
        )
        return {
            "TableName": self.table_name,
            "Key": contact_key(outcome.campaign_id, outcome.contact_id),
            "UpdateExpression": (
                f"SET {sets}{self._conversation_set(outcome, values, now)} REMOVE gsi1pk, gsi1sk, reason"
            ),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#st": "state"},
            "ExpressionAttributeValues": to_item(values),
        }

    def _contact_redial_update(self, outcome: CallOutcome, redial: RedialRequest, now: dt.datetime) -> dict[str, Any]:
        """Back in the queue with its next attempt number, held until the policy's redial time."""
        assert outcome.campaign_id and outcome.contact_id
        values = {
            ":queued": DialState.QUEUED.value,
            ":disposition": outcome.disposition.value,
            ":call": outcome.vendor_call_id,
            ":vendor": outcome.vendor,
            ":now": now.isoformat(),
            ":hold": redial.hold.to_wire(),
            ":one": 1,
            ":max": redial.max_attempts,
            ":queue": f"QUEUE#{outcome.campaign_id}",
            ":contact": outcome.contact_id,
            ":submitting": DialState.SUBMITTING.value,
            ":submitted": DialState.SUBMITTED.value,
            ":unconfirmed": DialState.UNCONFIRMED.value,
        }
        sets = (
            "#st = :queued, disposition = :disposition, lastCallId = :call, lastCallVendor = :vendor, "
            "updatedAt = :now, #hold = :hold, attempt = attempt + :one, gsi1pk = :queue, gsi1sk = :contact"
        )
        if redial.vendor is not None:
            values[":next"] = redial.vendor
            sets += ", vendor = :next"
        return {
            "TableName": self.table_name,
            "Key": contact_key(outcome.campaign_id, outcome.contact_id),
            "UpdateExpression": f"SET {sets}{self._conversation_set(outcome, values, now)} REMOVE batchId, reason",
            "ConditionExpression": "#st IN (:submitting, :submitted, :unconfirmed) AND attempt < :max",
            "ExpressionAttributeNames": {"#st": "state", "#hold": "hold"},
            "ExpressionAttributeValues": to_item(values),
        }

    @staticmethod
    def _conversation_set(outcome: CallOutcome, values: dict[str, Any], now: dt.datetime) -> str:
        """Remember when the contact last talked: the quiet period after a conversation counts from it."""
        if not outcome.conversation:
            return ""
        values[":talked"] = (outcome.ended_at or outcome.answered_at or outcome.started_at or now).isoformat()
        return ", lastConversationAt = :talked"

    def _campaign_due_update(self, campaign_id: str, dial_date: dt.date) -> dict[str, Any]:
        """Due again for planning; a campaign due already keeps its earlier day."""
        return {
            "TableName": self.table_name,
            "Key": campaign_key(campaign_id),
            "UpdateExpression": "SET gsi1pk = :due, gsi1sk = if_not_exists(gsi1sk, :sk)",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": to_item({":due": DUE, ":sk": f"{dial_date.isoformat()}#{campaign_id}"}),
        }
