"""The NXTele contract check: each ASSUMPTION of the package docstring (A1 to A21) put to a real account, where
that is safe, and reported as not tested, with why, where it is not.

Safe means:
- signed read-only requests (`listTask` for an id that does not exist; `listOrder` and `listOrderDetail` of
  the probe's task, which must be a task dialhub created, with more than 100 orders and some calls);
- the same `listTask` signed with a wrong secretKey;
- `stopOrder` of an orderID that does not exist, on the probe's task (nothing to stop);
- only when the probe carries vendor options with a `sceneID`: empty tasks created with `startupType` 1
  (manual: never started), then completed with `delCall` 1. Into one of them goes a single entry that is
  incomplete on purpose (no `userName`, which NXTele requires) for +44 7700 900123, a number of the UK
  range Ofcom keeps for drama, never assigned to anyone. It shows how errList names a refusal. Were it
  taken, it would sit undialled in a task that never starts and is deleted with the task.

Nothing here submits a real number, so what only a dialled call shows (A2, A4, A5, A8, A10, A11, A14, A16,
A17) is not tested. Every check reads NXTele's raw answers, not the adapter's reading of them, because the
question is what NXTele sends.
"""

from __future__ import annotations

import hmac
import json
import time
import uuid as uuid_lib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from dialhub.phones import mask_phone
from dialhub.vendors.base import vendor_count
from dialhub.vendors.contract import Check, Evidence, Probe, broken, cannot_test, held, untested
from dialhub.vendors.nxtele.codes import (
    MAX_CHUNK,
    MILLISECONDS_THRESHOLD,
    ORDER_PAGE_SIZE,
    ORDER_ROW_KEYS,
    ORDER_TOTAL_KEYS,
    PATH_ADD_BATCH_CALL,
    PATH_CREATE_TASK,
    PATH_LIST_ORDER,
    PATH_LIST_ORDER_DETAIL,
    PATH_LIST_TASK,
    PATH_MGR_TASK_STATUS,
    PATH_STOP_ORDER,
    PRODUCT_ID,
    SUCCESS,
)
from dialhub.vendors.nxtele.signing import serialise, sign
from dialhub.vendors.nxtele.wire import NxteleAccount, NxteleOptions

if TYPE_CHECKING:
    import httpx

WRONG_SIGNATURE = 6
STARTUP_MANUAL = 1  # the probe tasks never start
COMPLETE_AND_DELETE = {"taskOperate": 3, "delCall": 1}
DRAMA_NUMBER = "447700900123"  # +44 7700 900123: Ofcom's drama range, never assigned to a subscriber
DETAIL_SAMPLE = 20  # orders whose calls are read for the timestamp and call-list checks
NEEDS_TASK = "needs the probe's task (--task-id): a task dialhub created, with more than 100 orders and calls"
NEEDS_SCENE = "needs vendor options with a sceneID (--options): the check creates an empty, never-started task"


class _Nxtele:
    """Signed requests as NXTele's sample sends them, answered raw: the checks look at what NXTele sends."""

    def __init__(self, probe: Probe) -> None:
        self.account = NxteleAccount.model_validate(probe.account)
        self.http: httpx.Client = probe.http

    def send(self, path: str, body: dict[str, Any], secret_key: str | None = None) -> httpx.Response:
        content = serialise({"productID": PRODUCT_ID, **body})
        create_ts, request_id = str(int(time.time())), uuid_lib.uuid4().hex
        key = secret_key or self.account.secret_key.get_secret_value()
        headers = {
            "requestID": request_id,
            "uuid": self.account.uuid,
            "createTs": create_ts,
            "algorithm": self.account.algorithm,
            "sign": sign(key, content, create_ts, request_id, self.account.uuid, self.account.algorithm),
            "Content-Type": "application/json",
        }
        return self.http.post(path, content=content, headers=headers)

    def call(self, path: str, body: dict[str, Any], secret_key: str | None = None) -> dict[str, Any]:
        """The answer's JSON object (HTTP errors raise, and the check is reported as not tested)."""
        response = self.send(path, body, secret_key)
        response.raise_for_status()
        payload = response.json()
        if not isinstance(payload, dict):
            raise ValueError(f"{path} answered JSON that is not an object")
        return payload

    def callback_url(self, kind: str) -> str:
        return f"{self.account.callback_base_url}/{kind}"

    def response_signature_problem(self, response: httpx.Response) -> str | None:
        headers = {name.lower(): value for name, value in response.headers.items()}
        create_ts, request_id = headers.get("createts", ""), headers.get("requestid", "")
        if not (create_ts and request_id):
            return "createTs or requestID header missing"
        if headers.get("uuid", "") != self.account.uuid:
            return "uuid header is not the account's"
        if request_id != response.request.headers.get("requestID"):
            return "requestID header is not the request's"
        algorithm = headers.get("algorithm") or self.account.algorithm
        expected = sign(
            self.account.secret_key.get_secret_value(),
            response.content,
            create_ts,
            request_id,
            self.account.uuid,
            algorithm,
        )
        if not hmac.compare_digest(headers.get("sign", "").upper().encode(), expected.encode()):
            return "sign does not verify over the raw body"
        return None


