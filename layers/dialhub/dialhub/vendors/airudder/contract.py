"""What a real AIRudder account is asked before it carries traffic: one check per ASSUMPTION (A1-A18) of the
package docstring. `python -m dialhub.contract_check airudder` runs them.

Every request here is safe against production: a token, read-only queries (a list by a TaskName that does
not exist, the detail of a task id that does not exist, the detail of `--task-id`, a task of yours), a
deliberately wrong APPSecret and token, and one validate-only create for the row-index question (A5, A6):

- `Perform` 2 is documented as "check the list, create no task";
- its only number, "+000", has no country and cannot be dialled by anyone;
- its schedule starts four days ahead, so even a task created against the document would not have started;
- a TaskID in the answer (a task created after all) is cancelled at once and reported.

A create with an invalid number among valid ones would show the same index, but starts dialling the valid
ones; that is never sent. Whatever would change a task (cancel, pause, a call's cancellation) or needs
AIRudder to send us something (webhooks, their signature, encryption and retries) is not tested: those
checks say why.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from dialhub.vendors.airudder.adapter import AirudderAdapter
from dialhub.vendors.airudder.codes import (
    CALL_STATUSES,
    DETAIL_PAGE_SIZE,
    INTENTIONS,
    PAGE_NUMBER,
    PAGE_SIZE,
    PATH_AUTH,
    PATH_CREATE_TASK,
    PATH_DETAIL,
    PATH_LIST,
    PATH_OPERATION,
    SUCCESS_CODES,
    TASK_GONE_ERRORS,
    TIME_FORMAT,
    TOKEN_ERRORS,
    USER_AGENT,
)
from dialhub.vendors.airudder.wire import (
    AirudderOptions,
    Fields,
    code_of,
    data_of,
    listing_total,
    row_key,
    rows_of,
    succeeded,
)
from dialhub.vendors.base import VendorRejected
from dialhub.vendors.contract import Check, Evidence, Probe, Verdict, cannot_test

if TYPE_CHECKING:
    import httpx

HELD, BROKEN, UNTESTED = Verdict.HELD, Verdict.BROKEN, Verdict.UNTESTED
PROBE_COMMENTS = "contract-check|index-probe"
UNDIALLABLE_NUMBER = "+000"  # no country has code 0: refused by any validation, dialled by nobody
_INDEX = re.compile(r"\[\s*(\d{1,6})\s*\]")


# --------------------------------------------------------------------------- plumbing
def _adapter(probe: Probe) -> AirudderAdapter:
    if not isinstance(probe.adapter, AirudderAdapter):
        raise TypeError("the probe's adapter is not AIRudder's")
    return probe.adapter


def _answer(response: httpx.Response) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Token {token}", "Content-Type": "application/json", "User-Agent": USER_AGENT}


def _get(probe: Probe, path: str, params: Mapping[str, str], token: str | None = None) -> httpx.Response:
    token = token if token is not None else _adapter(probe)._token()
    return probe.http.get(path, params=dict(params), headers=_headers(token))


def _post(probe: Probe, path: str, body: dict[str, Any], token: str | None = None) -> httpx.Response:
    token = token if token is not None else _adapter(probe)._token()
    return probe.http.post(path, json=body, headers=_headers(token))


def _seen(response: httpx.Response) -> str:
    """HTTP status and AIRudder code of an answer, for the evidence (never its data)."""
    return f"HTTP {response.status_code}, code {code_of(_answer(response))}"


def _unknown_name() -> str:
    return f"dh_contract_check_{secrets.token_hex(8)}"


# --------------------------------------------------------------------------- A17, A2, A1: auth and envelopes
def _auth(probe: Probe) -> Evidence:
    """A17: the account's token opens a read-only query; a wrong APPSecret and a wrong token are refused."""
    try:
        token = _adapter(probe)._request_token()
    except VendorRejected as exc:
        return Evidence(BROKEN, f"the account's own APPKey and APPSecret were refused: {exc.reason}")
    read = _get(probe, PATH_LIST, {"TaskName": _unknown_name()}, token)
    wrong_secret = probe.http.post(
        PATH_AUTH,
        json={"APPKey": str(probe.account.get("appKey", "")), "APPSecret": f"{secrets.token_hex(16)}-not-it"},
        headers={"Content-Type": "application/json", "User-Agent": USER_AGENT},
    )
    wrong_token = _get(probe, PATH_LIST, {"TaskName": _unknown_name()}, f"not-a-token-{secrets.token_hex(8)}")
    found = []
    if not (read.status_code == 200 and succeeded(_answer(read))):
        found.append(f"the account's token was refused on a read-only list ({_seen(read)})")
    secret_data = data_of(_answer(wrong_secret))
    if wrong_secret.status_code == 200 and isinstance(secret_data, dict) and secret_data.get("token"):
        found.append(f"a wrong APPSecret was given a token ({_seen(wrong_secret)})")
    if not (wrong_token.status_code == 401 or code_of(_answer(wrong_token)) in TOKEN_ERRORS):
        found.append(f"a wrong token was not refused with HTTP 401, 10812 or 10813 ({_seen(wrong_token)})")
    seen = f"token read: {_seen(read)}; wrong APPSecret: {_seen(wrong_secret)}; wrong token: {_seen(wrong_token)}"
    return Evidence(BROKEN, "; ".join(found) + f" [{seen}]") if found else Evidence(HELD, seen)


