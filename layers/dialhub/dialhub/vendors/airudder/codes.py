"""AIRudder's paths, limits and error codes with their meanings, and the outcome dictionaries."""

from __future__ import annotations

import datetime as dt
import re

from dialhub.dispositions import CallStatus, CodeMeaning, Disposition, VendorCodeTable
from dialhub.phones import mask_phone
from dialhub.vendors.base import TaskAction

VENDOR = "airudder"
USER_AGENT = "Airudder"
SUCCESS_CODES = frozenset({200, 0})
PATH_AUTH = "/service/cloud/auth"
PATH_CREATE_TASK = "/service/cloud/v2/task"
PATH_LIST = "/service/cloud/list"
PATH_DETAIL = "/service/cloud/detail"
PATH_CANCEL_CALL = "/service/cloud/cancelphonecall"
PATH_OPERATION = "/service/cloud/operation"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

TOKEN_ERRORS = frozenset({10812, 10813})
DUPLICATE_TASK_NAME = 10508
TASK_FINISHED = 10513
QUERY_LIMIT_EXCEEDED = 10705
TRANSIENT_ERRORS = frozenset({10201, QUERY_LIMIT_EXCEEDED})
TASK_GONE_ERRORS = frozenset({10502, 10506, 10702, 10703})

# Listings (ASSUMPTION A9): AIRudder documents no paging for /service/cloud/detail or /service/cloud/list, so
# these names follow the PascalCase of every documented name; a listing that ignores them is still read whole.
PAGE_NUMBER = "PageNumber"  # counted from 1
PAGE_SIZE = "PageSize"
DETAIL_PAGE_SIZE = 1_000  # rows asked per detail page: a 5,000-number task in 5 requests if AIRudder honours it
LIST_PAGE_SIZE = 100  # rows asked per page of the task list (read only after a 10508)
SHORTEST_PAGE = 10  # the smallest page cap paging is built to read to the end

MAX_TASK_SIZE = 10_000  # Details per task (S004)
MAX_LISTING_PAGES = MAX_TASK_SIZE // SHORTEST_PAGE + 1  # a whole task in pages of 10, and the page that ends it
DEFAULT_TASK_SIZE = 5_000  # AIRudder's recommendation (S004)
TASK_NAME_LIMIT = 64
COMMENTS_LIMIT = 64
CUSTOMER_LIMIT = 64
EXTRA_FIELD_LIMIT = 255  # ASSUMPTION: not documented
MAX_MOBILE_DIGITS = 14  # 10510: "+" and at most 14 digits
COMMENTS_SEPARATOR = "|"  # never in our ids (models.ID_PATTERN)
DEFAULT_TASK_TYPE = "collection"  # ASSUMPTION
DEFAULT_PLATFORM = "dialhub"
SCHEDULE_HORIZON = dt.timedelta(days=5)  # ScheduleStart/EndTime within the next 5 days (S004)
HORIZON_MARGIN = dt.timedelta(minutes=10)  # stay clearly inside it, whatever the clock skew
MIN_SCHEDULE_SPAN = dt.timedelta(minutes=30)  # end >= start + 30 min (S004)
START_LEAD = dt.timedelta(minutes=1)  # a start "now" must not be in the past when AIRudder reads it
TASK_OPERATIONS = {TaskAction.CANCEL: "cancel", TaskAction.PAUSE: "pause", TaskAction.RESUME: "resume"}
_DIGIT_RUN = re.compile(r"\+?\d{6,}")

ERROR_MEANINGS: dict[int, str] = {
    10201: "AIRudder internal error",
    10301: "invalid APPKey",
    10302: "account verification failed",
    10501: "task creation failed",
    10502: "TaskID is empty",
    10503: "callback URL is empty",
    10504: "invalid callback URL",
    10505: "the contact list is empty",
    10506: "task not found",
    10507: "task not executed",
    10508: "duplicate task name",
    10509: "the scheduled start is earlier than now",
    10510: "bad phone number (must start with + and have at most 14 digits)",
    10511: "robot group not found",
    10512: "robot group is empty",
    10513: "the task is already finished",
    10514: "the task has not started yet",
    10515: "the task has not finished yet",
    10516: "no recordings",
    10517: "invalid private data",
    10518: "invalid TaskName",
    10519: "task copy error",
    10520: "task pause error",
    10521: "redial (repeat) settings error",
    10522: "bulk interval error",
    10523: "voicemail setting error",
    10524: "QA setting error",
    10525: "lost-rate setting error",
    10526: "number interval error",
    10527: "addition error",
    10550: "agent error",
    10551: "agent error",
    10608: "CallID is empty",
    10609: "CallID is invalid",
    10610: "CallID cannot be verified",
    10617: "customer-info configuration error",
    10618: "customer-info configuration error",
    10620: "the scheduled end is too close to the start",
    10621: "scheduled start and end must be on the same day",
    10702: "invalid TaskID",
    10703: "TaskID cannot be verified",
    10704: "a workflow task cannot do this",
    10705: "query count limit exceeded",
    10812: "invalid token",
    10813: "expired token",
    10820: "file missing",
    10901: "voicemail is not enabled",
}


