"""The only code that touches DynamoDB: one table, keys and indexes as template.yaml declares them.

Items (pk / sk):
  CAMPAIGN#<id> / CAMPAIGN                 campaign; in gsi1 as DUE / <dialDate>#<id> while it has queued contacts;
                                           in gsi2 as CAMPAIGNS / <createdAt>#<id> (the listing, newest first)
  CAMPAIGN#<id> / CONTACT#<contactId>      contact and its dial state; in gsi1 as QUEUE#<id> while queued
  CAMPAIGN#<id> / TASK#<vendor>#<date>     vendor task; in gsi1 as OPENTASK / <vendor>#<date>#<id> while open
  CALL#<vendor>#<vendorCallId> / CALL      one call outcome; in gsi2 as CONTACT#<campaign>#<contact> (history);
                                           once it closes its contact, in gsi3 as FEED / <recordedAt>#<vendor>#<id>
  CALL#<vendor>#<vendorCallId> / RAW#<at>  the vendor's payload that stored it (expires sooner than the outcome)
  SUPPRESSION#<e164> / SUPPRESSION         a number not to be called; expiresAt = its end, when it has one
  POLICY#<name> / POLICY                   a compliance policy (presets live in code and are not stored)
  PHONE#<e164> / DIAL#<at>#<campaign>#<contact>#<attempt>
                                           a request sent to a vendor for that number, counted as `calls`
  EXPORT#<exportId> / EXPORT               an export of a campaign's results and how far it has got

State moves are conditional writes, so a redelivered message, a retried callback or a racing poll can only
move a contact or an outcome forward, never back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Generic, TypeVar

import boto3
from boto3.dynamodb.types import DYNAMODB_CONTEXT, TypeDeserializer
from botocore.config import Config
from botocore.exceptions import ClientError

from dialhub.compliance import Policy
from dialhub.dispositions import CallStatus
from dialhub.models import (
    CallOutcome,
    Campaign,
    CampaignStatus,
    Contact,
    DialState,
    ExportJob,
    ExportProgress,
    ExportState,
    Hold,
    Suppression,
    VendorTask,
)
from dialhub.parallel import PARALLEL_WRITES, each

_deserializer = TypeDeserializer()
T = TypeVar("T")

BATCH_GET_LIMIT = 100
BATCH_WRITE_LIMIT = 25
RAW_PAYLOAD_LIMIT = 32_768  # bytes of a vendor payload kept (an item holds 400 KB)
DIAL_HISTORY_RETENTION = dt.timedelta(days=400)  # longer than any frequency-cap period (366 days at most)
DUE = "DUE"
OPEN_TASKS = "OPENTASK"
CAMPAIGNS = "CAMPAIGNS"
FEED = "FEED"
GSI_WORK = "gsi1"
GSI_LISTING = "gsi2"
GSI_FEED = "gsi3"
# A listing with filters reads on until its page is full, but no further than this many query pages (about a
# megabyte each) per request, so a filter that matches little answers in time with a cursor to go on from.
FILTERED_QUERY_PAGES = 8
# A write is committed or given up within ATTEMPTS x (CONNECT + READ) seconds plus the standard retry mode's
# backoff (at most 1 + 2 s before the 2nd and 3rd attempts): the outcome feed relies on that bound.
WRITE_ATTEMPTS = 3
CONNECT_TIMEOUT_SECONDS = 3
READ_TIMEOUT_SECONDS = 8
LONGEST_WRITE_SECONDS = WRITE_ATTEMPTS * (CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS) + 1 + 2


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class DialRecord:
    phone: str
    at: dt.datetime
    campaign_id: str
    contact_id: str
    attempt: int
    calls: int


@dataclass(frozen=True)
class RedialRequest:
    """The campaign policy's wish to call the contact again after a closing call (see record_outcome)."""

    hold: Hold  # reason "redial", until = from when
    max_attempts: int  # attempts in all: redialled only while the contact has made fewer
    dial_date: dt.date  # campaign-local day of the redial, to mark the campaign due