def _success_code(probe: Probe) -> Evidence:
    """A2: success is `code` 200 (0 accepted), on the token answer and on a query alike."""
    token_answer = probe.http.post(
        PATH_AUTH,
        json={"APPKey": str(probe.account.get("appKey", "")), "APPSecret": str(probe.account.get("appSecret", ""))},
        headers={"Content-Type": "application/json", "User-Agent": USER_AGENT},
    )
    query = _get(probe, PATH_LIST, {"TaskName": _unknown_name()})
    codes = {"token": code_of(_answer(token_answer)), "list": code_of(_answer(query))}
    seen = ", ".join(
        f"{what} answered code {code} ({_answer(response).get('status')!r})"
        for what, code, response in (
            ("token", codes["token"], token_answer),
            ("list", codes["list"], query),
        )
    )
    if all(code in SUCCESS_CODES for code in codes.values()):
        return Evidence(HELD, seen + ("" if set(codes.values()) == {200} else "; code 0 is accepted as success too"))
    return Evidence(BROKEN, f"a successful answer without code 200 or 0: {seen}")


def _task_gone(probe: Probe) -> Evidence:
    """A1: the detail of a task that does not exist answers one of the codes polling skips."""
    unknown_id = secrets.token_hex(16)
    answer = _get(probe, PATH_DETAIL, {"TaskID": unknown_id, PAGE_NUMBER: "1", PAGE_SIZE: "10"})
    code, payload = code_of(_answer(answer)), _answer(answer)
    if code in TASK_GONE_ERRORS:
        return Evidence(HELD, f"a made-up TaskID answered {_seen(answer)} (10201/10705 are not provoked)")
    if succeeded(payload):
        return Evidence(
            BROKEN, f"a made-up TaskID answered success with {len(rows_of(payload))} rows ({_seen(answer)})"
        )
    return Evidence(BROKEN, f"a made-up TaskID answered {_seen(answer)}, not 10502/10506/10702/10703")


# --------------------------------------------------------------------------- A8, A9, A10, A16: listings
def _paging_refused(probe: Probe, path: str, params: Mapping[str, str], refused: httpx.Response) -> Evidence | None:
    """When a query with PageNumber/PageSize was refused and the same query without them is not, the paging
    parameters themselves are what AIRudder refuses: every listing would fail, so it is said plainly."""
    plain = _get(probe, path, params)
    if succeeded(_answer(plain)):
        return Evidence(
            BROKEN,
            f"{PAGE_NUMBER}/{PAGE_SIZE} are refused ({_seen(refused)}); without them {path} answers ({_seen(plain)})",
        )
    return None


