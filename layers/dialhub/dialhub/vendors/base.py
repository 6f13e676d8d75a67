"""The one interface every vendor adapter implements, and the types that cross it.

An adapter speaks HTTP to its vendor and returns models; it never touches DynamoDB. Adding a vendor is
adding one module in this package that defines `ADAPTER`, a class satisfying `VendorAdapter`.

httpx and stamina are imported where a request is sent, not here: the webhooks function imports this module
to read and store callbacks, which needs neither, and every cold start would pay for them (`make bench`).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Protocol
from zoneinfo import ZoneInfo

from pydantic import AfterValidator

from dialhub.models import CallOutcome, Campaign, Contact, VendorTask

if TYPE_CHECKING:
    import httpx

HTTP_TIMEOUT_SECONDS = 10.0
HTTP_CONNECT_TIMEOUT_SECONDS = 5.0
TRANSIENT_HTTP_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
# Answers saying the request was not handled: timeout before it was read, too early, slow down, unavailable. A 500
# may come after the vendor's application acted, and a gateway's 502 or 504 says nothing about what went on behind
# it, so those leave a request in doubt.
NOT_HANDLED_HTTP_STATUSES = frozenset({408, 425, 429, 503})
ACCOUNT_REFUSED_HTTP_STATUSES = frozenset({401, 403})  # our credentials or permissions, not the request


class VendorError(Exception):
    """Base of every vendor failure; `reason` is safe to show to an operator and store on a contact."""

    def __init__(self, vendor: str, reason: str) -> None:
        super().__init__(f"{vendor}: {reason}")
        self.vendor = vendor
        self.reason = reason


class VendorUnavailable(VendorError):
    """Timeout, connection failure, 5xx or throttling that outlived the retries: try again later.

    `maybe_received` is False only when no try can have reached the vendor's application: every one failed to
    connect or was answered with a status saying it was not handled. Only then may the requests go to another
    vendor."""

    def __init__(self, vendor: str, reason: str, maybe_received: bool = True) -> None:
        super().__init__(vendor, reason)
        self.maybe_received = maybe_received


class VendorRejected(VendorError):
    """The vendor answered and said no; retrying the same request will not help.

    `account_refused`: it refused our account (credentials, signature, permission), not what was asked, so
    none of the request's contacts is at fault and another vendor may take them."""

    def __init__(self, vendor: str, code: str | int | None, message: str, account_refused: bool = False) -> None:
        super().__init__(vendor, f"{vendor} error {code}: {message}" if code is not None else message)
        self.code = code
        self.message = message
        self.account_refused = account_refused


class CallbackRejected(ValueError):
    """A callback body we cannot read; answered 400 and nothing is stored."""


@dataclass(frozen=True)
class DialRequest:
    """What a vendor needs to dial one contact once."""

    campaign_id: str
    contact_id: str
    attempt: int
    phone: str  # E.164
    name: str
    variables: Mapping[str, Any]
    vendor_record_id: str | None = None  # once submitted: the vendor's id for this request
    vendor_job_id: str | None = None  # once submitted: the vendor-side job or task it went into

    @classmethod
    def for_contact(cls, contact: Contact) -> DialRequest:
        return cls(
            contact.campaign_id,
            contact.contact_id,
            contact.attempt,
            contact.phone,
            contact.name,
            contact.variables,
            contact.vendor_record_id,
            contact.vendor_job_id,
        )


@dataclass(frozen=True)
class Submission:
    """One chunk of at most `batch_limit` requests for a campaign's task of the day.

    `key` is the same on every redelivery of the same chunk: a vendor that creates something per submission
    (a job, a task) derives its idempotency key or unique name from it.
    """

    campaign: Campaign
    task: VendorTask
    requests: list[DialRequest]
    key: str


@dataclass
class SubmitResult:
    """Per-contact result of one submission: accepted (with the vendor's record id), rejected (why), or
    unconfirmed (with the record id): the vendor's own counts or lists disagree with what was sent, so it
    may or may not hold the request. An unconfirmed contact is never sent again; the poller settles it
    from the vendor's results, and fails it at the horizon when none comes. `mismatches` says, for the
    log and the `VendorAnswerMismatch` metric, what disagreed (no phone numbers)."""

    accepted: dict[str, str] = field(default_factory=dict)
    rejected: dict[str, str] = field(default_factory=dict)
    unconfirmed: dict[str, str] = field(default_factory=dict)
    mismatches: list[str] = field(default_factory=list)
    job_id: str | None = None  # the vendor's id for this submission; kept on the task and polled with it

    def doubt(self, what: str, record_ids: dict[str, str]) -> None:
        """The vendor's answer disagrees with the request for these contacts: none of them counts as accepted."""
        self.mismatches.append(what)
        for contact_id, record_id in list(record_ids.items()):  # record_ids may be `self.accepted` itself
            self.accepted.pop(contact_id, None)
            if contact_id not in self.rejected:
                self.unconfirmed[contact_id] = record_id