def _absent_task_query() -> dict[str, Any]:
    return {"page": 1, "size": 1, "queryConditions": {"userTaskID": [f"dialhub-check-absent-{uuid_lib.uuid4().hex}"]}}


def _rows(answer: dict[str, Any]) -> list[dict[str, Any]] | None:
    rows = next((answer[key] for key in ORDER_ROW_KEYS if key in answer), None)
    if not isinstance(rows, list):
        return None
    return [row for row in rows if isinstance(row, dict)]


def _total(answer: dict[str, Any]) -> int | None:
    return next((count for key in ORDER_TOTAL_KEYS if (count := vendor_count(answer.get(key))) is not None), None)


def _order_page(nx: _Nxtele, task_id: str, page: int) -> tuple[list[dict[str, Any]], int | None, dict[str, Any]]:
    answer = nx.call(PATH_LIST_ORDER, {"userTaskID": task_id, "page": page, "size": ORDER_PAGE_SIZE})
    if answer.get("retCode") != SUCCESS:
        raise ValueError(f"listOrder refused with retCode {answer.get('retCode')}: {answer.get('retMsg')}")
    rows = _rows(answer)
    if rows is None:
        raise ValueError(f"listOrder rows under none of {', '.join(ORDER_ROW_KEYS)}; keys: {sorted(answer)}")
    return rows, _total(answer), answer


# --------------------------------------------------------------------------------------------- signing
def request_signing_accepted(probe: Probe) -> Evidence:
    """A18: a request signed by the documented formula over the exact json.dumps bytes is accepted."""
    answer = _Nxtele(probe).call(PATH_LIST_TASK, _absent_task_query())
    code = answer.get("retCode")
    if code == SUCCESS:
        return held("listTask signed over the json.dumps bytes answered retCode 0")
    return broken(f"listTask signed as documented answered retCode {code}: {answer.get('retMsg')}")


def wrong_signature_refused(probe: Probe) -> Evidence:
    """A19: a wrong signature is refused with retCode 6 (which the adapter reports as 'wrong signature')."""
    wrong_key = "dialhub-contract-check-wrong-key-" + uuid_lib.uuid4().hex
    answer = _Nxtele(probe).call(PATH_LIST_TASK, _absent_task_query(), secret_key=wrong_key)
    code = answer.get("retCode")
    if code == WRONG_SIGNATURE:
        return held("listTask signed with a wrong secretKey answered retCode 6")
    if code == SUCCESS:
        return broken("listTask signed with a wrong secretKey was ANSWERED (retCode 0): signatures are not checked")
    return broken(f"a wrong signature answered retCode {code} ({answer.get('retMsg')}), not 6")