def _list_by_name(probe: Probe) -> Evidence:
    """A8: a list by a TaskName that does not exist is a success with no row (so it also filters by name)."""
    query = {"TaskName": _unknown_name()}
    answer = _get(probe, PATH_LIST, {**query, PAGE_NUMBER: "1", PAGE_SIZE: "100"})
    payload = _answer(answer)
    rows, total = rows_of(payload), listing_total(payload)
    seen = f"{_seen(answer)}, {len(rows)} rows, total {total}"
    if not succeeded(payload):
        refused = _paging_refused(probe, PATH_LIST, query, answer)
        return refused or Evidence(BROKEN, f"a name that does not exist is an error, not an empty list ({seen})")
    if rows:
        named = sum(1 for row in rows if Fields(row).text("TaskName") is not None)
        return Evidence(
            BROKEN, f"rows of other tasks came back: the TaskName filter is not applied ({seen}, {named} named)"
        )
    data = data_of(payload)
    shape = "data.list" if isinstance(data, dict) and isinstance(data.get("list"), list) else type(data).__name__
    return Evidence(HELD, f"success with no row ({seen}; rows under {shape})")


class _Refused(Exception):
    def __init__(self, answer: httpx.Response) -> None:
        super().__init__(f"the detail of --task-id was refused ({_seen(answer)})")
        self.answer = answer


def _detail_page(probe: Probe, task_id: str, page: int, size: int) -> tuple[list[dict[str, Any]], int | None, str]:
    answer = _get(probe, PATH_DETAIL, {"TaskID": task_id, PAGE_NUMBER: str(page), PAGE_SIZE: str(size)})
    payload = _answer(answer)
    if not succeeded(payload):
        raise _Refused(answer)
    return rows_of(payload), listing_total(payload), _seen(answer)


def _detail_paging(probe: Probe) -> Evidence:
    """A9: the detail of an existing task in one answer (its total), and what paging reads when it is not."""
    if not probe.task_id:
        return Evidence(UNTESTED, "needs --task-id: an AIRudder task of this account with results")
    try:
        first, total, seen = _detail_page(probe, probe.task_id, 1, DETAIL_PAGE_SIZE)
    except _Refused as exc:
        return _paging_refused(probe, PATH_DETAIL, {"TaskID": probe.task_id}, exc.answer) or Evidence(
            UNTESTED, str(exc)
        )
    read = sum(len(rows) for rows in _adapter(probe)._listing(PATH_DETAIL, {"TaskID": probe.task_id}, DETAIL_PAGE_SIZE))
    if total is None:
        second, _, _ = _detail_page(probe, probe.task_id, 2, DETAIL_PAGE_SIZE)
        new = {row_key(row) for row in second} - {row_key(row) for row in first}
        if not new:
            return Evidence(HELD, f"{len(first)} rows and no total ({seen}); page 2 brought no new row")
        return Evidence(
            BROKEN, f"no total, and page 2 brought {len(new)} new rows after {len(first)}: paging read {read} rows"
        )
    if len(first) >= total:
        return Evidence(HELD, f"all {total} rows in the first answer ({seen})")
    return Evidence(
        BROKEN,
        f"the first page holds {len(first)} of {total} rows although {DETAIL_PAGE_SIZE} were asked: AIRudder pages "
        f"the detail; paging with {PAGE_NUMBER}/{PAGE_SIZE} read {read} of {total}",
    )


_FIELD_GROUPS = {
    "Comments": ("Comments", "Comment"),
    "a call status": ("CallStatus", "Status", "CallResult", "DialStatus"),
    "TaskID": ("TaskID",),
}