def describe_error(code: int | None, message: str | None = None) -> str:
    """An operator-readable reason for an AIRudder error code (digits that could be a phone are masked)."""
    if code is not None and code in ERROR_MEANINGS:
        meaning = ERROR_MEANINGS[code]
    elif code is not None and 10605 <= code <= 10614:
        meaning = "the task or call is in a state that does not allow this"
    elif code is not None and 10801 <= code <= 10814:
        meaning = "user or token error"
    else:
        meaning = "unknown AIRudder error"
    detail = mask_digits(message or "").strip()
    return f"{meaning} ({detail})" if detail and detail.casefold() != meaning.casefold() else meaning


def mask_digits(text: str) -> str:
    """Runs of 6+ digits (phone numbers, as in "Country Code Error: 13016111") keep only their last 4."""
    return _DIGIT_RUN.sub(lambda match: mask_phone(match.group()), text)


# --- outcome dictionaries (ASSUMPTION: AIRudder's robot-call dictionaries were not readable) -------------
_A = CallStatus.ANSWERED
_NC = Disposition.NOT_CONNECTED
_WAITING = CodeMeaning(Disposition.UNKNOWN, CallStatus.QUEUED)
_CALLING = CodeMeaning(Disposition.UNKNOWN, CallStatus.IN_PROGRESS)
CALL_STATUSES = VendorCodeTable(
    VENDOR,
    {
        "Waiting": _WAITING,
        "Pending": _WAITING,
        "NotStarted": _WAITING,
        "Redialing": _WAITING,
        "WaitingRedial": _WAITING,
        "Calling": _CALLING,
        "Ringing": CodeMeaning(Disposition.UNKNOWN, CallStatus.RINGING),
        "Answered": CodeMeaning(Disposition.UNKNOWN, _A),
        "Connected": CodeMeaning(Disposition.UNKNOWN, _A),
        "NoAnswer": CodeMeaning(_NC, CallStatus.NO_ANSWER),
        "Unanswered": CodeMeaning(_NC, CallStatus.NO_ANSWER),
        "Rejected": CodeMeaning(_NC, CallStatus.NO_ANSWER),
        "Busy": CodeMeaning(_NC, CallStatus.BUSY),
        "PowerOff": CodeMeaning(_NC, CallStatus.UNREACHABLE),
        "Unreachable": CodeMeaning(_NC, CallStatus.UNREACHABLE),
        "OutOfService": CodeMeaning(_NC, CallStatus.UNREACHABLE),
        "InvalidNumber": CodeMeaning(_NC, CallStatus.INVALID_NUMBER),
        "EmptyNumber": CodeMeaning(_NC, CallStatus.INVALID_NUMBER),
        "Voicemail": CodeMeaning(Disposition.VOICEMAIL, CallStatus.VOICEMAIL),
        "Failed": CodeMeaning(_NC, CallStatus.FAILED),
        "NotCalled": CodeMeaning(_NC, CallStatus.FAILED),
        "Cancelled": CodeMeaning(Disposition.CANCELLED, CallStatus.CANCELLED),
        "Canceled": CodeMeaning(Disposition.CANCELLED, CallStatus.CANCELLED),
        "DNC": CodeMeaning(Disposition.DO_NOT_CALL, CallStatus.CANCELLED),
    },
)
INTENTIONS = VendorCodeTable(
    VENDOR,
    {
        "PTP": CodeMeaning(Disposition.PROMISE_TO_PAY, _A),
        "PTPNoDate": CodeMeaning(Disposition.PROMISE_TO_PAY_NO_DATE, _A),
        "AlreadyPaid": CodeMeaning(Disposition.ALREADY_PAID, _A),
        "Paid": CodeMeaning(Disposition.ALREADY_PAID, _A),
        "RefuseToPay": CodeMeaning(Disposition.REFUSED_TO_PAY, _A),
        "Refuse": CodeMeaning(Disposition.REFUSED_TO_PAY, _A),
        "NoAgreement": CodeMeaning(Disposition.NO_AGREEMENT, _A),
        "WrongNumber": CodeMeaning(Disposition.WRONG_PERSON, _A),
        "NotOneself": CodeMeaning(Disposition.WRONG_PERSON, _A),
        "ThirdParty": CodeMeaning(Disposition.WRONG_PERSON, _A),
        "Callback": CodeMeaning(Disposition.CALLBACK_REQUESTED, _A),
        "Complaint": CodeMeaning(Disposition.COMPLAINT, _A),
        "Interested": CodeMeaning(Disposition.INTERESTED, _A),
        "NotInterested": CodeMeaning(Disposition.NOT_INTERESTED, _A),
        "Undecided": CodeMeaning(Disposition.UNDECIDED, _A),
        "AskWhoCalls": CodeMeaning(Disposition.ASKED_WHO_CALLS, _A),
        "HangUp": CodeMeaning(Disposition.HUNG_UP, _A),
        "Voicemail": CodeMeaning(Disposition.VOICEMAIL, CallStatus.VOICEMAIL),
        "OptOut": CodeMeaning(Disposition.OPT_OUT, _A),
        "DoNotCall": CodeMeaning(Disposition.DO_NOT_CALL, _A),
        "NoIntention": CodeMeaning(Disposition.UNKNOWN, _A),
        "Unknown": CodeMeaning(Disposition.UNKNOWN, _A),
    },
)