class RecordResult(StrEnum):
    STORED = "stored"  # new, or moved forward (e.g. in progress -> final)
    REDIAL = "redial"  # stored; its contact is queued again for the policy's next attempt
    DUPLICATE = "duplicate"  # nothing new: already final
    ORPHAN = "orphan"  # stored, but it moves no contact (unknown, or cancelled and the call never happened)


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing: its items in order, and where the next page starts (None: there is none)."""

    items: list[T]
    after: str | None


@dataclass(frozen=True)
class FeedPage:
    """Closing outcomes with when each was recorded; `position` is where the feed goes on from (the last entry
    read, or the position asked for when nothing was), `more` whether entries already follow it."""

    items: list[tuple[dt.datetime, CallOutcome]]
    position: str | None
    more: bool


@dataclass
class CampaignCounts:
    total: int = 0
    by_state: dict[str, int] = field(default_factory=dict)
    by_disposition: dict[str, int] = field(default_factory=dict)
    held_back: dict[str, int] = field(default_factory=dict)  # queued contacts held by compliance, by reason


def _attribute(value: Any) -> dict[str, Any]:
    """A JSON-like value as a DynamoDB attribute value: numbers exactly as DynamoDB holds them (a float by its
    shortest repr, as JSON writes it), anything else as its text."""
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        number = str(DYNAMODB_CONTEXT.create_decimal(repr(value) if isinstance(value, float) else value))
        if number in ("Infinity", "-Infinity", "NaN"):
            raise TypeError("Infinity and NaN not supported")
        return {"N": number}
    if value is None:
        return {"NULL": True}
    if isinstance(value, dict):
        return {"M": {str(key): _attribute(item) for key, item in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [_attribute(item) for item in value]}
    return {"S": str(value)}


def _to_item(data: dict[str, Any]) -> dict[str, Any]:
    """Attributes of an item (or expression values); a None value is left out."""
    return {key: _attribute(value) for key, value in data.items() if value is not None}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | set | tuple):
        return [_plain(v) for v in value]
    return value


def _from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _plain(_deserializer.deserialize(value)) for key, value in item.items()}


def _campaign_pk(campaign_id: str) -> str:
    return f"CAMPAIGN#{campaign_id}"


def _campaign_key(campaign_id: str) -> dict[str, Any]:
    return {"pk": {"S": _campaign_pk(campaign_id)}, "sk": {"S": "CAMPAIGN"}}


def _plain_key(key: dict[str, Any]) -> dict[str, str]:
    """A typed key as plain attributes, to start a whole item with it."""
    return {name: value["S"] for name, value in key.items()}


def _contact_key(campaign_id: str, contact_id: str) -> dict[str, Any]:
    return {"pk": {"S": _campaign_pk(campaign_id)}, "sk": {"S": f"CONTACT#{contact_id}"}}


def _call_key(vendor: str, vendor_call_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"CALL#{vendor}#{vendor_call_id}"}, "sk": {"S": "CALL"}}


def _task_key(campaign_id: str, vendor: str, local_date: dt.date) -> dict[str, Any]:
    return {"pk": {"S": _campaign_pk(campaign_id)}, "sk": {"S": f"TASK#{vendor}#{local_date.isoformat()}"}}


def _suppression_key(phone: str) -> dict[str, Any]:
    return {"pk": {"S": f"SUPPRESSION#{phone}"}, "sk": {"S": "SUPPRESSION"}}


def _stamp(moment: dt.datetime) -> str:
    """A UTC time that sorts as text (fixed width), for sort keys."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _history_pk(campaign_id: str, contact_id: str) -> str:
    return f"CONTACT#{campaign_id}#{contact_id}"


def _feed_key(vendor: str, vendor_call_id: str, recorded_at: dt.datetime) -> str:
    return f"{_stamp(recorded_at)}#{vendor}#{vendor_call_id}"