def _row_fields(probe: Probe) -> Evidence:
    """A10 (detail side): the rows carry our Comments, a status, the task and, once dialled, a CallID."""
    if not probe.task_id:
        return Evidence(UNTESTED, "needs --task-id; the Webhook of Call itself can only be seen when one arrives")
    rows, _, seen = _detail_page(probe, probe.task_id, 1, DETAIL_PAGE_SIZE)
    if not rows:
        return Evidence(UNTESTED, f"the task shows no row ({seen})")
    missing = [name for name, names in _FIELD_GROUPS.items() if any(Fields(row).get(*names) is None for row in rows)]
    if not any(Fields(row).get("CallID", "CallUUID") is not None for row in rows):
        missing.append("a CallID (no row has one)")
    names = sorted({str(key) for row in rows for key in row})[:30]
    if missing:
        return Evidence(BROKEN, f"rows without {', '.join(missing)}; fields seen: {', '.join(names)}")
    return Evidence(HELD, f"{len(rows)} rows; fields seen: {', '.join(names)} (the webhook itself is not seen here)")


def _dictionaries(probe: Probe) -> Evidence:
    """A16: the statuses and intentions of the task's rows are in our dictionaries."""
    if not probe.task_id:
        return Evidence(UNTESTED, "needs --task-id: an AIRudder task of this account with results")
    statuses: set[str] = set()
    intentions: set[str] = set()
    for rows in _adapter(probe)._listing(PATH_DETAIL, {"TaskID": probe.task_id}, DETAIL_PAGE_SIZE):
        for row in rows:
            fields = Fields(row)
            statuses.add(fields.text("CallStatus", "Status", "CallResult", "DialStatus") or "")
            intentions.add(fields.text("Intention", "IntentionTag", "Intent", "Tag", "Label") or "")
    unknown_statuses = sorted(value for value in statuses - {""} if value not in CALL_STATUSES)[:10]
    unknown_intentions = sorted(value for value in intentions - {""} if value not in INTENTIONS)[:10]
    seen = f"statuses {sorted(statuses - {''})[:10]}, intentions {sorted(intentions - {''})[:10]}"
    if unknown_statuses:
        # An unknown status decides whether a row is final by its other fields: worth adding before go-live.
        return Evidence(BROKEN, f"call statuses not in CALL_STATUSES: {unknown_statuses} ({seen})")
    note = f"; intentions kept raw and counted as unknown: {unknown_intentions}" if unknown_intentions else ""
    return Evidence(HELD, seen + note)


# --------------------------------------------------------------------------- A5, A6: the validate-only probe
def _validate_only(probe: Probe) -> tuple[dict[str, Any] | None, str]:
    """The answer to a validate-only create of one undiallable number (see the module docstring)."""
    try:
        options = AirudderOptions.model_validate(probe.options)
    except ValidationError:
        return None, "needs --options with robotId and sipLine (a campaign's vendorOptions)"
    adapter = _adapter(probe)
    zone = ZoneInfo(adapter.account.timezone)
    start = (dt.datetime.now(dt.UTC) + dt.timedelta(days=4)).astimezone(zone).replace(microsecond=0)
    body = {
        "TaskName": _unknown_name(),
        "RobotID": options.robot_id,
        "SIPLine": options.sip_line,
        "Type": options.task_type,
        "Perform": 2,  # check the list, create no task
        "RepeatNumber": 0,
        "RepeatInterval": 0,
        "RobotMethod": options.robot_method,
        "ScheduleStartTime": start.strftime(TIME_FORMAT),
        "ScheduleEndTime": (start + dt.timedelta(hours=1)).strftime(TIME_FORMAT),
        "Details": [{"Mobile": UNDIALLABLE_NUMBER, "Platform": options.platform, "Comments": PROBE_COMMENTS}],
    }
    answer = _post(probe, PATH_CREATE_TASK, body)
    payload = _answer(answer)
    data = data_of(payload)
    created = Fields(data).text("TaskID") if isinstance(data, dict) else None
    if created:
        cancelled = _post(probe, PATH_OPERATION, {"TaskID": created, "Operation": "cancel"})
        return None, f"Perform 2 created task {created} after all (cancelled at once: {_seen(cancelled)})"
    entries = data.get("detail_error_list") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        return None, f"the validate-only create listed no row error ({_seen(answer)})"
    return {"entries": entries, "seen": _seen(answer)}, ""