def answers_signed(probe: Probe) -> Evidence:
    """A1: answers carry requestID, uuid, createTs, sign as HTTP headers, signed over the raw body."""
    nx = _Nxtele(probe)
    response = nx.send(PATH_LIST_TASK, _absent_task_query())
    response.raise_for_status()
    payload = response.json() if response.content.startswith(b"{") else {}
    if payload.get("retCode") != SUCCESS:
        return untested(f"listTask was refused (retCode {payload.get('retCode')}): only a success's signature counts")
    names = {name.lower() for name in response.headers}
    if "sign" not in names:
        in_body = "sign" in payload
        where = "in the body, not in headers" if in_body else "nowhere"
        return broken(f"the answer's signature is {where}: the adapter takes unsigned answers unverified")
    if problem := nx.response_signature_problem(response):
        return broken(f"the answer is signed in headers but {problem}: the adapter would distrust every success")
    return held("the answer's sign header verifies over the raw body, with our requestID and the account's uuid")


# --------------------------------------------------------------------------------------------- empty tasks
def _scene(probe: Probe) -> Any | None:
    try:
        return NxteleOptions.model_validate(probe.options).scene_id
    except ValidationError:
        return None


def _create_probe_task(nx: _Nxtele, scene_id: Any, task_id: str) -> dict[str, Any]:
    return nx.call(
        PATH_CREATE_TASK,
        {
            "userTaskID": task_id,
            "sceneID": scene_id,
            "taskCreateSetting": {"taskName": "dialhub contract check (empty, never started)", "startupType": 1},
            "taskCallbackUrl": nx.callback_url("task"),
            "orderCallbackUrl": nx.callback_url("order"),
        },
    )


def _complete(nx: _Nxtele, task_id: str) -> None:
    nx.call(PATH_MGR_TASK_STATUS, {"userTaskID": task_id, **COMPLETE_AND_DELETE})


def repeated_task_id_refused(probe: Probe) -> Evidence:
    """A3: createTask refuses a userTaskID it holds with a non-zero retCode, and listTask finds the task."""
    scene_id = _scene(probe)
    if scene_id is None:
        return untested(NEEDS_SCENE)
    nx = _Nxtele(probe)
    task_id = f"dialhub-check-{uuid_lib.uuid4().hex}"
    first = _create_probe_task(nx, scene_id, task_id)
    if first.get("retCode") != SUCCESS:
        return untested(f"creating an empty task was refused (retCode {first.get('retCode')}: {first.get('retMsg')})")
    try:
        again = _create_probe_task(nx, scene_id, task_id)
        listed = nx.call(PATH_LIST_TASK, {"page": 1, "size": 10, "queryConditions": {"userTaskID": [task_id]}})
    finally:
        _complete(nx, task_id)
    rows = listed.get("taskData")
    found = (
        sum(1 for row in rows if isinstance(row, dict) and row.get("userTaskID") == task_id)
        if isinstance(rows, list)
        else 0
    )
    code = again.get("retCode")
    if code == SUCCESS:
        return broken(f"a repeated userTaskID answered retCode 0 ({found} task(s) listed with it): not a refusal")
    if found != 1:
        return broken(f"a repeated userTaskID answered retCode {code}, but listTask lists {found} tasks with it")
    return held(f"a repeated userTaskID answered retCode {code} ({again.get('retMsg')}); listTask lists the one task")


class _BatchProbe:
    """One incomplete entry for a drama number, sent once per probe (A6 and A20 read the same answer) into
    an empty never-started task, which is completed with its undialled orders deleted right after."""

    def __init__(self) -> None:
        self._answers: dict[int, tuple[Probe, str, dict[str, Any] | str]] = {}

    def answer(self, probe: Probe) -> tuple[str, dict[str, Any] | str]:
        """(the orderID sent, NXTele's answer), or why there is no answer to look at."""
        if id(probe) not in self._answers:
            order_id = f"dialhub-check-order-{uuid_lib.uuid4().hex}"
            self._answers[id(probe)] = (probe, order_id, self._send(probe, order_id))
        _, order_id, answer = self._answers[id(probe)]
        return order_id, answer

    @staticmethod
    def _send(probe: Probe, order_id: str) -> dict[str, Any] | str:
        scene_id = _scene(probe)
        if scene_id is None:
            return NEEDS_SCENE
        nx = _Nxtele(probe)
        task_id = f"dialhub-check-{uuid_lib.uuid4().hex}"
        created = _create_probe_task(nx, scene_id, task_id)
        if created.get("retCode") != SUCCESS:
            return f"creating an empty task was refused (retCode {created.get('retCode')}: {created.get('retMsg')})"
        # No userName, which NXTele requires: the entry is refused, and errList shows how.
        entry = {"orderID": order_id, "userPhone": DRAMA_NUMBER, "other": "{}", "customerName": "", "params": []}
        try:
            answer = nx.call(
                PATH_ADD_BATCH_CALL,
                {
                    "userTaskID": task_id,
                    "callInfoList": {
                        "orderCallbackUrl": nx.callback_url("order"),
                        "callCallbackUrl": nx.callback_url("call"),
                        "callList": [entry],
                    },
                },
            )
        finally:
            _complete(nx, task_id)
        if answer.get("retCode") != SUCCESS:
            return f"NXTele refused the whole request (retCode {answer.get('retCode')}): no entry to look at"
        return answer