class TaskAction(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"  # stop the task for good: nothing not yet dialled is dialled


@dataclass(frozen=True)
class InboundCallback:
    """A vendor's HTTP request to us, as received (raw bytes: signatures are over the raw body)."""

    kind: str  # "" for /webhooks/{vendor}, else the {kind} path segment
    body: bytes
    headers: Mapping[str, str]  # lower-case names
    query: Mapping[str, str]
    source_ip: str


@dataclass(frozen=True)
class OutcomeReport:
    """A callback that reports call outcomes (possibly none, e.g. a status ping).

    `unread` counts entries that should have been call results but carry none we can store (no call id):
    an adapter sets it only where its vendor retries a callback answered with anything but success, so the
    result comes again (or is found by polling) instead of being acknowledged as if it had been stored."""

    outcomes: list[CallOutcome]
    unread: int = 0


@dataclass(frozen=True)
class PredialQuestion:
    """A vendor asking, just before dialling, whether this contact may still be called."""

    campaign_id: str | None
    contact_id: str | None


@dataclass(frozen=True)
class Reply:
    """The HTTP answer a vendor expects."""

    status: int
    body: dict[str, Any]


class VendorAdapter(Protocol):
    name: ClassVar[str]
    batch_limit: int  # requests per submission (and per dispatch message); may come from the account

    @classmethod
    def from_account(cls, account: dict[str, Any], http: httpx.Client | None = None) -> VendorAdapter:
        """Build from the vendor's account secret (raises pydantic.ValidationError when incomplete)."""

    def today(self) -> dt.date:
        """The vendor account's local date (vendor tasks live per local day)."""

    def day_starts(self, local_date: dt.date) -> dt.datetime:
        """When that account-local day begins, in UTC."""

    @classmethod
    def contact_problem(cls, contact: Contact, options: dict[str, Any]) -> str | None:
        """Why this vendor cannot take the contact under the campaign's (validated) vendor options, or None:
        characters it refuses, a script variable missing... checked before any vendor round trip."""

    @classmethod
    def calls_per_request(cls, options: dict[str, Any]) -> int:
        """The most calls the vendor may make for one request, its own redials included: a frequency cap
        counts every request as this many calls, so the vendor's redials can never break the cap."""

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> dict[str, Any]:
        """Campaign vendor options checked (raises pydantic.ValidationError) and normalised."""

    def create_task(self, campaign: Campaign, local_date: dt.date) -> str:
        """Create the vendor task for this campaign and day; returns the vendor task id."""

    def submit(self, submission: Submission) -> SubmitResult:
        """Send at most `batch_limit` dial requests. Safe to repeat with the same submission key."""

    def cancel(self, task: VendorTask, request: DialRequest) -> None:
        """Stop a submitted, not yet dialled request (raises VendorRejected when it is too late)."""

    def control_task(self, task: VendorTask, action: TaskAction) -> bool:
        """Pause, resume or cancel the whole vendor task; False when the vendor has no such operation."""

    def results(self, task: VendorTask) -> Iterator[list[CallOutcome]]:
        """Every known outcome of the task (and of its jobs), page by page."""

    def task_complete(self, task: VendorTask, closed_contacts: int) -> bool:
        """Whether polling the task can stop, given how many contacts its results have closed."""

    def authenticate(self, callback: InboundCallback) -> bool:
        """Whether the callback really comes from this vendor account."""

    def parse_callback(self, callback: InboundCallback) -> OutcomeReport | PredialQuestion:
        """Read a callback (raises CallbackRejected when unreadable, KeyError for an unknown kind)."""

    def acknowledge(self, callback: InboundCallback) -> Reply:
        """The answer the vendor expects once the outcome is stored."""

    def predial_reply(self, allow: bool) -> Reply:
        """The answer to a pre-dial question."""


class AccountAdapter:
    """What every HTTP adapter shares: its account (with `base_url` and `timezone`), an HTTP client built on
    first use (tests pass one bound to a simulator), and a clock read in the account's time zone."""

    http_read_seconds: ClassVar[float] = HTTP_TIMEOUT_SECONDS  # a vendor whose answers take longer says so
    http_timeout: ClassVar[httpx.Timeout | None] = None  # a whole timeout, set by the local stack to shorten it

    def __init__(
        self, account: Any, http: httpx.Client | None = None, clock: Callable[[], dt.datetime] | None = None
    ) -> None:
        self.account = account
        self._zone = ZoneInfo(account.timezone)
        self._http = http
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            import httpx

            timeout = self.http_timeout or httpx.Timeout(self.http_read_seconds, connect=HTTP_CONNECT_TIMEOUT_SECONDS)
            self._http = httpx.Client(base_url=self.account.base_url, timeout=timeout)
        return self._http

    def today(self) -> dt.date:
        return self._clock().astimezone(self._zone).date()

    def day_starts(self, local_date: dt.date) -> dt.datetime:
        return dt.datetime.combine(local_date, dt.time(), self._zone).astimezone(dt.UTC)


def _networks(value: list[str]) -> list[str]:
    for network in value:
        ipaddress.ip_network(network, strict=False)  # the ValueError names the bad entry
    return value


IpAllowlist = Annotated[list[str], AfterValidator(_networks)]  # CIDRs callbacks may come from; empty = any


MAX_CALL_SECONDS = 86_400  # no call lasts a day: a longer "duration" is not believed


def call_seconds(value: Any) -> int | None:
    """A call duration in whole seconds, from a number or digits; None for anything that is not a plausible
    one (NaN, inf, "²", a year), so a vendor's nonsense is stored as unknown rather than crashing the write."""
    if isinstance(value, str):
        text = value.strip()
        value = int(text) if text.isdecimal() and len(text) <= 9 else None
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 <= value <= MAX_CALL_SECONDS
    ):
        return int(value)
    return None