def _export_key(export_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"EXPORT#{export_id}"}, "sk": {"S": "EXPORT"}}


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _is_condition_failure(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code")) == "ConditionalCheckFailedException"


class Store:
    def __init__(
        self,
        table_name: str,
        client: Any = None,
        retention_days: int = 400,
        raw_retention_days: int = 30,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self.table_name = table_name
        self._client = client
        self.retention = dt.timedelta(days=retention_days)
        self.raw_retention = dt.timedelta(days=raw_retention_days)
        self.clock = clock  # stamps the outcome feed at the moment of writing, and bounds what it serves

    @property
    def client(self) -> Any:
        if self._client is None:
            # Requests are built here, one way each, and DynamoDB validates them anyway: botocore's own
            # parameter check would cost a stored callback more CPU than dialhub's code does (`make bench`).
            # One connection per write in flight (parallel.py), not botocore's 10 with the rest thrown away.
            # DynamoDB answers in milliseconds: bounded attempts (LONGEST_WRITE_SECONDS) instead of botocore's
            # ten attempts of up to a minute each, so a write that has not landed soon never will.
            self._client = boto3.client(
                "dynamodb",
                config=Config(
                    parameter_validation=False,
                    max_pool_connections=PARALLEL_WRITES,
                    connect_timeout=CONNECT_TIMEOUT_SECONDS,
                    read_timeout=READ_TIMEOUT_SECONDS,
                    retries={"mode": "standard", "max_attempts": WRITE_ATTEMPTS},
                ),
            )
        return self._client

    def _expires_at(self, now: dt.datetime) -> int:
        return int((now + self.retention).timestamp())

    def _update(
        self,
        key: dict[str, Any],
        sets: dict[str, Any],
        *,
        removes: Iterable[str] = (),
        condition: str | None = None,
        values: dict[str, Any] | None = None,
        names: dict[str, str] | None = None,
    ) -> bool:
        """SET attributes (a None value removes it) under an optional condition; False when it fails."""
        names = dict(names or {})
        values = dict(values or {})
        assignments, removals = [], []
        for index, (attr, value) in enumerate(sets.items()):
            names[f"#a{index}"] = attr
            if value is None:
                removals.append(f"#a{index}")
            else:
                values[f":a{index}"] = value
                assignments.append(f"#a{index} = :a{index}")
        for index, attr in enumerate(removes):
            names[f"#r{index}"] = attr
            removals.append(f"#r{index}")
        expression = " ".join(
            part
            for part in (
                "SET " + ", ".join(assignments) if assignments else "",
                "REMOVE " + ", ".join(removals) if removals else "",
            )
            if part
        )
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": key,
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
        }
        if values:
            kwargs["ExpressionAttributeValues"] = _to_item(values)
        if condition:
            kwargs["ConditionExpression"] = condition
        try:
            self.client.update_item(**kwargs)
        except ClientError as exc:
            if _is_condition_failure(exc):
                return False
            raise
        return True

    def _batch_get(
        self, keys: list[dict[str, Any]], projection: str | None = None, names: dict[str, str] | None = None
    ) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for chunk in _chunks(keys, BATCH_GET_LIMIT):
            request: dict[str, Any] = {"Keys": chunk, "ConsistentRead": True}
            if projection:
                request["ProjectionExpression"] = projection
                request["ExpressionAttributeNames"] = names or {}
            pending = {self.table_name: request}
            while pending:
                response = self.client.batch_get_item(RequestItems=pending)
                found.extend(_from_item(item) for item in response["Responses"].get(self.table_name, []))
                pending = response.get("UnprocessedKeys") or {}
        return found

    def _query(self, **kwargs: Any) -> Iterator[list[dict[str, Any]]]:
        kwargs["TableName"] = self.table_name
        while True:
            response = self.client.query(**kwargs)
            yield [_from_item(item) for item in response.get("Items", [])]
            if "LastEvaluatedKey" not in response:
                return
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _page(
        self, query: dict[str, Any], limit: int, start: dict[str, Any] | None, filtered: bool
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """Up to `limit` items from `start` on, and the key to go on from (None: nothing follows).

        Unfiltered, one request asks for one item more than the page, to know whether another page follows.
        Filtered, DynamoDB applies the filter after reading, so requests go on (each reading up to a
        megabyte) until the page is full, the items end, or FILTERED_QUERY_PAGES were read; the key is then
        the last item returned, or the last one DynamoDB read (a page may be short, even empty, yet go on).
        """
        request = {**query, "TableName": self.table_name}
        found: list[dict[str, Any]] = []
        for _ in range(FILTERED_QUERY_PAGES):
            if start is not None:
                request["ExclusiveStartKey"] = start
            if not filtered:
                request["Limit"] = limit + 1 - len(found)
            response = self.client.query(**request)
            start = response.get("LastEvaluatedKey")
            for item in response.get("Items", []):
                if len(found) == limit:  # one more than the page: the next page starts after the last kept
                    return found, self._key_of(found[-1], request)
                found.append(item)
            if start is None:
                return found, None
            if len(found) == limit:
                return found, self._key_of(found[-1], request)
        return found, start

    @staticmethod
    def _key_of(item: dict[str, Any], query: dict[str, Any]) -> dict[str, Any]:
        """An item's key in the table (and in the index the query reads), to start the next query after it."""
        names = ["pk", "sk"]
        if "IndexName" in query:
            names += [f"{query['IndexName']}pk", f"{query['IndexName']}sk"]
        return {name: item[name] for name in names}

    # ------------------------------------------------------------------ campaigns
    def create_campaign(self, campaign: Campaign) -> bool:
        """Store a new campaign; False when the id is taken."""
        item = {
            **_plain_key(_campaign_key(campaign.campaign_id)),
            **campaign.to_wire(),
            "gsi2pk": CAMPAIGNS,
            "gsi2sk": f"{_stamp(campaign.created_at)}#{campaign.campaign_id}",
            "expiresAt": self._expires_at(campaign.created_at),
        }
        try:
            self.client.put_item(
                TableName=self.table_name, Item=_to_item(item), ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as exc:
            if _is_condition_failure(exc):
                return False
            raise
        return True

    def get_campaign(self, campaign_id: str) -> Campaign | None:
        response = self.client.get_item(TableName=self.table_name, ConsistentRead=True, Key=_campaign_key(campaign_id))
        return Campaign.model_validate(_from_item(response["Item"])) if "Item" in response else None

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
            Key=_campaign_key(campaign.campaign_id),
            UpdateExpression=expression,
            ExpressionAttributeValues=_to_item(values),
        )

    def set_campaign_status(self, campaign_id: str, status: CampaignStatus) -> bool:
        """False when the campaign is cancelled already (cancelling is for good)."""
        return self._update(
            _campaign_key(campaign_id),
            {"status": status.value},
            condition="attribute_exists(pk) AND (attribute_not_exists(#status) OR #status <> :gone)",
            names={"#status": "status"},
            values={":gone": CampaignStatus.CANCELLED.value},
        )

    def clear_campaign_due(self, campaign_id: str, planned_on: dt.date | None = None) -> None:
        """Out of the due index; when planning takes it out, the day it was planned (the day it is running)."""
        sets = {"lastPlannedOn": planned_on.isoformat()} if planned_on else {}
        self._update(_campaign_key(campaign_id), sets, removes=("gsi1pk", "gsi1sk"))

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
        filters = {"#status": ("status", status.value if status else None), "#vendor": ("vendor", vendor)}
        self._add_filters(query, filters)
        start = None
        if after is not None:
            campaign_id = after.rsplit("#", 1)[-1]
            start = {**_campaign_key(campaign_id), "gsi2pk": {"S": CAMPAIGNS}, "gsi2sk": {"S": after}}
        items, key = self._page(query, limit, start, filtered=status is not None or vendor is not None)
        return Page([Campaign.model_validate(_from_item(item)) for item in items], key["gsi2sk"]["S"] if key else None)

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

    # ------------------------------------------------------------------ contacts
    def existing_contact_ids(self, campaign_id: str, contact_ids: list[str]) -> set[str]:
        keys = [_contact_key(campaign_id, cid) for cid in dict.fromkeys(contact_ids)]
        return {item["contactId"] for item in self._batch_get(keys, "contactId")}

    def add_contacts(self, contacts: list[Contact], now: dt.datetime) -> None:
        """Write new contacts (callers pass only ids that do not exist yet), queued for dialling."""
        for chunk in _chunks(contacts, BATCH_WRITE_LIMIT):
            requests = []
            for contact in chunk:
                item = {
                    **_plain_key(_contact_key(contact.campaign_id, contact.contact_id)),
                    **contact.to_wire(),
                    "gsi1pk": f"QUEUE#{contact.campaign_id}",
                    "gsi1sk": contact.contact_id,
                    "expiresAt": self._expires_at(now),
                }
                requests.append({"PutRequest": {"Item": _to_item(item)}})
            pending = {self.table_name: requests}
            while pending:
                response = self.client.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}

    def get_contact(self, campaign_id: str, contact_id: str) -> Contact | None:
        response = self.client.get_item(
            TableName=self.table_name, Key=_contact_key(campaign_id, contact_id), ConsistentRead=True
        )
        return Contact.model_validate(_from_item(response["Item"])) if "Item" in response else None

    def get_contacts(self, campaign_id: str, contact_ids: list[str]) -> dict[str, Contact]:
        keys = [_contact_key(campaign_id, cid) for cid in dict.fromkeys(contact_ids)]
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
            "ExpressionAttributeValues": {":pk": {"S": _campaign_pk(campaign_id)}, ":contact": {"S": "CONTACT#"}},
        }
        self._add_filters(
            query, {"#state": ("state", state.value if state else None), "#disposition": ("disposition", disposition)}
        )
        start = _contact_key(campaign_id, after) if after is not None else None
        items, key = self._page(query, limit, start, filtered=state is not None or disposition is not None)
        return Page(
            [Contact.model_validate(_from_item(item)) for item in items],
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
        counts = CampaignCounts()
        for page in self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :contact)",
            ExpressionAttributeValues={":pk": {"S": _campaign_pk(campaign_id)}, ":contact": {"S": "CONTACT#"}},
            ProjectionExpression="#state, disposition, #hold.reason",
            ExpressionAttributeNames={"#state": "state", "#hold": "hold"},
        ):
            for item in page:
                counts.total += 1
                state = item.get("state", "unknown")
                counts.by_state[state] = counts.by_state.get(state, 0) + 1
                if disposition := item.get("disposition"):
                    counts.by_disposition[disposition] = counts.by_disposition.get(disposition, 0) + 1
                if state == DialState.QUEUED.value and (reason := item.get("hold", {}).get("reason")):
                    counts.held_back[reason] = counts.held_back.get(reason, 0) + 1
        return counts

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
        leave_queue: bool = True,
    ) -> bool:
        """Move a contact forward if it is in one of `allowed_from` (and, with batch_id, in that batch)."""
        states = sorted({state.value for state in allowed_from})
        placeholders = {f":from{index}": state for index, state in enumerate(states)}
        condition = f"attribute_exists(pk) AND #st IN ({', '.join(placeholders)})"
        values: dict[str, Any] = dict(placeholders)
        if batch_id is not None:
            condition += " AND (attribute_not_exists(batchId) OR batchId = :batch OR #st <> :submitting)"
            values |= {":batch": batch_id, ":submitting": DialState.SUBMITTING.value}
        return self._update(
            _contact_key(campaign_id, contact_id),
            {"state": to.value, "updatedAt": now.isoformat(), **(sets or {})},
            removes=("gsi1pk", "gsi1sk") if leave_queue else (),
            condition=condition,
            values=values,
            names={"#st": "state"},
        )

    def requeue_contact(self, campaign_id: str, contact_id: str, now: dt.datetime, hold: Hold | None = None) -> bool:
        """Put a planned contact back in its campaign's queue: its campaign was paused, or compliance holds it."""
        return self._update(
            _contact_key(campaign_id, contact_id),
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

    def iter_contacts(self, campaign_id: str, states: Iterable[DialState]) -> Iterator[list[Contact]]:
        """Every contact of the campaign in one of these states, page by page."""
        wanted = sorted({state.value for state in states})
        placeholders = {f":s{index}": {"S": state} for index, state in enumerate(wanted)}
        for page in self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :contact)",
            FilterExpression=f"#st IN ({', '.join(placeholders)})",
            ExpressionAttributeNames={"#st": "state"},
            ExpressionAttributeValues={
                ":pk": {"S": _campaign_pk(campaign_id)},
                ":contact": {"S": "CONTACT#"},
                **placeholders,
            },
        ):
            yield [Contact.model_validate(item) for item in page]

    def hold_contact(self, campaign_id: str, contact_id: str, hold: Hold) -> bool:
        """Note on a queued contact why it stays queued (it is looked at again at the next planning run)."""
        return self._update(
            _contact_key(campaign_id, contact_id),
            {"hold": hold.to_wire()},
            condition="#st = :queued",
            names={"#st": "state"},
            values={":queued": DialState.QUEUED.value},
        )

    # ------------------------------------------------------------------ suppressions
    def put_suppression(self, suppression: Suppression, unless_for_good: bool = False) -> bool:
        """Store it; with `unless_for_good`, only where the number has no suppression without an end yet (so
        a repeated opt-out changes nothing). False when that kept the one there."""
        item = {**_plain_key(_suppression_key(suppression.phone)), **suppression.to_wire()}
        if suppression.until is not None:
            item["expiresAt"] = int(suppression.until.timestamp()) + 1  # DynamoDB TTL removes it some time after
        condition = (
            {
                "ConditionExpression": "attribute_not_exists(pk) OR attribute_exists(#until)",
                "ExpressionAttributeNames": {"#until": "until"},
            }
            if unless_for_good
            else {}
        )
        try:
            self.client.put_item(TableName=self.table_name, Item=_to_item(item), **condition)
        except ClientError as exc:
            if _is_condition_failure(exc):
                return False
            raise
        return True

    def delete_suppression(self, phone: str) -> Suppression | None:
        """The suppression removed, or None when the number was not suppressed."""
        response = self.client.delete_item(
            TableName=self.table_name, Key=_suppression_key(phone), ReturnValues="ALL_OLD"
        )
        return Suppression.model_validate(_from_item(response["Attributes"])) if "Attributes" in response else None

    def get_suppression(self, phone: str) -> Suppression | None:
        response = self.client.get_item(TableName=self.table_name, Key=_suppression_key(phone), ConsistentRead=True)
        return Suppression.model_validate(_from_item(response["Item"])) if "Item" in response else None

    def suppressions(self, phones: Iterable[str], now: dt.datetime) -> dict[str, Suppression]:
        """The active suppressions among these numbers (one read per 100 numbers)."""
        keys = [_suppression_key(phone) for phone in dict.fromkeys(phones)]
        found = (Suppression.model_validate(item) for item in self._batch_get(keys))
        return {item.phone: item for item in found if item.active(now)}

    # ------------------------------------------------------------------ dial history (frequency caps)
    def record_dials(self, dials: list[DialRecord], now: dt.datetime) -> None:
        """Remember requests sent per number, across campaigns and vendors (25 per write request)."""
        requests = []
        for dial in dials:
            item = {
                "pk": f"PHONE#{dial.phone}",
                "sk": f"DIAL#{_stamp(dial.at)}#{dial.campaign_id}#{dial.contact_id}#{dial.attempt}",
                "calls": dial.calls,
                "expiresAt": int((dial.at + DIAL_HISTORY_RETENTION).timestamp()),
            }
            requests.append({"PutRequest": {"Item": _to_item(item)}})
        for chunk in _chunks(requests, BATCH_WRITE_LIMIT):
            pending = {self.table_name: chunk}
            while pending:
                response = self.client.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}

    def dial_history(self, phone: str, since: dt.datetime) -> list[DialRecord]:
        """Every request sent to this number since the given time, from any campaign or vendor."""
        history: list[DialRecord] = []
        for page in self._query(
            KeyConditionExpression="pk = :pk AND sk BETWEEN :since AND :end",
            ExpressionAttributeValues={
                ":pk": {"S": f"PHONE#{phone}"},
                ":since": {"S": f"DIAL#{_stamp(since)}"},
                ":end": {"S": "DIAL#~"},
            },
        ):
            for item in page:
                _, stamp, campaign_id, contact_id, attempt = item["sk"].split("#")
                history.append(
                    DialRecord(
                        phone=phone,
                        at=dt.datetime.fromisoformat(stamp),
                        campaign_id=campaign_id,
                        contact_id=contact_id,
                        attempt=int(attempt),
                        calls=int(item["calls"]),
                    )
                )
        return history

    def last_conversations(self, contacts: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dt.datetime]:
        """When each of these (campaign, contact) last talked to someone, for those that have (one read per 100)."""
        keys = [_contact_key(campaign_id, contact_id) for campaign_id, contact_id in dict.fromkeys(contacts)]
        items = self._batch_get(keys, "campaignId, contactId, lastConversationAt") if keys else []
        return {
            (item["campaignId"], item["contactId"]): dt.datetime.fromisoformat(item["lastConversationAt"])
            for item in items
            if "lastConversationAt" in item
        }

    # ------------------------------------------------------------------ exports
    def create_export(self, job: ExportJob, expires_at: dt.datetime) -> None:
        item = {**_plain_key(_export_key(job.export_id)), **job.to_wire(), "expiresAt": int(expires_at.timestamp())}
        self.client.put_item(
            TableName=self.table_name, Item=_to_item(item), ConditionExpression="attribute_not_exists(pk)"
        )

    def get_export(self, export_id: str) -> ExportJob | None:
        response = self.client.get_item(TableName=self.table_name, Key=_export_key(export_id), ConsistentRead=True)
        return ExportJob.model_validate(_from_item(response["Item"])) if "Item" in response else None

    def claim_export(self, export_id: str, owner: str, until: dt.datetime, now: dt.datetime) -> ExportJob | None:
        """The running export, leased to `owner` until `until`; None when it is not running or another
        invocation holds a lease that has not ended."""
        try:
            response = self.client.update_item(
                TableName=self.table_name,
                Key=_export_key(export_id),
                ReturnValues="ALL_NEW",
                UpdateExpression="SET leaseOwner = :owner, leaseUntil = :until",
                ConditionExpression="#state = :running AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now)",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues=_to_item(
                    {
                        ":owner": owner,
                        ":until": _stamp(until),
                        ":now": _stamp(now),
                        ":running": ExportState.RUNNING.value,
                    }
                ),
            )
        except ClientError as exc:
            if _is_condition_failure(exc):
                return None
            raise
        return ExportJob.model_validate(_from_item(response["Attributes"]))

    def save_export_progress(self, export_id: str, owner: str, progress: ExportProgress, release: bool = False) -> bool:
        """Record how far the lease holder got (and, with `release`, give the lease up); False if it lost it."""
        return self._update(
            _export_key(export_id),
            {"progress": progress.to_wire()},
            removes=("leaseOwner", "leaseUntil") if release else (),
            condition="leaseOwner = :owner",
            values={":owner": owner},
        )

    def release_export(self, export_id: str, owner: str) -> bool:
        return self._update(
            _export_key(export_id),
            {},
            removes=("leaseOwner", "leaseUntil"),
            condition="leaseOwner = :owner",
            values={":owner": owner},
        )

    def finish_export(self, export_id: str, owner: str, progress: ExportProgress, now: dt.datetime) -> bool:
        return self._update(
            _export_key(export_id),
            {"state": ExportState.DONE.value, "progress": progress.to_wire(), "finishedAt": now.isoformat()},
            removes=("leaseOwner", "leaseUntil"),
            condition="leaseOwner = :owner",
            values={":owner": owner},
        )

    def fail_export(self, export_id: str, error: str, now: dt.datetime) -> bool:
        """A running export ends as failed (whoever holds it); False when it had ended already."""
        return self._update(
            _export_key(export_id),
            {"state": ExportState.FAILED.value, "error": error, "finishedAt": now.isoformat()},
            removes=("leaseOwner", "leaseUntil"),
            condition="#state = :running",
            names={"#state": "state"},
            values={":running": ExportState.RUNNING.value},
        )

    # ------------------------------------------------------------------ policies
    def put_policy(self, policy: Policy) -> None:
        item = {"pk": f"POLICY#{policy.name}", "sk": "POLICY", **policy.to_wire()}
        self.client.put_item(TableName=self.table_name, Item=_to_item(item))

    def get_policy(self, name: str) -> Policy | None:
        response = self.client.get_item(
            TableName=self.table_name, ConsistentRead=True, Key={"pk": {"S": f"POLICY#{name}"}, "sk": {"S": "POLICY"}}
        )
        return Policy.model_validate(_from_item(response["Item"])) if "Item" in response else None

    # ------------------------------------------------------------------ vendor tasks
    def get_task(self, campaign_id: str, vendor: str, local_date: dt.date) -> VendorTask | None:
        response = self.client.get_item(
            TableName=self.table_name, ConsistentRead=True, Key=_task_key(campaign_id, vendor, local_date)
        )
        return VendorTask.model_validate(_from_item(response["Item"])) if "Item" in response else None

    def create_task(self, task: VendorTask, now: dt.datetime) -> VendorTask:
        """Record a new vendor task; if another writer won the race, theirs is returned and used."""
        item = {
            **_plain_key(_task_key(task.campaign_id, task.vendor, task.local_date)),
            **task.to_wire(exclude={"job_ids"}),
            "gsi1pk": OPEN_TASKS,
            "gsi1sk": f"{task.vendor}#{task.local_date.isoformat()}#{task.campaign_id}",
            "expiresAt": self._expires_at(now),
        }
        try:
            self.client.put_item(
                TableName=self.table_name, Item=_to_item(item), ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as exc:
            if not _is_condition_failure(exc):
                raise
            existing = self.get_task(task.campaign_id, task.vendor, task.local_date)
            if existing is None:
                raise
            return existing
        return task

    def add_task_submissions(self, task: VendorTask, count: int, job_id: str | None = None) -> None:
        """Count accepted requests (and remember the vendor job they went into); reopens a closed task."""
        if count <= 0:
            return
        values: dict[str, Any] = {
            ":n": {"N": str(count)},
            ":open": {"S": OPEN_TASKS},
            ":true": {"BOOL": True},
            ":sk": {"S": f"{task.vendor}#{task.local_date.isoformat()}#{task.campaign_id}"},
        }
        adds = "ADD submitted :n"
        if job_id:
            adds += ", jobIds :job"
            values[":job"] = {"SS": [job_id]}
        self.client.update_item(
            TableName=self.table_name,
            Key=_task_key(task.campaign_id, task.vendor, task.local_date),
            UpdateExpression=f"{adds} SET gsi1pk = :open, gsi1sk = :sk, #open = :true",
            ExpressionAttributeNames={"#open": "open"},
            ExpressionAttributeValues=values,
        )

    def close_task(self, task: VendorTask) -> None:
        self._update(
            _task_key(task.campaign_id, task.vendor, task.local_date), {"open": False}, removes=("gsi1pk", "gsi1sk")
        )

    def campaign_tasks(self, campaign_id: str, vendor: str) -> list[VendorTask]:
        tasks: list[VendorTask] = []
        for page in self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :task)",
            ExpressionAttributeValues={":pk": {"S": _campaign_pk(campaign_id)}, ":task": {"S": f"TASK#{vendor}#"}},
        ):
            tasks.extend(VendorTask.model_validate(item) for item in page)
        return tasks

    def iter_open_tasks(self) -> Iterator[VendorTask]:
        for page in self._query(
            IndexName=GSI_WORK,
            KeyConditionExpression="gsi1pk = :open",
            ExpressionAttributeValues={":open": {"S": OPEN_TASKS}},
        ):
            yield from (VendorTask.model_validate(item) for item in page)

    # ------------------------------------------------------------------ outcomes
    def get_outcome(self, vendor: str, vendor_call_id: str) -> CallOutcome | None:
        response = self.client.get_item(
            TableName=self.table_name, Key=_call_key(vendor, vendor_call_id), ConsistentRead=True
        )
        return CallOutcome.model_validate(_from_item(response["Item"])) if "Item" in response else None

    def finished_calls(self, vendor: str, vendor_call_ids: list[str]) -> dict[str, bool]:
        """Which of these calls already have a final outcome stored, each with whether it can change no more
        (it closed its contact, or the policy redialled after it) (one read per 100 calls)."""
        keys = [_call_key(vendor, call_id) for call_id in dict.fromkeys(vendor_call_ids)]
        items = self._batch_get(keys, "vendorCallId, #final, closesContact, redialAt", {"#final": "final"})
        return {
            item["vendorCallId"]: bool(item.get("closesContact") or item.get("redialAt"))
            for item in items
            if item.get("final")
        }

    def closing_outcomes(self, calls: list[tuple[str, str]]) -> dict[tuple[str, str], CallOutcome]:
        """The stored outcomes of these (vendor, vendorCallId) calls, read 100 to a request, requests in parallel."""
        keys = [_call_key(vendor, call_id) for vendor, call_id in dict.fromkeys(calls)]
        outcomes = (
            CallOutcome.model_validate(item)
            for found in each(self._batch_get, list(_chunks(keys, BATCH_GET_LIMIT)))
            for item in found
        )
        return {(outcome.vendor, outcome.vendor_call_id): outcome for outcome in outcomes}

    def page_feed(self, limit: int, after: str | None, delay: dt.timedelta) -> FeedPage:
        """Closing outcomes in the order they were recorded, each with when, up to `delay` ago: a write takes
        at most LONGEST_WRITE_SECONDS to commit and reach the index, so nothing older can still appear
        before a position this method has already passed."""
        horizon = _stamp(self.clock() - delay)
        query = {
            "IndexName": GSI_FEED,
            "KeyConditionExpression": "gsi3pk = :feed AND gsi3sk < :horizon",
            "ExpressionAttributeValues": {":feed": {"S": FEED}, ":horizon": {"S": horizon}},
        }
        start = None
        if after is not None:
            _, vendor, call_id = after.split("#", 2)
            start = {**_call_key(vendor, call_id), "gsi3pk": {"S": FEED}, "gsi3sk": {"S": after}}
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
            ExpressionAttributeValues={":contact": {"S": _history_pk(campaign_id, contact_id)}},
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
            if _is_condition_failure(exc):
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
            **_plain_key(_call_key(outcome.vendor, outcome.vendor_call_id)),
            "sk": f"RAW#{_stamp(now)}",
            "body": raw[:RAW_PAYLOAD_LIMIT].decode("utf-8", errors="replace"),
            "receivedAt": now.isoformat(),
            "expiresAt": int((now + self.raw_retention).timestamp()),
        }
        return {"TableName": self.table_name, "Item": _to_item(item)}

    def _outcome_update(self, outcome: CallOutcome, now: dt.datetime, closing: bool = False) -> dict[str, Any]:
        """The outcome's conditional write; `closing` (written with the move of its contact to FINAL) also
        puts it in the outcome feed, stamped now: a closing outcome is final, so it is written only once."""
        data = outcome.to_wire()
        data.pop("firstSeenAt", None)
        data["lastUpdatedAt"] = now.isoformat()
        data["final"] = outcome.final
        data["expiresAt"] = self._expires_at(now)
        if outcome.campaign_id and outcome.contact_id:
            data["gsi2pk"] = _history_pk(outcome.campaign_id, outcome.contact_id)
            started = outcome.started_at.isoformat() if outcome.started_at else now.isoformat()
            data["gsi2sk"] = f"{started}#{outcome.vendor_call_id}"
        if closing:
            data["gsi3pk"] = FEED
            data["gsi3sk"] = _feed_key(outcome.vendor, outcome.vendor_call_id, self.clock())
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
            "Key": _call_key(outcome.vendor, outcome.vendor_call_id),
            "UpdateExpression": "SET " + ", ".join([*sets, "#first = if_not_exists(#first, :now)"]),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": _to_item(values),
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
            "Key": _contact_key(outcome.campaign_id, outcome.contact_id),
            "UpdateExpression": f"SET {sets}{self._conversation_set(outcome, values, now)} REMOVE gsi1pk, gsi1sk",
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#st": "state"},
            "ExpressionAttributeValues": _to_item(values),
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
        }
        sets = (
            "#st = :queued, disposition = :disposition, lastCallId = :call, lastCallVendor = :vendor, "
            "updatedAt = :now, #hold = :hold, attempt = attempt + :one, gsi1pk = :queue, gsi1sk = :contact"
        )
        return {
            "TableName": self.table_name,
            "Key": _contact_key(outcome.campaign_id, outcome.contact_id),
            "UpdateExpression": f"SET {sets}{self._conversation_set(outcome, values, now)} REMOVE batchId",
            "ConditionExpression": "#st IN (:submitting, :submitted) AND attempt < :max",
            "ExpressionAttributeNames": {"#st": "state", "#hold": "hold"},
            "ExpressionAttributeValues": _to_item(values),
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
            "Key": _campaign_key(campaign_id),
            "UpdateExpression": "SET gsi1pk = :due, gsi1sk = if_not_exists(gsi1sk, :sk)",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": _to_item({":due": DUE, ":sk": f"{dial_date.isoformat()}#{campaign_id}"}),
        }