_BATCH = _BatchProbe()


def err_list_names_the_contact(probe: Probe) -> Evidence:
    """A6: an errList entry names the refused contact by our orderID, or by the phone exactly as sent."""
    order_id, answer = _BATCH.answer(probe)
    if isinstance(answer, str):
        return untested(answer)
    errors = answer.get("errList")
    if not isinstance(errors, list) or not errors:
        return untested(f"the incomplete entry left no errList entry (successCount {answer.get('successCount')})")
    entry = errors[0]
    if not isinstance(entry, dict):
        return broken(f"errList entries are not objects: {type(entry).__name__}")
    if entry.get("orderID") == order_id:
        return held(f"the entry names our orderID (keys: {', '.join(sorted(entry))})")
    phone = str(entry.get("phone") or "")
    if phone == DRAMA_NUMBER:
        return held(f"the entry names the phone as sent, no orderID (keys: {', '.join(sorted(entry))})")
    digits = sum(char.isdigit() for char in phone)
    written = f"{mask_phone(phone) or 'nothing'} in {digits} digits"
    return broken(
        f"the entry has no orderID and writes the phone sent ({mask_phone(DRAMA_NUMBER)}, 12 digits) as {written}:"
        " dialhub matches it only by normalising it to E.164"
    )


def batch_counts_add_up(probe: Probe) -> Evidence:
    """A20: totalCount is what was sent, and every entry not counted in successCount is listed in errList."""
    _, answer = _BATCH.answer(probe)
    if isinstance(answer, str):
        return untested(answer)
    total, success = vendor_count(answer.get("totalCount")), vendor_count(answer.get("successCount"))
    errors = answer.get("errList") or []
    listed = len(errors) if isinstance(errors, list) else None
    seen = f"totalCount {answer.get('totalCount')}, successCount {answer.get('successCount')}, {listed} in errList"
    if total != 1 or success is None or listed is None:
        return broken(f"1 entry sent: {seen}")
    if success + listed != total:
        return broken(f"1 entry sent: {seen}; a refusal not listed leaves the batch unconfirmed")
    return held(f"1 entry sent: {seen}")


# --------------------------------------------------------------------------------------------- the probe's task
def _with_task(check: Callable[[_Nxtele, str], Evidence]) -> Callable[[Probe], Evidence]:
    def run(probe: Probe) -> Evidence:
        if not probe.task_id:
            return untested(NEEDS_TASK)
        return check(_Nxtele(probe), probe.task_id)

    run.__doc__ = check.__doc__
    return run


def page_size_honoured(nx: _Nxtele, task_id: str) -> Evidence:
    """A7: listOrder gives pages of the 100 rows asked (a shorter page is not read as the end any more)."""
    rows, total, _ = _order_page(nx, task_id, 1)
    if len(rows) >= ORDER_PAGE_SIZE:
        return held(f"page 1 of size {ORDER_PAGE_SIZE} has {len(rows)} rows")
    if total is not None and total > len(rows):
        return broken(f"page 1 of size {ORDER_PAGE_SIZE} has {len(rows)} rows of a total {total}: pages are capped")
    second, _, _ = _order_page(nx, task_id, 2)
    if second:
        return broken(f"page 1 of size {ORDER_PAGE_SIZE} has {len(rows)} rows and page 2 has {len(second)}: capped")
    return untested(f"the task has only {len(rows)} orders: a cap shows only on a task with more than 100")


