"""The Blu contract check: each ASSUMPTION of the package docstring put to a real account, where that is safe.

Safe means: signed read-only queries (`queryCallResult` of the probe's task), one `createTask` with no
records, and a query signed with a wrong key. Nothing here uploads a record: Blu dials every record it
takes, so the assumptions only an upload could show (A3, A4, A8, A16) are reported as not tested, with why,
and so are those only a real call or Blu's own staff can show.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections import Counter
from typing import Any

from dialhub.models import Campaign, VendorTask
from dialhub.vendors.base import VendorRejected, VendorUnavailable
from dialhub.vendors.blu.adapter import BluAdapter
from dialhub.vendors.blu.codes import PAGE_SIZE_LIMIT, PATH_RESULTS, SUCCESS, VENDOR, WALL_CLOCK
from dialhub.vendors.blu.wire import BluAccount, sign
from dialhub.vendors.contract import Check, Evidence, Probe, Verdict, broken, cannot_test, held, untested

DEFAULT_PAGE_ROWS = 10  # Blu's only documented page size
FUTURE_SLACK = dt.timedelta(minutes=5)  # clocks disagree a little; a result this far ahead is in another zone
NEEDS_TASK = "needs the probe's task (--task-id): an existing task of this account with results"


def _blu(probe: Probe) -> BluAdapter:
    """The probe's adapter when it is Blu's; otherwise one built from the account on the probe's client."""
    if isinstance(probe.adapter, BluAdapter):
        return probe.adapter
    return BluAdapter.from_account(probe.account, http=probe.http)


