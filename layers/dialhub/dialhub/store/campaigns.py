"""Campaigns and their contacts: the listing, the due index, the queue and each contact's dial state."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from botocore.exceptions import ClientError

from dialhub.models import (
    CLAIMABLE,
    Campaign,
    CampaignStatus,
    Contact,
    DialState,
    FailoverCause,
    Hold,
    VendorTask,
)
from dialhub.store.codec import from_item, to_item
from dialhub.store.counting import CampaignCounts, add_up, counts_from
from dialhub.store.keys import (
    CAMPAIGNS,
    CLAIM_SHARDS,
    DUE,
    GSI_LISTING,
    GSI_WORK,
    campaign_key,
    campaign_pk,
    claim_index,
    claim_partition,
    contact_key,
    plain_key,
    stamp,
)
from dialhub.store.table import BATCH_WRITE_LIMIT, Page, Table, chunks, is_condition_failure


class CampaignTable(Table):
    def create_campaign(self, campaign: Campaign) -> bool:
        """Store a new campaign; False when the id is taken."""
        item = {
            **plain_key(campaign_key(campaign.campaign_id)),
            **campaign.to_wire(),
            "gsi2pk": CAMPAIGNS,
            "gsi2sk": f"{stamp(campaign.created_at)}#{campaign.campaign_id}",
            "expiresAt": self._expires_at(campaign.created_at),
            "vendorList": _vendor_list(share.vendor for share in campaign.vendors),
        }
        try:
            self.client.put_item(
                TableName=self.table_name, Item=to_item(item), ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def get_campaign(self, campaign_id: str) -> Campaign | None:
        response = self.client.get_item(TableName=self.table_name, ConsistentRead=True, Key=campaign_key(campaign_id))
        return Campaign.model_validate(from_item(response["Item"])) if "Item" in response else None

    def mark_campaign_due(
        self, campaign: Campaign, dial_date: dt.date, running: bool = False, new_contacts: int = 0
    ) -> None:
        """Due on that day; `running` also counts it as planned that day, for the frequent re-planning run;
        `new_contacts` were just taken in, and are counted in the same write."""
        values: dict[str, Any] = {
            ":date": dial_date.isoformat(),
            ":due": DUE,
            ":sk": f"{dial_date.isoformat()}#{campaign.campaign_id}",
        }
        sets = "dialDate = :date, gsi1pk = :due, gsi1sk = :sk"
        if running:
            sets += ", lastPlannedOn = :date"
        expression = f"SET {sets}"
        if new_contacts:
            expression += " ADD totalContacts :added"
            values[":added"] = new_contacts
        self.client.update_item(
            TableName=self.table_name,
            Key=campaign_key(campaign.campaign_id),
            UpdateExpression=expression,
            ExpressionAttributeValues=to_item(values),
        )

    def set_campaign_status(self, campaign_id: str, status: CampaignStatus) -> bool:
        """False when the campaign is cancelled already (cancelling is for good)."""
        return self._update(
            campaign_key(campaign_id),
            {"status": status.value},
            condition="attribute_exists(pk) AND (attribute_not_exists(#status) OR #status <> :gone)",
            names={"#status": "status"},
            values={":gone": CampaignStatus.CANCELLED.value},
        )

    def clear_campaign_due(self, campaign_id: str, planned_on: dt.date | None = None) -> None:
        """Out of the due index; when planning takes it out, the day it was planned (the day it is running)."""
        sets = {"lastPlannedOn": planned_on.isoformat()} if planned_on else {}
        self._update(campaign_key(campaign_id), sets, removes=("gsi1pk", "gsi1sk"))

    def iter_due_campaigns(self, up_to: dt.date) -> Iterator[Campaign]:
        """Campaigns with queued contacts whose dial date is on or before `up_to`."""
        for page in self._query(
            IndexName=GSI_WORK,
            KeyConditionExpression="gsi1pk = :due AND gsi1sk <= :upto",
            ExpressionAttributeValues={":due": {"S": DUE}, ":upto": {"S": f"{up_to.isoformat()}#~"}},
        ):
            yield from (Campaign.model_validate(item) for item in page)

    def page_campaigns(
        self, limit: int, after: str | None = None, status: CampaignStatus | None = None, vendor: str | None = None
    ) -> Page[Campaign]:
        """Campaigns newest first; `after` is a position this method returned (the listing's sort key)."""
        query: dict[str, Any] = {
            "IndexName": GSI_LISTING,
            "KeyConditionExpression": "gsi2pk = :campaigns",
            "ScanIndexForward": False,
            "ExpressionAttributeValues": {":campaigns": {"S": CAMPAIGNS}},
        }
        self._add_filters(query, {"#status": ("status", status.value if status else None)})
        if vendor is not None:  # any of its vendors: the split's or a fallback (older campaigns: their one vendor)
            query["FilterExpression"] = " AND ".join(
                [*filter(None, [query.get("FilterExpression")]), "(#vendor = :vendor OR contains(#vendors, :listed))"]
            )
            query["ExpressionAttributeNames"] = query.get("ExpressionAttributeNames", {}) | {
                "#vendor": "vendor",
                "#vendors": "vendorList",
            }
            query["ExpressionAttributeValues"] |= {":vendor": {"S": vendor}, ":listed": {"S": _vendor_list([vendor])}}
        start = None
        if after is not None:
            campaign_id = after.rsplit("#", 1)[-1]
            start = {**campaign_key(campaign_id), "gsi2pk": {"S": CAMPAIGNS}, "gsi2sk": {"S": after}}
        items, key = self._page(query, limit, start, filtered=status is not None or vendor is not None)
        return Page([Campaign.model_validate(from_item(item)) for item in items], key["gsi2sk"]["S"] if key else None)

    @staticmethod
    def _add_filters(query: dict[str, Any], filters: dict[str, tuple[str, str | None]]) -> None:
        """An equality FilterExpression over the given attributes (placeholder -> (name, value)); None: unset."""
        wanted = {placeholder: item for placeholder, item in filters.items() if item[1] is not None}
        if not wanted:
            return
        query["FilterExpression"] = " AND ".join(f"{placeholder} = :{placeholder[1:]}" for placeholder in wanted)
        query["ExpressionAttributeNames"] = {placeholder: name for placeholder, (name, _) in wanted.items()}
        query["ExpressionAttributeValues"] |= {
            f":{placeholder[1:]}": {"S": value} for placeholder, (_, value) in wanted.items()
        }

    def existing_contact_ids(self, campaign_id: str, contact_ids: list[str]) -> set[str]:
        keys = [contact_key(campaign_id, cid) for cid in dict.fromkeys(contact_ids)]
        return {item["contactId"] for item in self._batch_get(keys, "contactId")}

    def add_contacts(self, contacts: list[Contact], now: dt.datetime) -> None:
        """Write new contacts (callers pass only ids that do not exist yet), queued for dialling."""
        for chunk in chunks(contacts, BATCH_WRITE_LIMIT):
            requests = []
            for contact in chunk:
                item = {
                    **plain_key(contact_key(contact.campaign_id, contact.contact_id)),
                    **contact.to_wire(),
                    "gsi1pk": f"QUEUE#{contact.campaign_id}",
                    "gsi1sk": contact.contact_id,
                    "expiresAt": self._expires_at(now),
                }
                requests.append({"PutRequest": {"Item": to_item(item)}})
            pending = {self.table_name: requests}
            while pending:
                response = self.client.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}

    def get_contact(self, campaign_id: str, contact_id: str) -> Contact | None:
        response = self.client.get_item(
            TableName=self.table_name, Key=contact_key(campaign_id, contact_id), ConsistentRead=True
        )
        return Contact.model_validate(from_item(response["Item"])) if "Item" in response else None

    def get_contacts(self, campaign_id: str, contact_ids: list[str]) -> dict[str, Contact]:
        keys = [contact_key(campaign_id, cid) for cid in dict.fromkeys(contact_ids)]
        contacts = (Contact.model_validate(item) for item in self._batch_get(keys))
        return {contact.contact_id: contact for contact in contacts}

    def page_contacts(
        self,
        campaign_id: str,
        limit: int,
        after: str | None = None,
        state: DialState | None = None,
        disposition: str | None = None,
    ) -> Page[Contact]:
        """A campaign's contacts in contactId order; `after` is the contactId the previous page ended on."""
        query: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :contact)",
            "ExpressionAttributeValues": {":pk": {"S": campaign_pk(campaign_id)}, ":contact": {"S": "CONTACT#"}},
        }
        self._add_filters(
            query, {"#state": ("state", state.value if state else None), "#disposition": ("disposition", disposition)}
        )
        start = contact_key(campaign_id, after) if after is not None else None
        items, key = self._page(query, limit, start, filtered=state is not None or disposition is not None)
        return Page(
            [Contact.model_validate(from_item(item)) for item in items],
            key["sk"]["S"].removeprefix("CONTACT#") if key else None,
        )

    def iter_queued_contacts(self, campaign_id: str) -> Iterator[list[Contact]]:
        for page in self._query(
            IndexName=GSI_WORK,
            KeyConditionExpression="gsi1pk = :queue",
            ExpressionAttributeValues={":queue": {"S": f"QUEUE#{campaign_id}"}},
        ):
            yield [Contact.model_validate(item) for item in page]

    def campaign_counts(self, campaign_id: str) -> CampaignCounts:
        """The full recount: every contact of the campaign read (the live counters' repair path)."""
        totals: dict[str, int] = {}
        for page in self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :contact)",
            ExpressionAttributeValues={":pk": {"S": campaign_pk(campaign_id)}, ":contact": {"S": "CONTACT#"}},
            ProjectionExpression=(
                "#state, disposition, #hold.reason, lastCallVendor, vendor, failedOverFrom, failoverCause, sweptAt"
            ),
            ExpressionAttributeNames={"#state": "state", "#hold": "hold"},
        ):
            add_up(totals, page)
        return counts_from(totals)

    def move_contact(
        self,
        campaign_id: str,
        contact_id: str,
        to: DialState,
        *,
        allowed_from: Iterable[DialState],
        now: dt.datetime,
        sets: dict[str, Any] | None = None,
        batch_id: str | None = None,
    ) -> bool:
        """Move a contact forward if it is in one of `allowed_from` (and, with batch_id, in that batch); it leaves
        the work index (its campaign's queue, or the claims in flight) unless `sets` puts it back there."""
        states = sorted({state.value for state in allowed_from})
        placeholders = {f":from{index}": state for index, state in enumerate(states)}
        condition = f"attribute_exists(pk) AND #st IN ({', '.join(placeholders)})"
        values: dict[str, Any] = dict(placeholders)
        if batch_id is not None:
            condition += " AND (attribute_not_exists(batchId) OR batchId = :batch OR #st <> :submitting)"
            values |= {":batch": batch_id, ":submitting": DialState.SUBMITTING.value}
        return self._update(
            contact_key(campaign_id, contact_id),
            {"state": to.value, "updatedAt": now.isoformat(), **(sets or {})},
            removes=() if "gsi1pk" in (sets or {}) else ("gsi1pk", "gsi1sk"),
            condition=condition,
            values=values,
            names={"#st": "state"},
        )

    def claim_contact(
        self, contact: Contact, batch_id: str, task: VendorTask, claimed_at: dt.datetime, now: dt.datetime
    ) -> bool:
        """Claim a contact for this batch and task before its request goes out (a redelivery of the batch claims
        it again). The claim is indexed by its time until a move settles it, so one never settled is found by
        the sweep."""
        index_pk, index_sk = claim_index(contact.contact_id, claimed_at)
        return self.move_contact(
            contact.campaign_id,
            contact.contact_id,
            DialState.SUBMITTING,
            allowed_from=CLAIMABLE,
            now=now,
            batch_id=batch_id,
            sets={
                "batchId": batch_id,
                "vendorTaskId": task.vendor_task_id,
                "vendorTaskDate": task.local_date.isoformat(),
                "claimedAt": claimed_at.isoformat(),
                "gsi1pk": index_pk,
                "gsi1sk": index_sk,
            },
        )

    def iter_stuck_claims(self, claimed_before: dt.datetime, since: dt.datetime) -> Iterator[list[Contact]]:
        """Contacts still claimed (SUBMITTING) that were claimed between `since` and `claimed_before`."""
        day = since.astimezone(dt.UTC).date()
        while day <= claimed_before.astimezone(dt.UTC).date():
            for shard in range(CLAIM_SHARDS):
                for page in self._query(
                    IndexName=GSI_WORK,
                    KeyConditionExpression="gsi1pk = :claims AND gsi1sk BETWEEN :since AND :before",
                    FilterExpression="#st = :submitting",
                    ExpressionAttributeNames={"#st": "state"},
                    ExpressionAttributeValues={
                        ":claims": {"S": claim_partition(day, shard)},
                        ":since": {"S": stamp(since)},
                        ":before": {"S": stamp(claimed_before)},
                        ":submitting": {"S": DialState.SUBMITTING.value},
                    },
                ):
                    if page:
                        yield [Contact.model_validate(item) for item in page]
            day += dt.timedelta(days=1)

    def requeue_contact(self, campaign_id: str, contact_id: str, now: dt.datetime, hold: Hold | None = None) -> bool:
        """Put a planned contact back in its campaign's queue: its campaign was paused, or compliance holds it."""
        return self._update(
            contact_key(campaign_id, contact_id),
            {
                "state": DialState.QUEUED.value,
                "updatedAt": now.isoformat(),
                "batchId": None,
                "hold": hold.to_wire() if hold else None,
                "gsi1pk": f"QUEUE#{campaign_id}",
                "gsi1sk": contact_id,
            },
            condition="#st IN (:queued, :planned)",
            names={"#st": "state"},
            values={":queued": DialState.QUEUED.value, ":planned": DialState.PLANNED.value},
        )

    def fail_over_contact(
        self,
        contact: Contact,
        batch_id: str,
        from_vendor: str,
        to_vendor: str,
        cause: FailoverCause,
        reason: str,
        now: dt.datetime,
    ) -> bool:
        """Back in the queue for the fallback vendor, from the vendor that never took it: only while it is still
        that vendor's (a contact stored before splits is its campaign's first vendor's) and not yet sent, or
        claimed by this very batch, whose submission failed; never a contact another claim holds."""
        return self._update(
            contact_key(contact.campaign_id, contact.contact_id),
            {
                "state": DialState.QUEUED.value,
                "vendor": to_vendor,
                "failedOverFrom": from_vendor,
                "failoverCause": cause.value,
                "failoverReason": reason[:500],
                "updatedAt": now.isoformat(),
                "batchId": None,
                "hold": None,
                "claimedAt": None,
                "vendorTaskId": None,
                "vendorTaskDate": None,
                "gsi1pk": f"QUEUE#{contact.campaign_id}",
                "gsi1sk": contact.contact_id,
            },
            condition="(#vendor = :from OR attribute_not_exists(#vendor)) AND "
            "(#st IN (:queued, :planned) OR (#st = :submitting AND batchId = :batch))",
            names={"#st": "state", "#vendor": "vendor"},
            values={
                ":from": from_vendor,
                ":batch": batch_id,
                ":queued": DialState.QUEUED.value,
                ":planned": DialState.PLANNED.value,
                ":submitting": DialState.SUBMITTING.value,
            },
        )

    def iter_contacts(self, campaign_id: str, states: Iterable[DialState]) -> Iterator[list[Contact]]:
        """Every contact of the campaign in one of these states, page by page."""
        wanted = sorted({state.value for state in states})
        placeholders = {f":s{index}": {"S": state} for index, state in enumerate(wanted)}
        for page in self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :contact)",
            FilterExpression=f"#st IN ({', '.join(placeholders)})",
            ExpressionAttributeNames={"#st": "state"},
            ExpressionAttributeValues={
                ":pk": {"S": campaign_pk(campaign_id)},
                ":contact": {"S": "CONTACT#"},
                **placeholders,
            },
        ):
            yield [Contact.model_validate(item) for item in page]

    def hold_contact(self, campaign_id: str, contact_id: str, hold: Hold) -> bool:
        """Note on a queued contact why it stays queued (it is looked at again at the next planning run)."""
        return self._update(
            contact_key(campaign_id, contact_id),
            {"hold": hold.to_wire()},
            condition="#st = :queued",
            names={"#st": "state"},
            values={":queued": DialState.QUEUED.value},
        )


def _vendor_list(vendors: Iterable[str]) -> str:
    """Every vendor of a campaign in one string ("|blu|airudder|"), so a filter can ask whether it holds one."""
    return "|" + "|".join(vendors) + "|"