def total_given(nx: _Nxtele, task_id: str) -> Evidence:
    """A21: listOrder gives the task's order count (`total`) and honours the page number."""
    rows, total, answer = _order_page(nx, task_id, 1)
    if total is None:
        return broken(f"no {' or '.join(ORDER_TOTAL_KEYS)} in the answer (keys: {', '.join(sorted(answer))})")
    if total > len(rows):
        second, _, _ = _order_page(nx, task_id, 2)
        first_ids = {row.get("orderID") for row in rows}
        if second and all(row.get("orderID") in first_ids for row in second):
            return broken(f"total {total}, but page 2 repeats page 1: the page number is ignored")
    return held(f"total {total}; page 1 has {len(rows)} rows")


def other_echoed(nx: _Nxtele, task_id: str) -> Evidence:
    """A9: `other` comes back verbatim: our ids, as the compact JSON text sent."""
    rows, _, _ = _order_page(nx, task_id, 1)
    if not rows:
        return untested("the task has no orders")
    for row in rows:
        other = row.get("other")
        try:
            ours = json.loads(other) if isinstance(other, str) else other
        except ValueError:
            ours = None
        if not (isinstance(ours, dict) and {"campaignId", "contactId"} <= set(ours)):
            return broken(f"order {row.get('orderID')} has `other` of {type(other).__name__}, not our ids as JSON")
    return held(f"`other` of {len(rows)} orders reads as our ids")


def _details(nx: _Nxtele, task_id: str) -> list[dict[str, Any]] | str:
    rows, _, _ = _order_page(nx, task_id, 1)
    order_ids = [str(row["orderID"]) for row in rows if row.get("orderID")][: min(DETAIL_SAMPLE, MAX_CHUNK)]
    if not order_ids:
        return "the task has no orders"
    answer = nx.call(PATH_LIST_ORDER_DETAIL, {"userTaskID": task_id, "orderList": order_ids})
    details = answer.get("orderDetailList")
    if not isinstance(details, list):
        return f"listOrderDetail answered no orderDetailList (retCode {answer.get('retCode')})"
    return [detail for detail in details if isinstance(detail, dict)]


def timestamps_in_seconds(nx: _Nxtele, task_id: str) -> Evidence:
    """A12: call timestamps are epoch seconds (values above 10^11 are read as milliseconds)."""
    details = _details(nx, task_id)
    if isinstance(details, str):
        return untested(details)
    stamps = [
        value
        for detail in details
        for call in detail.get("callInfoDetailList") or []
        if isinstance(call, dict)
        for key in ("callStartTs", "callAnswerTs", "callEndTs")
        if isinstance(value := call.get(key), int | float) and value > 0
    ]
    if not stamps:
        return untested("no call of the orders read carries a time")
    in_milliseconds = sum(value > MILLISECONDS_THRESHOLD for value in stamps)
    if in_milliseconds:
        return broken(f"{in_milliseconds} of {len(stamps)} times are milliseconds (the adapter reads those too)")
    return held(f"{len(stamps)} call times, all epoch seconds")


def calls_listed_per_order(nx: _Nxtele, task_id: str) -> Evidence:
    """A13: listOrderDetail lists each order's calls under callInfoDetailList, each with a callID."""
    details = _details(nx, task_id)
    if isinstance(details, str):
        return untested(details)
    if not details:
        return broken("listOrderDetail answered no order for orderIDs listOrder gave")
    missing = [detail.get("orderID") for detail in details if not isinstance(detail.get("callInfoDetailList"), list)]
    if missing:
        return broken(f"{len(missing)} of {len(details)} orders have no callInfoDetailList list")
    calls = [call for detail in details for call in detail["callInfoDetailList"]]
    if not calls:
        return untested(f"none of the {len(details)} orders read has a call yet")
    without_id = sum(1 for call in calls if not (isinstance(call, dict) and call.get("callID")))
    if without_id:
        return broken(f"{without_id} of {len(calls)} calls carry no callID")
    return held(f"{len(details)} orders, {len(calls)} calls, each with a callID")