def _page(adapter: BluAdapter, task_id: str, page_no: int, size: int) -> tuple[Any, list[dict[str, Any]]]:
    """(`count`, rows) of one result page; a refusal raises VendorRejected, as the adapter's reading does."""
    payload = adapter.answer_to(PATH_RESULTS, {"taskId": task_id, "pageNo": page_no, "pageSize": size})
    if payload.get("code") != SUCCESS:
        raise VendorRejected(VENDOR, payload.get("code"), str(payload.get("message") or "no message"))
    rows = payload.get("data") or []
    return payload.get("count"), [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []


def _call_ids(rows: list[dict[str, Any]]) -> list[str]:
    return [str(row["callId"]) for row in rows if row.get("callId") not in (None, "")]


def _ext_vars(row: dict[str, Any]) -> dict[str, Any]:
    value = row.get("extVars")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


# --------------------------------------------------------------------------------------------- the checks
def base_url_answers(probe: Probe) -> Evidence:
    """A1: the account's base URL answers a signed query in Blu's envelope (`code`, `message`)."""
    adapter = _blu(probe)
    try:
        payload = adapter.answer_to(PATH_RESULTS, {"taskId": probe.task_id or "0", "pageNo": 1, "pageSize": 1})
    except VendorRejected as exc:
        return broken(f"{adapter.account.base_url} answered {exc.reason}, not Blu's JSON envelope")
    except VendorUnavailable as exc:
        return untested(f"{adapter.account.base_url} gave no answer: {exc.reason}")
    if "code" not in payload:
        return broken(f"{adapter.account.base_url} answered JSON without a `code`: keys {sorted(payload)[:8]}")
    return held(f"{adapter.account.base_url} answered queryCallResult with code {payload['code']}")


def create_task_answers_a_task_id(probe: Probe) -> Evidence:
    """A2: createTask with the campaign's options answers 2000 and a taskId that can be queried."""
    if not probe.options:
        return untested("needs a campaign's vendor options (--options, at least botId) to create an empty task")
    adapter = _blu(probe)
    today = adapter.today()
    campaign = Campaign(
        campaign_id="contract-check",
        name="dialhub contract check",
        vendor=VENDOR,
        dial_date=today,
        timezone=adapter.account.timezone,
        vendor_options=BluAdapter.validate_options(probe.options),
        created_at=dt.datetime.now(dt.UTC),
    )
    try:
        task_id = adapter.create_task(campaign, today)
    except VendorRejected as exc:
        return broken(f"createTask refused: {exc.reason}")
    _, rows = _page(adapter, task_id, 1, DEFAULT_PAGE_ROWS)
    return held(f"createTask answered taskId {task_id}; queryCallResult reads it ({len(rows)} results; no records)")


def queries_page_as_asked(probe: Probe) -> Evidence:
    """A13: a page of 100 asked holds what ten pages of 10 (Blu's documented default) hold."""
    if probe.task_id is None:
        return untested(f"{NEEDS_TASK}, more than 10 of them")
    adapter = _blu(probe)
    count, large = _page(adapter, probe.task_id, 1, PAGE_SIZE_LIMIT)
    small_pages = []
    for page_no in range(1, PAGE_SIZE_LIMIT // DEFAULT_PAGE_ROWS + 1):
        _, rows = _page(adapter, probe.task_id, page_no, DEFAULT_PAGE_ROWS)
        if not rows:
            break
        small_pages.append(_call_ids(rows))
    if len(small_pages) >= 2 and set(small_pages[0]) == set(small_pages[1]):
        return broken("pages 1 and 2 of 10 rows hold the same calls: Blu ignores pageNo")
    in_small = [call_id for page in small_pages for call_id in page]
    if len(in_small) <= DEFAULT_PAGE_ROWS and len(large) <= DEFAULT_PAGE_ROWS:
        return untested(f"the task shows {len(in_small)} results; more than 10 are needed to see a cap")
    count_note = "" if count in (None, len(large)) else f"; its count says {count!r}, not the rows on the page"
    if len(large) < len(in_small):
        return broken(
            f"asked 100 a page, got {len(large)} while pages of 10 show {len(in_small)}: Blu serves at most "
            f"{len(large)} a page (dialhub reads on regardless; set the account's pageSize to {len(large)})"
            + count_note
        )
    if set(_call_ids(large)) != set(in_small):
        return broken(f"a page of 100 and pages of 10 hold different calls ({len(large)} rows)" + count_note)
    return held(f"asked 100 a page, got {len(large)}: the same calls as {len(small_pages)} pages of 10" + count_note)


def signed_query_held(probe: Probe) -> Evidence:
    """A14: a query signed as dialhub signs (lowercase hex) is answered 2000."""
    if probe.task_id is None:
        return untested(NEEDS_TASK)
    payload = _blu(probe).answer_to(PATH_RESULTS, {"taskId": probe.task_id, "pageNo": 1, "pageSize": 1})
    if payload.get("code") != SUCCESS:
        return broken(f"a signed queryCallResult was answered code {payload.get('code')}: {payload.get('message')}")
    return held("a signed queryCallResult was answered code 2000")


def wrong_sign_refused(probe: Probe) -> Evidence:
    """A15: the same query signed with a wrong key is refused (and the right one is not)."""
    if probe.task_id is None:
        return untested(NEEDS_TASK + " (a refusal of an unknown task would prove nothing)")
    if signed_query_held(probe).verdict is not Verdict.HELD:
        return untested("a correctly signed query is not answered 2000 either, so a refusal would prove nothing")
    account = BluAccount.model_validate(probe.account)
    timestamp = str(int(time.time() * 1000))
    wrong_key = hashlib.sha256(account.app_key.get_secret_value().encode()).hexdigest()  # anything but the key
    headers = {
        "appId": account.app_id,
        "timeStamp": timestamp,
        "sign": sign(account.app_id, wrong_key, timestamp),
        "Content-Type": "application/json",
    }
    body = {"taskId": probe.task_id, "pageNo": 1, "pageSize": 1}
    response = probe.http.post(f"{account.base_url.rstrip('/')}{PATH_RESULTS}", json=body, headers=headers)
    if response.status_code != 200:
        return held(f"a wrongly signed queryCallResult was refused with HTTP {response.status_code}")
    try:
        payload = response.json()
    except ValueError:
        return held("a wrongly signed queryCallResult was answered without JSON")
    code = payload.get("code") if isinstance(payload, dict) else None
    if code == SUCCESS:
        return broken("a queryCallResult signed with a wrong key was answered code 2000: Blu does not check the sign")
    return held(f"a wrongly signed queryCallResult was refused: code {code}")


def result_times_not_in_the_future(probe: Probe) -> Evidence:
    """A5, partly: read in the account's zone, no result time may lie in the future."""
    if probe.task_id is None:
        return untested(NEEDS_TASK)
    adapter = _blu(probe)
    task = VendorTask(
        campaign_id="contract-check", vendor=VENDOR, local_date=adapter.today(), vendor_task_id=probe.task_id
    )
    outcomes = next(adapter.results(task), [])
    ahead = dt.datetime.now(dt.UTC) + FUTURE_SLACK
    future = [o for o in outcomes if any(t is not None and t > ahead for t in (o.started_at, o.ended_at))]
    zone = adapter.account.timezone
    if future:
        return broken(f"{len(future)} of {len(outcomes)} results end in the future read in {zone}: Blu's zone differs")
    return untested(
        f"no contradiction in {len(outcomes)} results read in {zone} (a zone east of Blu's would put recent ones "
        "in the future); the zone of a task's day is not visible at all: confirm both with Blu"
    )


def slots_name_a_payment_window(probe: Probe) -> Evidence:
    """A12: rows that carry `slots` name the promised payment as `paymentTime`, two wall-clock times."""
    if probe.task_id is None:
        return untested(NEEDS_TASK)
    _, rows = _page(_blu(probe), probe.task_id, 1, PAGE_SIZE_LIMIT)
    slots = [value for row in rows if isinstance(value := row.get("slots"), dict)]
    if not slots:
        return untested(f"none of {len(rows)} rows carries slots (the slot variant of the query is not published)")
    windows = [value["paymentTime"] for value in slots if "paymentTime" in value]
    if not windows:
        keys = sorted({key for value in slots for key in value})[:8]
        return broken(f"{len(slots)} rows carry slots, none names paymentTime; keys seen: {keys}")
    bad = [
        window
        for window in windows
        if window is not None
        and not (
            isinstance(window, list)
            and len(window) == 2
            and all(isinstance(t, str) and WALL_CLOCK.fullmatch(t.strip()) for t in window)
        )
    ]
    if bad:
        return broken(f"{len(bad)} of {len(windows)} paymentTime values are not two 'YYYY-MM-DD HH:mm:ss' times")
    return held(f"{len(windows)} rows name paymentTime as two wall-clock times (or null)")


def rows_carry_call_id_and_our_ext_vars(probe: Probe) -> Evidence:
    """A17: every row has a callId, and extVars come back as dialhub uploaded them (our ids inside)."""
    if probe.task_id is None:
        return untested(NEEDS_TASK + ", made by dialhub")
    _, rows = _page(_blu(probe), probe.task_id, 1, PAGE_SIZE_LIMIT)
    if not rows:
        return untested("the task shows no results")
    without_call_id = len(rows) - len(_call_ids(rows))
    if without_call_id:
        return broken(f"{without_call_id} of {len(rows)} rows carry no callId")
    ours = [ext for row in rows if {"campaignId", "contactId"} <= (ext := _ext_vars(row)).keys()]
    if not ours:
        return untested(f"none of {len(rows)} rows echoes campaignId and contactId: was the task made by dialhub?")
    if len(ours) < len(rows):
        return broken(f"{len(rows) - len(ours)} of {len(rows)} rows lost the extVars dialhub uploaded")
    same_record = sum(1 for row in rows if str(row.get("userId")) == str(_ext_vars(row).get("orderId")))
    return held(f"{len(rows)} rows carry callId and echo our ids; userId is our record id in {same_record}")


def statuses_seen(probe: Probe) -> Evidence:
    """A11: nothing to hold or break (the status is kept raw); what was seen helps to ask Blu for the list."""
    reason = "Blu publishes no dictionary for the integer status, so dialhub reads none from it"
    if probe.task_id is None:
        return untested(reason)
    _, rows = _page(_blu(probe), probe.task_id, 1, PAGE_SIZE_LIMIT)
    seen = Counter(str(row.get("status")) for row in rows)
    return untested(f"{reason}; seen in {len(rows)} rows: {dict(sorted(seen.items()))}")


UPLOAD_DIALS = "only an upload shows it, and Blu dials every record it takes"
CHECKS: list[Check] = [
    Check("A1", "does the account's base URL answer as Blu?", base_url_answers),
    Check("A2", "does createTask answer {code: 2000, taskId} for these options?", create_task_answers_a_task_id),
    Check("A3", "does Blu ignore a record id it already holds?", cannot_test(UPLOAD_DIALS + " (twice if A3 fails)")),
    Check("A4", "is mobile the national number, digits only?", cannot_test(UPLOAD_DIALS)),
    Check("A5", "are result times and a task's day in the account's zone?", result_times_not_in_the_future),
    Check(
        "A6",
        "is a result called back as one queryCallResult row?",
        cannot_test(
            "Blu calls back only for real calls and has no test callback; the first real ones show it: "
            "WebhookRejected{reason=no_result} counts callbacks that carried no call id"
        ),
    ),
    Check(
        "A7",
        "does Blu send nothing that authenticates a callback?",
        cannot_test("a property of what Blu sends us; ask Blu for a signature and its source IPs"),
    ),
    Check("A8", "is taskCancelPhoneCall's orderId the record id?", cannot_test(UPLOAD_DIALS + " before a cancel")),
    Check(
        "A9",
        "does pre-dial post the record's extVars, and does code 1 mean dial?",
        cannot_test("Blu asks only before a real call; the parameters are configured by Blu's staff"),
    ),
    Check("A10", "is the Busy conclusion a busy line?", cannot_test("needs a real call to a busy line")),
    Check("A11", "has the integer status a dictionary?", statuses_seen),
    Check("A12", "are promised-payment slots slots.paymentTime, two times?", slots_name_a_payment_window),
    Check("A13", "does queryCallResult serve the pageSize asked, up to 100?", queries_page_as_asked),
    Check("A14", "is a lowercase hex sha256(appId+appKey+timeStamp) sign accepted?", signed_query_held),
    Check("A15", "is a request with a wrong sign refused?", wrong_sign_refused),
    Check(
        "A16",
        "is the upload's count the records it took?",
        cannot_test(
            UPLOAD_DIALS + "; dialhub does not rely on it: a count below the records sent leaves them unconfirmed"
        ),
    ),
    Check("A17", "do result rows carry callId and echo our extVars?", rows_carry_call_id_and_our_ext_vars),
]
