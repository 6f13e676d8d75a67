"""The canonical outcome vocabulary, and the one mechanism every vendor uses to map its codes into it.

Each vendor module owns exactly one `VendorCodeTable`; an unknown vendor code maps to `unknown` (status
kept from the other fields) and is counted, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dialhub.observability import count_metric, logger


class CallStatus(StrEnum):
    """What happened on the line."""

    QUEUED = "queued"
    RINGING = "ringing"
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    UNREACHABLE = "unreachable"
    INVALID_NUMBER = "invalid_number"
    VOICEMAIL = "voicemail"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def final(self) -> bool:
        return self not in _IN_FLIGHT


_IN_FLIGHT = frozenset({CallStatus.QUEUED, CallStatus.RINGING, CallStatus.IN_PROGRESS})


class Disposition(StrEnum):
    """What the call achieved, in one taxonomy for every vendor."""

    PROMISE_TO_PAY = "promise_to_pay"
    PROMISE_TO_PAY_NO_DATE = "promise_to_pay_no_date"
    ALREADY_PAID = "already_paid"
    REFUSED_TO_PAY = "refused_to_pay"
    NO_AGREEMENT = "no_agreement"
    WRONG_PERSON = "wrong_person"
    CALLBACK_REQUESTED = "callback_requested"
    COMPLAINT = "complaint"
    INTERESTED = "interested"
    NOT_INTERESTED = "not_interested"
    UNDECIDED = "undecided"
    ASKED_WHO_CALLS = "asked_who_calls"
    HUNG_UP = "hung_up"
    VOICEMAIL = "voicemail"
    OPT_OUT = "opt_out"
    DO_NOT_CALL = "do_not_call"
    NOT_CONNECTED = "not_connected"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class DispositionTraits:
    """Policy facts about a disposition: stop dialling (terminal) and never call again (do_not_call)."""

    terminal: bool
    do_not_call: bool = False


TRAITS: dict[Disposition, DispositionTraits] = {
    Disposition.PROMISE_TO_PAY: DispositionTraits(terminal=True),
    Disposition.PROMISE_TO_PAY_NO_DATE: DispositionTraits(terminal=True),
    Disposition.ALREADY_PAID: DispositionTraits(terminal=True),
    Disposition.REFUSED_TO_PAY: DispositionTraits(terminal=True),
    Disposition.NO_AGREEMENT: DispositionTraits(terminal=False),
    Disposition.WRONG_PERSON: DispositionTraits(terminal=True),
    Disposition.CALLBACK_REQUESTED: DispositionTraits(terminal=False),
    Disposition.COMPLAINT: DispositionTraits(terminal=True, do_not_call=True),
    Disposition.INTERESTED: DispositionTraits(terminal=True),
    Disposition.NOT_INTERESTED: DispositionTraits(terminal=True),
    Disposition.UNDECIDED: DispositionTraits(terminal=False),
    Disposition.ASKED_WHO_CALLS: DispositionTraits(terminal=False),
    Disposition.HUNG_UP: DispositionTraits(terminal=False),
    Disposition.VOICEMAIL: DispositionTraits(terminal=False),
    Disposition.OPT_OUT: DispositionTraits(terminal=True, do_not_call=True),
    Disposition.DO_NOT_CALL: DispositionTraits(terminal=True, do_not_call=True),
    Disposition.NOT_CONNECTED: DispositionTraits(terminal=False),
    Disposition.CANCELLED: DispositionTraits(terminal=True),
    Disposition.UNKNOWN: DispositionTraits(terminal=False),
}


@dataclass(frozen=True)
class CodeMeaning:
    """What one vendor code says: a disposition and, when the code implies it, the line status."""

    disposition: Disposition
    status: CallStatus | None = None


class VendorCodeTable:
    """One vendor's code → canonical meaning table; lookups are case-insensitive and unknowns are counted."""

    def __init__(self, vendor: str, table: dict[str, CodeMeaning]) -> None:
        self.vendor = vendor
        self._table = {code.casefold(): meaning for code, meaning in table.items()}

    def __contains__(self, code: str) -> bool:
        return code.casefold() in self._table

    def lookup(self, code: str | None) -> CodeMeaning:
        if code is None or code == "":
            return CodeMeaning(Disposition.UNKNOWN)
        meaning = self._table.get(str(code).casefold())
        if meaning is None:
            count_metric("UnknownVendorCode", vendor=self.vendor)
            logger.warning("unknown vendor code mapped to unknown", extra={"vendor": self.vendor, "code": code})
            return CodeMeaning(Disposition.UNKNOWN)
        return meaning