def _index_base(probe: Probe) -> Evidence:
    """A6: which Details index AIRudder names for the only row of a validate-only create."""
    found, why = _validate_only(probe)
    if found is None:
        return Evidence(UNTESTED, why)
    fields = [Fields(entry).text("field") or "" for entry in found["entries"] if isinstance(entry, dict)]
    indexes = [int(match.group(1)) for text in fields if (match := _INDEX.search(text))]
    if indexes == [0]:
        return Evidence(HELD, f"the only row is named {fields[0]!r}: counted from 0 ({found['seen']})")
    if indexes == [1]:
        return Evidence(
            BROKEN, f"the only row is named {fields[0]!r}: AIRudder counts from 1 (indexes doubt two rows either way)"
        )
    return Evidence(BROKEN, f"the only row's error names {fields!r} ({found['seen']})")


def _comments_echoed(probe: Probe) -> Evidence:
    """A5: detail_error_list echoes the Comments sent (so refusals are matched by our ids, not by index)."""
    found, why = _validate_only(probe)
    if found is None:
        return Evidence(UNTESTED, why)
    echoed = [Fields(entry).text("comments", "comment") for entry in found["entries"] if isinstance(entry, dict)]
    if echoed == [PROBE_COMMENTS]:
        return Evidence(HELD, f"the row error carries the Comments sent, as `comments` ({found['seen']})")
    return Evidence(
        BROKEN,
        f"the row error carries comments {echoed!r}, not the Comments sent: refusals are matched by index and "
        "leave two numbers unconfirmed each",
    )


# --------------------------------------------------------------------------- every assumption
_NO_WEBHOOK = "AIRudder documents no test callback; the first real Webhook of Call shows it"
CHECKS: list[Check] = [
    Check("A1", "Does a task that does not exist answer 10502/10506/10702/10703?", _task_gone),
    Check("A2", "Is success `code` 200 (or 0)?", _success_code),
    Check(
        "A3",
        "Are TaskNames of letters, digits and _ accepted?",
        cannot_test(
            "only a created task proves it, and creating one dials its numbers "
            "(A6's validate-only create sends such a name and would be refused 10518)"
        ),
    ),
    Check(
        "A4",
        "Is `Type` collection accepted for collection robots?",
        cannot_test("only a created task proves it (validation need not check Type against the robot); ask AIRudder"),
    ),
    Check("A5", "Does detail_error_list echo the Comments sent?", _comments_echoed),
    Check("A6", "Does detail_error_list count Details rows from 0?", _index_base),
    Check(
        "A7",
        "Do ExtraA-C take 255 characters and no emoji?",
        cannot_test("AIRudder validates Extra fields per robot; ask AIRudder rather than probe production"),
    ),
    Check("A8", "Does a list by an unknown TaskName answer success with no row?", _list_by_name),
    Check("A9", "Does the detail give every row of a task in one answer (its total)?", _detail_paging),
    Check("A10", "Do detail rows carry TaskID, CallID, Comments and a call status?", _row_fields),
    Check(
        "A11",
        "Is a number never dialled shown without a CallID?",
        cannot_test("needs a number cancelled before its call, in a task of this account"),
    ),
    Check(
        "A12",
        "Are the cancel and operation bodies {TaskID, Mobile} / {TaskID, Operation}?",
        cannot_test("both change a real task (a cancelled call, a paused or cancelled task)"),
    ),
    Check("A13", "Is X-AIRudder-Sign the hex HMAC-SHA256 of the body keyed with APPSecret?", cannot_test(_NO_WEBHOOK)),
    Check("A14", "Are encrypted callbacks AES-CBC/PKCS7 base64 with aesKey/aesIv?", cannot_test(_NO_WEBHOOK)),
    Check("A15", "Does any HTTP 200 acknowledge a webhook?", cannot_test(_NO_WEBHOOK)),
    Check("A16", "Are the rows' call statuses in our dictionary?", _dictionaries),
    Check("A17", "Does the token open a query, and are a wrong secret and token refused?", _auth),
    Check(
        "A18",
        "Does AIRudder send a webhook again after a non-200 answer?",
        cannot_test("only a real webhook answered other than 200 shows it; not provoked against production"),
    ),
]