def vendor_count(value: Any) -> int | None:
    """A count as a vendor may send it, a JSON integer or its digits as text; None for anything else, which
    is no count at all (and so never evidence that every request was taken)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdecimal() and len(value.strip()) <= 9:
        return int(value.strip())
    return None


def source_ip_allowed(source_ip: str, allowlist: list[str]) -> bool:
    """An empty allowlist admits everyone; otherwise the source must be inside one of the networks."""
    if not allowlist:
        return True
    try:
        address = ipaddress.ip_address(source_ip)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network, strict=False) for network in allowlist)


def _transient(exc: Exception) -> bool:
    import httpx

    if isinstance(exc, httpx.TransportError):  # timeouts, resets, refused connections
        return True
    return isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code in TRANSIENT_HTTP_STATUSES


def post_json(
    vendor: str, client: httpx.Client, path: str, *, content: bytes, headers: Callable[[], dict[str, str]]
) -> dict[str, Any]:
    """POST with retries and backoff on transient failures; headers are rebuilt per try (fresh timestamps).

    Raises VendorUnavailable when the retries are spent and VendorRejected for a permanent HTTP error.
    """
    return _json_with_retries(vendor, lambda: client.post(path, content=content, headers=headers()))


def get_json(
    vendor: str, client: httpx.Client, path: str, *, params: Mapping[str, str], headers: Callable[[], dict[str, str]]
) -> dict[str, Any]:
    """GET with the same retries and errors as post_json (for vendors whose queries are GETs)."""
    return _json_with_retries(vendor, lambda: client.get(path, params=dict(params), headers=headers()))


def _json_with_retries(vendor: str, send: Callable[[], httpx.Response]) -> dict[str, Any]:
    import httpx
    import stamina

    maybe_received = False  # until a try fails in a way that leaves it open whether the vendor took it

    def sent() -> httpx.Response:
        nonlocal maybe_received
        try:
            response = send()
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout):
            raise  # never left this process, or never reached the vendor
        except httpx.TransportError:
            maybe_received = True  # a timeout or a reset after the request went out
            raise
        if response.is_server_error and response.status_code not in NOT_HANDLED_HTTP_STATUSES:
            maybe_received = True
        return response

    try:
        for attempt in stamina.retry_context(on=_transient, attempts=4, wait_initial=0.2, wait_max=3.0, timeout=25.0):
            with attempt:
                response = sent()
                response.raise_for_status()
    except (httpx.TransportError, httpx.HTTPStatusError) as exc:
        if _transient(exc):
            reason = f"{vendor} unavailable: {type(exc).__name__}"
            raise VendorUnavailable(vendor, reason, maybe_received=maybe_received) from exc
        status = exc.response.status_code if isinstance(exc, httpx.HTTPStatusError) else None
        raise VendorRejected(
            vendor, f"HTTP {status}", "request refused", account_refused=status in ACCOUNT_REFUSED_HTTP_STATUSES
        ) from exc
    try:
        payload = response.json()
    except ValueError as exc:
        raise VendorUnavailable(vendor, f"{vendor} answered with a body that is not JSON") from exc
    if not isinstance(payload, dict):
        raise VendorUnavailable(vendor, f"{vendor} answered with unexpected JSON")
    return payload