def unstoppable_order_listed(nx: _Nxtele, task_id: str) -> Evidence:
    """A15: an order stopOrder cannot stop is listed in errList by its orderID (here: one that does not exist)."""
    absent = f"dialhub-check-absent-{uuid_lib.uuid4().hex}"
    answer = nx.call(PATH_STOP_ORDER, {"userTaskID": task_id, "orderIDs": [absent], "delCall": 0})
    if answer.get("retCode") != SUCCESS:
        return untested(f"stopOrder refused the request (retCode {answer.get('retCode')}: {answer.get('retMsg')})")
    errors = answer.get("errList") or []
    named = (
        [e for e in errors if isinstance(e, dict) and e.get("orderID") == absent] if isinstance(errors, list) else []
    )
    if vendor_count(answer.get("successCount")) not in (0, None) or not named:
        listed = len(errors) if isinstance(errors, list) else "no"
        return broken(
            f"stopping an absent order answered successCount {answer.get('successCount')}"
            f" and {listed} errList entries, none naming it by orderID"
        )
    return held(f"the absent order is listed: {named[0].get('errMsg')!r}")


# --------------------------------------------------------------------------------------------- not testable
CHECKS: list[Check] = [
    Check("A1", "are answers signed in headers over the raw body?", answers_signed),
    Check(
        "A2",
        "are callbacks signed with the same formula and the account's algorithm?",
        cannot_test("NXTele sends no test callback; the first real callback shows it (401s are logged with why)"),
    ),
    Check("A3", "is a repeated userTaskID refused, and the task then listed?", repeated_task_id_refused),
    Check(
        "A4",
        "do startupType 3, zoneSecond, dialAtWeekDay and the HH:MM hours mean what the adapter sends?",
        cannot_test("their meaning shows only when a started task dials a real number"),
    ),
    Check(
        "A5",
        "is a repeated orderID listed as existing, and not dialled twice?",
        cannot_test("needs an order, that is a real number NXTele would dial"),
    ),
    Check(
        "A6", "does an errList entry name the contact by orderID or by the phone as sent?", err_list_names_the_contact
    ),
    Check("A7", "does listOrder give pages of the 100 rows asked?", _with_task(page_size_honoured)),
    Check(
        "A8",
        "are the redial rounds at most callsPerOrder?",
        cannot_test("the rounds are set in NXTele's console strategy, out of the API's sight"),
    ),
    Check("A9", "does `other` come back as our ids, verbatim?", _with_task(other_echoed)),
    Check(
        "A10",
        "is a call answered exactly when callAnswerTs > 0 and callDuration > 0?",
        cannot_test("NXTele publishes no callStatus dictionary to compare with; it needs NXTele's word"),
    ),
    Check(
        "A11",
        "do the script's intents map to the dispositions in the intent table?",
        cannot_test("intents are configured per script in NXTele's console; compare intentMap with the script"),
    ),
    Check("A12", "are call timestamps epoch seconds?", _with_task(timestamps_in_seconds)),
    Check(
        "A13",
        "are an order's calls listed under callInfoDetailList, each with a callID?",
        _with_task(calls_listed_per_order),
    ),
    Check(
        "A14",
        "are retCodes 5, 5001, 7 and 1001 temporary?",
        cannot_test("maintenance, internal errors and busy answers cannot be provoked safely"),
    ),
    Check(
        "A15", "is an order stopOrder cannot stop listed in errList by orderID?", _with_task(unstoppable_order_listed)
    ),
    Check(
        "A16",
        "is the callback ack `200 {retCode: 0}`, and what does NXTele do with another answer?",
        cannot_test("NXTele sends no test callback and publishes no retry policy; polling recovers what is lost"),
    ),
    Check(
        "A17",
        "does the task callback carry no call outcome?",
        cannot_test("a task callback comes only when a real task changes status"),
    ),
    Check("A18", "is a request signed by the documented formula accepted?", request_signing_accepted),
    Check("A19", "is a wrong signature refused with retCode 6?", wrong_signature_refused),
    Check("A20", "does addBatchCall list in errList every entry it did not take?", batch_counts_add_up),
    Check("A21", "does listOrder give the task's order count and honour the page number?", _with_task(total_given)),
]
