"""NXTele's wire constants and code tables: paths, limits, retCodes, and what line and intent codes mean."""

from __future__ import annotations

from dialhub.dispositions import CallStatus, Disposition
from dialhub.vendors.base import TaskAction

PRODUCT_ID = "callbot"
API = "/callcentre/api/v3"
PATH_CREATE_TASK = f"{API}/createTask"
PATH_ADD_BATCH_CALL = f"{API}/addBatchCall"
PATH_LIST_TASK = f"{API}/listTask"
PATH_LIST_ORDER = f"{API}/listOrder"
PATH_LIST_ORDER_DETAIL = f"{API}/listOrderDetail"
PATH_STOP_ORDER = f"{API}/stopOrder"
PATH_MGR_TASK_STATUS = f"{API}/mgrTaskStatus"

SUCCESS = 0
MAX_CHUNK = 500  # contacts per addBatchCall (ASSUMPTION) and order ids per listOrderDetail (documented)
ORDER_PAGE_SIZE = 100  # listOrder page size asked (A7: the largest NXTele accepts); a smaller page is not the end
MAX_PAGES = 10_000  # a safety stop for paging, far above any real task (100,000 orders even in pages of 10)
STARTUP_IMMEDIATE = 3
TASK_OPERATION = {TaskAction.RESUME: 1, TaskAction.PAUSE: 2, TaskAction.CANCEL: 3}
CALLBACK_KINDS = frozenset({"call", "order", "task"})
ORDER_ROW_KEYS = ("orderList", "orderData", "list", "data")  # listOrder rows: the first key present
ORDER_TOTAL_KEYS = ("total", "totalCount")  # listOrder's count of the task's orders (A21), when it gives one
# An errList message meaning "this orderID is already there": names the order and says it is a repeat.
EXISTING_ORDER_WORDS = (("order", "订单"), ("already exist", "duplicate", "repeat", "已存在", "重复"))
MILLISECONDS_THRESHOLD = 10**11  # an epoch timestamp above this is in milliseconds
BUSY_RETRY_ATTEMPTS = 3
ACK = {"retCode": 0, "retMsg": "success"}

RET_CODE_REASONS: dict[int, str] = {
    1: "general error",
    2: "missing parameter",
    3: "parameter format error",
    4: "invalid parameter value",
    4001: "too many array elements",
    5: "server maintenance",
    5001: "internal error",
    6: "wrong signature (check uuid, secretKey and algorithm)",
    6001: "signature missing",
    6002: "account does not exist (check uuid)",
    6003: "no permission",
    7: "system busy",
    1001: "batch import in progress",
}
TEMPORARY_RET_CODES = frozenset({5, 5001, 7, 1001})
ACCOUNT_RET_CODES = frozenset({6, 6001, 6002, 6003})  # signature, account or permission: not the request's

LINE_STATUS_BY_SIP: dict[str, CallStatus] = {
    "486": CallStatus.BUSY,
    "600": CallStatus.BUSY,
    "603": CallStatus.BUSY,  # declined by the callee
    "404": CallStatus.INVALID_NUMBER,
    "410": CallStatus.INVALID_NUMBER,
    "484": CallStatus.INVALID_NUMBER,
    "604": CallStatus.INVALID_NUMBER,
    "480": CallStatus.UNREACHABLE,
    "408": CallStatus.NO_ANSWER,
    "487": CallStatus.NO_ANSWER,
    "500": CallStatus.FAILED,
    "502": CallStatus.FAILED,
    "503": CallStatus.FAILED,
}
LINE_STATUS_BY_CAUSE: dict[str, CallStatus] = {
    "USER_BUSY": CallStatus.BUSY,
    "CALL_REJECTED": CallStatus.BUSY,
    "UNALLOCATED_NUMBER": CallStatus.INVALID_NUMBER,
    "NO_ROUTE_DESTINATION": CallStatus.INVALID_NUMBER,
    "INVALID_NUMBER_FORMAT": CallStatus.INVALID_NUMBER,
    "NUMBER_CHANGED": CallStatus.INVALID_NUMBER,
    "SUBSCRIBER_ABSENT": CallStatus.UNREACHABLE,
    "NO_USER_RESPONSE": CallStatus.UNREACHABLE,
    "NO_ANSWER": CallStatus.NO_ANSWER,
    "ORIGINATOR_CANCEL": CallStatus.NO_ANSWER,
    "NETWORK_OUT_OF_ORDER": CallStatus.FAILED,
    "NORMAL_TEMPORARY_FAILURE": CallStatus.FAILED,
    "RECOVERY_ON_TIMER_EXPIRE": CallStatus.FAILED,
}

# Intent tags and names a script commonly uses, plus every canonical disposition value under its own name;
# the account's `intentMap` adds to and overrides these (intents are configured per script in the console).
DEFAULT_INTENTS: dict[str, Disposition] = {
    **{disposition.value: disposition for disposition in Disposition},
    "PTP": Disposition.PROMISE_TO_PAY,
    "promise to pay": Disposition.PROMISE_TO_PAY,
    "HPTP": Disposition.PROMISE_TO_PAY_NO_DATE,
    "PAID": Disposition.ALREADY_PAID,
    "already paid": Disposition.ALREADY_PAID,
    "REFUSE": Disposition.REFUSED_TO_PAY,
    "refuse to pay": Disposition.REFUSED_TO_PAY,
    "NEGOTIATE": Disposition.NO_AGREEMENT,
    "no agreement": Disposition.NO_AGREEMENT,
    "WRONG": Disposition.WRONG_PERSON,
    "wrong person": Disposition.WRONG_PERSON,
    "wrong number": Disposition.WRONG_PERSON,
    "CALLBACK": Disposition.CALLBACK_REQUESTED,
    "call back later": Disposition.CALLBACK_REQUESTED,
    "COMPLAIN": Disposition.COMPLAINT,
    "INTERESTED": Disposition.INTERESTED,
    "NOT_INTERESTED": Disposition.NOT_INTERESTED,
    "HANGUP": Disposition.HUNG_UP,
    "hang up": Disposition.HUNG_UP,
    "VOICEMAIL": Disposition.VOICEMAIL,
    "DNC": Disposition.DO_NOT_CALL,
    "do not call": Disposition.DO_NOT_CALL,
}


def ret_code_reason(code: int, message: str) -> str:
    """The documented meaning of a retCode, with NXTele's own message when it adds something."""
    known = RET_CODE_REASONS.get(code, "unknown error")
    return f"{known}: {message}" if message and message.casefold() not in known.casefold() else known
