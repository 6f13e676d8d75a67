"""One campaign across several vendors: each contact assigned by its hash and shown, each vendor sent only its
own contacts in its own batches and tasks, compliance still per number across the split, redials routed as the
campaign says, every way of asking for a split wrongly answered with a 422 naming the field, the comparison,
and failover: contacts a vendor never took go to the fallback, and none it may hold ever does."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest

from dialhub.models import CallOutcome, Campaign, DialState, DispatchBatch, FailoverCause, Hold, VendorShare
from dialhub.outcomes import record_outcomes
from dialhub.queue import DispatchQueue
from dialhub.settings import Settings
from dialhub.split import assign
from dialhub.store import Circuit, DynamoStore, RecordResult
from dialhub.store.circuits import FAILURES_TO_OPEN, OPEN_FOR
from dialhub.vendors import StaticAdapters
from dialhub.vendors.airudder.tokens import forget_tokens
from dialhub.vendors.blu.adapter import BluAdapter
from dialhub.vendors.blu.codes import PATH_CREATE_TASK as BLU_CREATE_TASK
from dialhub.vendors.blu.codes import PATH_UPLOAD as BLU_UPLOAD
from dialhub.vendors.nxtele.adapter import NxteleAdapter
from dialhub.wiring import Dependencies
from local.simulators.airudder import AirudderSimulator
from local.simulators.nxtele import DEMO_SCENE_ID, NxteleSimulator
from tests.conftest import (
    RecordingEvents,
    api_event,
    blu_account,
    call_api,
    dispatch_records,
    drain_queue,
    function_module,
    load_event,
    plan_now,
    replay_stream,
    states,
    stream_records,
    table_items,
)
from tests.integration.test_airudder_flow import APP_KEY, APP_SECRET, _adapter
from tests.integration.test_airudder_flow import OPTIONS as AIRUDDER_OPTIONS
from tests.integration.test_nxtele_flow import nx_account

NOW = dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.UTC)  # 11:00 in Manila
ALWAYS = [{"weekdays": [1, 2, 3, 4, 5, 6, 7], "start": "00:00", "end": "23:59:59.999999"}]
SPLIT = [
    {"vendor": "blu", "share": 60, "vendorOptions": {"botId": 7}},
    {
        "vendor": "nxtele",
        "share": 25,
        "vendorOptions": {"sceneID": DEMO_SCENE_ID, "scriptVariables": ["amountDue", "dueDate"]},
    },
    {"vendor": "airudder", "share": 15, "vendorOptions": AIRUDDER_OPTIONS},
]
SHARES = [(share["vendor"], share["share"]) for share in SPLIT]


@pytest.fixture
def ar_sim() -> Any:
    forget_tokens()
    simulator = AirudderSimulator(APP_KEY, APP_SECRET, dial_delay=(0.01, 0.05), minute_seconds=0.01, seed=13).start()
    yield simulator
    simulator.stop()
    forget_tokens()


@pytest.fixture
def deps(table_name: str, queue_url: str, blu: Any, nx_sim: NxteleSimulator, ar_sim: AirudderSimulator) -> Any:
    settings = Settings(table_name=table_name, dispatch_queue_url=queue_url, default_phone_region="PH")
    adapters = {"blu": blu, "nxtele": NxteleAdapter.from_account(nx_account(nx_sim)), "airudder": _adapter(ar_sim)}
    deps = Dependencies(
        settings=settings,
        store=DynamoStore(table_name),
        queue=DispatchQueue(queue_url),
        adapters=StaticAdapters(adapters),
    )
    deps.clock = lambda: NOW
    return deps


def _contacts(ids: list[str], phone: str | None = None) -> list[dict[str, Any]]:
    return [
        {
            "contactId": contact_id,
            "phone": phone or f"0917{index:07d}",
            "name": "Maria",
            "variables": {"amountDue": 1500, "dueDate": "2026-11-30"},
        }
        for index, contact_id in enumerate(ids)
    ]


def _create(deps: Any, ids: list[str], **changes: Any) -> tuple[int, Any]:
    body = {"name": "split", "campaignId": "cmp_split", "vendors": SPLIT, "contacts": _contacts(ids)} | changes
    return call_api(deps, api_event("api/create_campaign.json", body=body))


def _stored_vendors(deps: Any, campaign_id: str) -> dict[str, str]:
    vendors: dict[str, str] = {}
    for page in deps.store.iter_contacts(campaign_id, list(DialState)):
        vendors |= {contact.contact_id: contact.vendor for contact in page}
    return vendors


def test_each_contact_goes_to_the_vendor_its_hash_names_and_the_api_shows_it(deps: Any) -> None:
    ids = [f"loan-{n}" for n in range(400)]
    status, created = _create(deps, ids)
    assert status == 201 and created["accepted"] == 400, created
    stored = _stored_vendors(deps, "cmp_split")
    assert stored == {contact_id: assign("cmp_split", contact_id, SHARES) for contact_id in ids}
    got = Counter(stored.values())
    for vendor, share in SHARES:  # 400 contacts: within 8 points of the share (more than 3 standard deviations)
        assert abs(got[vendor] / 400 - share / 100) < 0.08, got
    status, view = call_api(deps, api_event("api/get_campaign.json", path={"campaignId": "cmp_split"}))
    assert status == 200 and view["vendor"] == "blu" and view["redialVia"] == "same"
    assert [(share["vendor"], share["share"]) for share in view["vendors"]] == SHARES
    assert view["vendors"][1]["vendorOptions"]["sceneID"] == DEMO_SCENE_ID
    contact_id = next(cid for cid, vendor in stored.items() if vendor == "airudder")
    path = {"campaignId": "cmp_split", "contactId": contact_id}
    status, contact = call_api(deps, api_event("api/get_contact.json", path=path))
    assert status == 200 and contact["vendor"] == "airudder"


def test_contacts_added_later_leave_the_earlier_ones_with_their_vendors(deps: Any) -> None:
    assert _create(deps, [f"c{n}" for n in range(100)])[0] == 201
    before = _stored_vendors(deps, "cmp_split")
    body = {"contacts": _contacts([f"c{n}" for n in range(100, 200)])}
    status, added = call_api(deps, api_event("api/add_contacts.json", path={"campaignId": "cmp_split"}, body=body))
    assert status == 200 and added["accepted"] == 100, added
    after = _stored_vendors(deps, "cmp_split")
    assert {contact_id: after[contact_id] for contact_id in before} == before
    assert set(after.values()) == {"blu", "nxtele", "airudder"}


def test_each_vendor_is_sent_only_its_contacts_in_its_own_batches_and_task_each_dialled_once(
    deps: Any, template: Any, blu_sim: Any, nx_sim: Any, ar_sim: Any
) -> None:
    ids = [f"c{n}" for n in range(300)]
    assert _create(deps, ids)[0] == 201
    assigned = Counter(_stored_vendors(deps, "cmp_split").values())
    assert plan_now(deps)["contacts"] == 300
    records = drain_queue(deps, template)
    batches = [DispatchBatch.model_validate_json(record["body"]) for record in records]
    for batch in batches:
        vendors = {deps.store.get_contact("cmp_split", cid).vendor for cid in batch.contact_ids}
        assert vendors == {batch.vendor}, batch.batch_id
    assert {batch.vendor for batch in batches} == {"blu", "nxtele", "airudder"}
    assert dispatch_records(deps, records) == {"batchItemFailures": []}
    assert dispatch_records(deps, records) == {"batchItemFailures": []}  # redelivered: nobody dialled again
    assert states(deps.store, "cmp_split") == {"submitted": 300}
    for vendor, simulator in (("blu", blu_sim), ("nxtele", nx_sim), ("airudder", ar_sim)):
        assert sum(simulator.dial_requests.values()) == assigned[vendor], vendor
        assert max(simulator.dial_requests.values()) == 1, vendor
        [task] = deps.store.campaign_tasks("cmp_split", vendor)
        assert task.submitted == assigned[vendor]


def _ids_with_vendors(wanted: list[str]) -> list[str]:
    """Contact ids of cmp_split that the hash gives to these vendors, in this order."""
    found: list[str] = []
    for vendor in wanted:
        found.append(next(f"p{n}" for n in range(1_000) if assign("cmp_split", f"p{n}", SHARES) == vendor))
    return found


def test_a_number_in_two_vendors_shares_is_capped_once_across_the_split(
    deps: Any, template: Any, blu_sim: Any, nx_sim: Any
) -> None:
    """Compliance is per number: the daily cap counts a call by any vendor of the campaign (or another)."""
    policy = {"name": "once-a-day", "windows": ALWAYS, "frequencyCap": {"attempts": 1, "days": 1}}
    assert call_api(deps, api_event("api/put_policy.json", path={"name": "once-a-day"}, body=policy))[0] == 200
    ids = _ids_with_vendors(["blu", "nxtele"])
    body = {"contacts": _contacts(ids, phone="09171230001"), "policy": "once-a-day"}
    assert _create(deps, [], **body)[0] == 201
    plan_now(deps)
    dispatch_records(deps, drain_queue(deps, template))
    assert sum(blu_sim.dial_requests.values()) + sum(nx_sim.dial_requests.values()) == 1
    assert states(deps.store, "cmp_split") == {"submitted": 1, "queued": 1}
    [held] = [deps.store.get_contact("cmp_split", cid) for cid in ids if deps.store.get_contact("cmp_split", cid).hold]
    assert held.hold.reason == "capped"


def test_a_suppressed_number_is_held_whichever_vendor_it_is_assigned_to(
    deps: Any, template: Any, blu_sim: Any, nx_sim: Any, ar_sim: Any
) -> None:
    body = {"reason": "asked not to be called"}
    status, _ = call_api(deps, api_event("api/put_suppression.json", path={"phone": "+639171230001"}, body=body))
    assert status in (200, 201)
    ids = _ids_with_vendors(["blu", "nxtele", "airudder"])
    assert _create(deps, [], contacts=_contacts(ids, phone="09171230001"))[0] == 201
    assert plan_now(deps)["held"] == 3
    assert states(deps.store, "cmp_split") == {"queued": 3}
    assert sum(sim.dial_requests.total() for sim in (blu_sim, nx_sim, ar_sim)) == 0


@pytest.mark.parametrize(("redial_via", "next_vendor"), [("same", "nxtele"), ("other", "airudder")])
def test_a_policy_redial_goes_to_the_vendor_the_campaign_says(
    deps: Any, template: Any, blu_sim: Any, nx_sim: Any, ar_sim: Any, redial_via: str, next_vendor: str
) -> None:
    policy = {
        "name": "retry-unreached",
        "windows": ALWAYS,
        "redial": {"not_connected": {"retryAfterMinutes": 240, "maxAttempts": 3}},
    }
    assert call_api(deps, api_event("api/put_policy.json", path={"name": policy["name"]}, body=policy))[0] == 200
    [contact_id] = _ids_with_vendors(["nxtele"])
    body = {"contacts": _contacts([contact_id]), "policy": "retry-unreached", "redialVia": redial_via}
    assert _create(deps, [], **body)[0] == 201
    plan_now(deps)
    dispatch_records(deps, drain_queue(deps, template))
    outcome = CallOutcome(
        vendor="nxtele",
        vendor_call_id="nx-call-1",
        campaign_id="cmp_split",
        contact_id=contact_id,
        status="no_answer",
        disposition="not_connected",
        ended_at=NOW,
        source="poll",
    )
    assert record_outcomes([outcome], deps.store, NOW) == {RecordResult.REDIAL: 1}
    contact = deps.store.get_contact("cmp_split", contact_id)
    assert (contact.state, contact.attempt, contact.vendor) == (DialState.QUEUED, 2, next_vendor)
    assert contact.last_call_vendor == "nxtele"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"vendors": [{"vendor": "blu", "share": 60}, {"vendor": "nxtele", "share": 30}]}, "vendors"),
        ({"vendors": [{"vendor": "blu", "share": 50}, {"vendor": "blu", "share": 50}]}, "vendors.1.vendor"),
        ({"vendors": [{"vendor": "blu", "share": 50}, {"vendor": "acme", "share": 50}]}, "vendors.1.vendor"),
        ({"vendors": [{"vendor": "blu", "share": 0}, {"vendor": "nxtele", "share": 100}]}, "vendors.0.share"),
        ({"vendors": []}, "vendors"),
        ({"vendor": "blu"}, "vendors"),
        ({"vendors": None}, "vendor"),
        ({"vendorOptions": {"botId": 7}}, "vendorOptions"),
        ({"vendors": [{"vendor": "blu", "share": 100}], "redialVia": "other"}, "redialVia"),
        ({"redialVia": "elsewhere"}, "redialVia"),
        (
            {
                "vendors": [
                    {**SPLIT[0], "share": 60},
                    {**SPLIT[1], "share": 40, "vendorOptions": {"sceneID": 1, "maxRingTime": 0}},
                ]
            },
            "vendors.1.vendorOptions.maxRingTime",
        ),
    ],
)
def test_a_wrong_split_is_a_422_naming_the_field(deps: Any, changes: dict[str, Any], field: str) -> None:
    status, answer = _create(deps, ["c1"], **changes)
    assert status == 422, answer
    # Checked by the schema ("body." in front) or by the campaign's rules: either way the field is named.
    assert [error["field"].removeprefix("body.") for error in answer["errors"]] == [field], answer
    assert deps.store.get_campaign("cmp_split") is None  # nothing written half-way


def test_creating_a_split_again_is_idempotent_and_another_split_under_its_id_is_a_conflict(deps: Any) -> None:
    assert _create(deps, ["c1"])[0] == 201
    status, again = _create(deps, ["c1"])
    assert status == 201 and again["duplicates"] == 1
    other = [{**SPLIT[0], "share": 50}, {**SPLIT[1], "share": 50}]
    status, answer = _create(deps, ["c2"], vendors=other)
    assert status == 409, answer


# ------------------------------------------------------------------ the comparison

CONNECTED_IN_TEN = {"blu": 3, "nxtele": 6, "airudder": 3}  # contacts connected, of every ten sent, by vendor
PRICES = {"blu": {"currency": "PHP", "pricePerCall": "0.50", "pricePerMinute": 2}, "nxtele": {"currency": "PHP"}}


def _results(deps: Any, template: Any, count: int) -> dict[str, list[CallOutcome]]:
    """A split campaign sent, and a closing call recorded for every contact by a rule of its index: each
    vendor connects its share of every ten, one in ten promises to pay; answered calls last 61 seconds."""
    assert _create(deps, [f"c{n:04d}" for n in range(count)])[0] == 201
    plan_now(deps)
    dispatch_records(deps, drain_queue(deps, template))
    calls: dict[str, list[CallOutcome]] = {"blu": [], "nxtele": [], "airudder": []}
    for contact_id, vendor in sorted(_stored_vendors(deps, "cmp_split").items()):
        index = len(calls[vendor])
        answered = index % 10 < CONNECTED_IN_TEN[vendor]
        outcome = CallOutcome(
            vendor=vendor,
            vendor_call_id=f"{vendor}-{contact_id}",
            campaign_id="cmp_split",
            contact_id=contact_id,
            status="answered" if answered else "no_answer",
            disposition=("promise_to_pay" if index % 10 == 0 else "refused_to_pay") if answered else "not_connected",
            duration_seconds=61 if answered else 0,
            ended_at=NOW - dt.timedelta(minutes=5),
            source="poll" if index % 4 == 0 else "webhook",
        )
        assert record_outcomes([outcome], deps.store, NOW) == {RecordResult.STORED: 1}
        calls[vendor].append(outcome)
    return calls


def test_the_comparison_counts_what_is_stored_and_tells_a_better_challenger_from_an_equal_one(
    deps: Any, template: Any, blu_sim: Any, nx_sim: Any, ar_sim: Any
) -> None:
    deps.adapters = StaticAdapters({vendor: deps.adapters.get(vendor) for vendor in CONNECTED_IN_TEN}, PRICES)
    calls = _results(deps, template, 500)
    status, view = call_api(deps, api_event("api/get_comparison.json", path={"campaignId": "cmp_split"}))
    assert status == 200, view
    assert view["champion"] == "blu" and [v["vendor"] for v in view["vendors"]] == ["blu", "nxtele", "airudder"]
    by_vendor = {v["vendor"]: v for v in view["vendors"]}
    for vendor, made in calls.items():
        figures = by_vendor[vendor]
        connected = sum(call.status == "answered" for call in made)
        promised = sum(call.disposition == "promise_to_pay" for call in made)
        assert (figures["assigned"], figures["sent"], figures["calls"]) == (len(made), len(made), len(made))
        rates = figures["rates"]
        assert (rates["connected"]["count"], rates["connected"]["of"]) == (connected, len(made))
        assert rates["rightParty"]["count"] == connected  # every answered call here reached the debtor
        assert rates["promiseToPay"]["count"] == promised
        assert rates["connected"]["low"] < rates["connected"]["rate"] < rates["connected"]["high"]
        assert figures["meanTalkSeconds"] == 61.0 and figures["attemptsPerContact"] == 1.0
        assert figures["polledShare"] == pytest.approx(sum(call.source == "poll" for call in made) / len(made))
    assert by_vendor["blu"]["againstChampion"] is None
    nxtele, airudder = by_vendor["nxtele"]["againstChampion"], by_vendor["airudder"]["againstChampion"]
    assert nxtele["connected"]["verdict"] == "challenger better" and nxtele["connected"]["pValue"] < 0.001
    assert airudder["connected"]["verdict"] == "not yet distinguishable" and airudder["connected"]["pValue"] > 0.5
    assert nxtele["optedOut"] == {"pValue": None, "verdict": "too few calls to tell"}  # nobody opted out
    # Blu: 0.50 a call and 2 a started minute (61 seconds: two minutes) for each answered call.
    blu_calls = calls["blu"]
    cost = Decimal("0.50") * len(blu_calls) + 4 * sum(call.status == "answered" for call in blu_calls)
    assert by_vendor["blu"]["currency"] == "PHP" and Decimal(by_vendor["blu"]["cost"]) == cost
    assert Decimal(by_vendor["blu"]["costPerContact"]) == cost / len(blu_calls)
    assert Decimal(by_vendor["nxtele"]["cost"]) == 0  # a currency and no prices: free, as the secret says
    assert by_vendor["airudder"]["cost"] is None and by_vendor["airudder"]["currency"] is None


def test_contacts_not_yet_sent_count_as_assigned_only_and_unreadable_prices_are_a_note(deps: Any) -> None:
    deps.adapters = StaticAdapters(
        {vendor: deps.adapters.get(vendor) for vendor in CONNECTED_IN_TEN},
        {"blu": {"currency": "PHP", "pricePerCall": "free"}},
    )
    assert _create(deps, [f"c{n}" for n in range(50)])[0] == 201
    status, view = call_api(deps, api_event("api/get_comparison.json", path={"campaignId": "cmp_split"}))
    assert status == 200, view
    assert sum(v["assigned"] for v in view["vendors"]) == 50 and {v["sent"] for v in view["vendors"]} == {0}
    assert {v["rates"]["connected"]["rate"] for v in view["vendors"]} == {None}
    assert view["notes"] == [
        "blu's prices cannot be read (pricePerCall: a price at or above zero, as a number): its cost is left out"
    ]
    status, _ = call_api(deps, api_event("api/get_comparison.json", path={"campaignId": "cmp_unknown"}))
    assert status == 404


def test_listing_by_vendor_finds_every_campaign_using_it_in_its_split_or_as_a_fallback(deps: Any) -> None:
    assert _create(deps, ["c0"])[0] == 201  # blu 60, nxtele 25, airudder 15
    _with_fallback(deps, 1, campaignId="cmp_fallback")  # blu, airudder as its fallback
    _with_fallback(deps, 1, campaignId="cmp_blu_only", fallback=[])

    def listed(**query: str) -> list[str]:
        status, page = call_api(deps, api_event("api/list_campaigns.json", query=query))
        assert status == 200, page
        return sorted(campaign["campaignId"] for campaign in page["items"])

    assert listed(vendor="airudder") == ["cmp_fallback", "cmp_split"]
    assert listed(vendor="nxtele") == ["cmp_split"]
    assert listed(vendor="blu") == ["cmp_blu_only", "cmp_fallback", "cmp_split"]
    assert listed(vendor="blu", status="paused") == []


# ------------------------------------------------------------------ failover


class _Blu(httpx.BaseTransport):
    """Blu as the simulator serves it, except for the paths told to fail, and a count of what reached it."""

    def __init__(self, simulator: Any) -> None:
        self.real = httpx.HTTPTransport()
        self.failing: dict[str, Callable[[httpx.Request], httpx.Response]] = {}
        self.reached: Counter[str] = Counter()
        self.simulator = simulator

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.reached[request.url.path] += 1
        if fail := self.failing.get(request.url.path):
            return fail(request)
        return self.real.handle_request(request)


def _refused_connection(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def _timed_out(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("no answer", request=request)


def _unavailable(request: httpx.Request) -> httpx.Response:
    return httpx.Response(503, json={"message": "maintenance"})


def _unauthorised(request: httpx.Request) -> httpx.Response:
    return httpx.Response(401, json={"message": "bad credentials"})


@pytest.fixture
def blu_wire(deps: Any, blu_sim: Any) -> _Blu:
    """Blu's adapter in `deps` talking through a transport the test can break."""
    wire = _Blu(blu_sim)
    client = httpx.Client(base_url=blu_sim.base_url, transport=wire)
    adapters = {"blu": BluAdapter(blu_account(blu_sim.base_url), http=client)}
    adapters |= {vendor: deps.adapters.get(vendor) for vendor in ("nxtele", "airudder")}
    deps.adapters = StaticAdapters(adapters)
    return wire


def _with_fallback_answer(deps: Any, count: int = 1, **changes: Any) -> tuple[int, Any]:
    """A Blu campaign with AIRudder as its fallback (unless `changes` say otherwise)."""
    body = {
        "vendor": "blu",
        "vendorOptions": {"botId": 7},
        "vendors": None,
        "fallback": [{"vendor": "airudder", "vendorOptions": AIRUDDER_OPTIONS}],
    } | changes
    return _create(deps, [f"c{n}" for n in range(count)], **body)


def _with_fallback(deps: Any, count: int, **changes: Any) -> None:
    status, answer = _with_fallback_answer(deps, count, **changes)
    assert status == 201, answer


def _send(deps: Any, template: Any) -> dict[str, Any]:
    plan_now(deps)
    return dispatch_records(deps, drain_queue(deps, template))


def _replan_and_send(deps: Any, template: Any) -> dict[str, Any]:
    function_module("scheduler").handle(load_event("schedules/replan.json"), deps)
    return dispatch_records(deps, drain_queue(deps, template))


@pytest.mark.parametrize(
    ("path", "failure", "cause"),
    [
        (BLU_CREATE_TASK, _refused_connection, "vendor_down"),
        (BLU_CREATE_TASK, _unavailable, "vendor_down"),
        (BLU_CREATE_TASK, _timed_out, "vendor_down"),  # no task yet: none of the batch reached Blu
        (BLU_CREATE_TASK, _unauthorised, "batch_refused"),
        (BLU_UPLOAD, _refused_connection, "vendor_down"),
        (BLU_UPLOAD, _unavailable, "vendor_down"),
        (BLU_UPLOAD, _unauthorised, "batch_refused"),  # our account, not the records: none of them taken
    ],
)
def test_contacts_the_vendor_never_took_go_to_the_fallback_and_are_dialled_there_once(
    deps: Any, template: Any, blu_wire: _Blu, blu_sim: Any, ar_sim: Any, path: str, failure: Any, cause: str
) -> None:
    _with_fallback(deps, count=6)
    blu_wire.failing[path] = failure
    assert _send(deps, template) == {"batchItemFailures": []}
    assert states(deps.store, "cmp_split") == {"queued": 6}
    contact = deps.store.get_contact("cmp_split", "c1")
    assert (contact.vendor, contact.failed_over_from, contact.failover_cause) == ("airudder", "blu", cause)
    replay_stream(deps.store, stream_records(deps.settings.table_name), RecordingEvents())  # the live counters
    status, view = call_api(deps, api_event("api/get_campaign.json", path={"campaignId": "cmp_split"}))
    assert status == 200
    assert view["failedOver"] == [{"fromVendor": "blu", "toVendor": "airudder", "cause": cause, "contacts": 6}]
    status, shown = call_api(
        deps, api_event("api/get_contact.json", path={"campaignId": "cmp_split", "contactId": "c1"})
    )
    assert shown["vendor"] == "airudder" and shown["failedOverFrom"] == "blu" and "blu" in shown["failoverReason"]
    assert _replan_and_send(deps, template) == {"batchItemFailures": []}
    assert states(deps.store, "cmp_split") == {"submitted": 6}
    assert sum(ar_sim.dial_requests.values()) == 6 and max(ar_sim.dial_requests.values()) == 1
    assert sum(blu_sim.dial_requests.values()) == 0


def test_a_submission_blu_may_have_taken_is_never_sent_to_another_vendor(
    deps: Any, template: Any, blu_wire: _Blu, blu_sim: Any, ar_sim: Any
) -> None:
    """The upload timed out: Blu may hold the records. They stay Blu's, claimed, for SQS to deliver again; a
    later delivery that cannot connect at all still leaves them with Blu, since the first may have landed."""
    _with_fallback(deps, count=4)
    plan_now(deps)
    records = drain_queue(deps, template)
    blu_wire.failing[BLU_UPLOAD] = _timed_out
    assert len(dispatch_records(deps, records)["batchItemFailures"]) == 1
    assert states(deps.store, "cmp_split") == {"submitting": 4}
    blu_wire.failing[BLU_UPLOAD] = _refused_connection
    assert len(dispatch_records(deps, records)["batchItemFailures"]) == 1
    assert states(deps.store, "cmp_split") == {"submitting": 4}
    assert {deps.store.get_contact("cmp_split", f"c{n}").vendor for n in range(4)} == {"blu"}
    del blu_wire.failing[BLU_UPLOAD]
    assert dispatch_records(deps, records) == {"batchItemFailures": []}
    assert states(deps.store, "cmp_split") == {"submitted": 4}
    assert sum(blu_sim.dial_requests.values()) == 4 and sum(ar_sim.dial_requests.values()) == 0


@pytest.mark.parametrize("status", [500, 502, 504])
def test_an_upload_blu_took_whose_answer_came_back_as_an_error_stays_with_blu_and_counts_as_dialled(
    deps: Any, template: Any, blu_wire: _Blu, blu_sim: Any, ar_sim: Any, status: int
) -> None:
    """A 500 may come after Blu acted, and a gateway's 502 or 504 after Blu answered; here Blu took the records
    each time. They stay Blu's, and the frequency cap counts them at once: their calls may close them before
    SQS delivers the batch again, which then sends nothing and writes no record of its own."""

    def taken_then_lost(request: httpx.Request) -> httpx.Response:
        blu_wire.real.handle_request(request).read()
        return httpx.Response(status, json={"message": "upstream answer lost"})

    _with_fallback(deps, count=3)
    plan_now(deps)
    records = drain_queue(deps, template)
    blu_wire.failing[BLU_UPLOAD] = taken_then_lost
    assert len(dispatch_records(deps, records)["batchItemFailures"]) == 1
    assert states(deps.store, "cmp_split") == {"submitting": 3}
    assert {deps.store.get_contact("cmp_split", f"c{n}").vendor for n in range(3)} == {"blu"}
    since = NOW - dt.timedelta(days=1)
    phones = [deps.store.get_contact("cmp_split", f"c{n}").phone for n in range(3)]
    assert [len(deps.store.dial_history(phone, since)) for phone in phones] == [1, 1, 1]
    del blu_wire.failing[BLU_UPLOAD]
    assert dispatch_records(deps, records) == {"batchItemFailures": []}
    # Blu's answer to records it already holds need not account for them: then they are in doubt, for the poller.
    after = states(deps.store, "cmp_split")
    assert sum(after.values()) == 3 and set(after) <= {"submitted", "unconfirmed"}
    assert [len(deps.store.dial_history(phone, since)) for phone in phones] == [1, 1, 1]  # the same records
    assert sum(blu_sim.dial_requests.values()) == 3 and sum(ar_sim.dial_requests.values()) == 0


def test_refusals_of_single_contacts_fail_them_and_never_fail_over(
    deps: Any, template: Any, blu_wire: _Blu, blu_sim: Any, ar_sim: Any
) -> None:
    """A vendor that answers the upload with an error code of its own refuses those records: their fault, or
    at least not an outage, so they fail with its reason rather than try another vendor."""
    _with_fallback(deps, count=3)
    blu_wire.failing[BLU_UPLOAD] = lambda request: httpx.Response(200, json={"code": 4001, "message": "bad phone"})
    assert _send(deps, template) == {"batchItemFailures": []}
    assert states(deps.store, "cmp_split") == {"failed": 3}
    assert deps.store.get_contact("cmp_split", "c0").failed_over_from is None
    assert sum(ar_sim.dial_requests.values()) == 0


def test_without_a_fallback_an_account_blu_refuses_fails_the_contacts_with_its_reason(
    deps: Any, template: Any, blu_wire: _Blu, blu_sim: Any
) -> None:
    _with_fallback(deps, count=2, fallback=[])
    blu_wire.failing[BLU_UPLOAD] = _unauthorised
    assert _send(deps, template) == {"batchItemFailures": []}
    assert states(deps.store, "cmp_split") == {"failed": 2}
    assert deps.store.get_contact("cmp_split", "c0").reason == "blu error HTTP 401: request refused"


def test_without_a_fallback_an_outage_leaves_the_batch_to_sqs_as_before(
    deps: Any, template: Any, blu_wire: _Blu, blu_sim: Any
) -> None:
    _with_fallback(deps, count=2, fallback=[])
    blu_wire.failing[BLU_CREATE_TASK] = _unavailable
    assert len(_send(deps, template)["batchItemFailures"]) == 1
    assert states(deps.store, "cmp_split") == {"planned": 2}


def test_after_five_failed_submissions_the_circuit_sends_contacts_on_without_trying_the_vendor(
    deps: Any, template: Any, blu_wire: _Blu, blu_sim: Any, ar_sim: Any
) -> None:
    for _ in range(FAILURES_TO_OPEN):
        deps.store.record_submission_failure("blu", NOW)
    _with_fallback(deps, count=3)
    assert _send(deps, template) == {"batchItemFailures": []}
    assert blu_wire.reached.total() == 0  # not even asked for a task
    assert deps.store.get_contact("cmp_split", "c0").failover_cause == "circuit_open"
    # Once the circuit's pause is over Blu is tried again, and a success closes it.
    deps.clock = lambda: NOW + OPEN_FOR + dt.timedelta(seconds=1)
    _with_fallback(deps, count=0, campaignId="cmp_after", contacts=_contacts(["d0"]))
    assert _send(deps, template) == {"batchItemFailures": []}
    assert deps.store.get_contact("cmp_after", "d0").state is DialState.SUBMITTED
    assert deps.store.get_circuit("blu") == Circuit()


def test_a_failing_fallback_passes_contacts_down_the_line_never_back() -> None:
    line = Campaign(
        campaign_id="c",
        name="n",
        vendor="blu",
        dial_date=NOW.date(),
        timezone="Asia/Manila",
        created_at=NOW,
        vendors=[
            VendorShare(vendor="blu", share=100),
            VendorShare(vendor="airudder", share=0),
            VendorShare(vendor="nxtele", share=0),
        ],
    )
    assert [line.fallback_for(vendor) for vendor in ("blu", "airudder", "nxtele")] == ["airudder", "nxtele", None]


# ------------------------------------------------------------------ daily caps


@pytest.fixture
def capped(deps: Any, blu_sim: Any) -> dict[str, dt.datetime]:
    """Blu with a daily cap of 5, on a clock the test moves (Blu's account-local day follows it)."""
    clock = {"now": NOW}
    deps.clock = lambda: clock["now"]
    adapters = {vendor: deps.adapters.get(vendor) for vendor in ("nxtele", "airudder")}

    class BluOnTheTestsClock(BluAdapter):
        """Its day follows the test's clock; its signatures keep the real one, which Blu checks."""

        def today(self) -> dt.date:
            return clock["now"].astimezone(self._zone).date()

    adapters["blu"] = BluOnTheTestsClock(blu_account(blu_sim.base_url))
    deps.adapters = StaticAdapters(adapters, {"blu": {"dailyCap": 5}})
    return clock


def test_a_vendors_daily_cap_holds_across_campaigns_and_the_rest_waits_for_its_next_day(
    deps: Any, template: Any, capped: dict[str, dt.datetime], blu_sim: Any
) -> None:
    for campaign_id in ("cmp_one", "cmp_two"):
        _with_fallback(deps, count=0, campaignId=campaign_id, fallback=[], contacts=_contacts(["a", "b", "c", "d"]))
    assert plan_now(deps)["contacts"] == 5
    planned = states(deps.store, "cmp_one").get("planned", 0) + states(deps.store, "cmp_two").get("planned", 0)
    assert planned == 5
    held = [
        contact
        for campaign_id in ("cmp_one", "cmp_two")
        for page in deps.store.iter_contacts(campaign_id, [DialState.QUEUED])
        for contact in page
    ]
    midnight_in_manila = dt.datetime(2026, 11, 25, 16, 0, tzinfo=dt.UTC)
    assert [(contact.hold.reason, contact.hold.until) for contact in held] == [
        ("vendor_capacity", midnight_in_manila)
    ] * 3
    assert "5 requests" in held[0].hold.detail
    assert deps.store.take_capacity("blu", NOW.date(), 1, 5) == 0  # what planning took and did not use was given back
    assert function_module("scheduler").handle(load_event("schedules/replan.json"), deps)["contacts"] == 0
    assert dispatch_records(deps, drain_queue(deps, template)) == {"batchItemFailures": []}
    assert sum(blu_sim.dial_requests.values()) == 5
    capped["now"] = midnight_in_manila + dt.timedelta(hours=1)  # Blu's next day
    assert plan_now(deps)["contacts"] == 3
    dispatch_records(deps, drain_queue(deps, template))
    assert sum(blu_sim.dial_requests.values()) == 8 and max(blu_sim.dial_requests.values()) == 1


def test_a_daily_cap_of_zero_sends_nothing_and_what_a_run_used_up_it_gives_nothing_back(
    deps: Any, capped: dict[str, dt.datetime], blu_sim: Any
) -> None:
    """A cap of 0 is a vendor switched off for the day, not a vendor without a cap."""
    adapters = {vendor: deps.adapters.get(vendor) for vendor in ("blu", "nxtele", "airudder")}
    deps.adapters = StaticAdapters(adapters, {"blu": {"dailyCap": 0}})
    _with_fallback(deps, count=3, capacityOverflow="wait")  # AIRudder is its fallback, for outages only
    lapsed = Hold(reason="outside_window", until=NOW - dt.timedelta(hours=1), checked_at=NOW - dt.timedelta(hours=2))
    assert deps.store.hold_contact("cmp_split", "c1", lapsed)
    summary = plan_now(deps)
    assert (summary["contacts"], summary["held"], summary["failed_over"]) == (0, 3, 0)
    for contact_id in ("c0", "c1"):  # a hold for another reason that has lapsed is replaced
        held = deps.store.get_contact("cmp_split", contact_id)
        assert held.hold.reason == "vendor_capacity" and "daily cap of 0 requests" in held.hold.detail
    assert not [key for key in table_items(deps.store) if key[1].startswith("TAKEN#")]  # nothing taken or given


def test_the_overflow_of_a_daily_cap_goes_to_the_fallback_when_the_campaign_says_so(
    deps: Any, template: Any, capped: dict[str, dt.datetime], blu_sim: Any, ar_sim: Any
) -> None:
    _with_fallback(deps, count=7, capacityOverflow="fallback")
    summary = plan_now(deps)
    assert (summary["contacts"], summary["failed_over"]) == (5, 2)
    moved = [deps.store.get_contact("cmp_split", f"c{n}") for n in range(7)]
    assert sorted((c.vendor, c.failover_cause) for c in moved if c.failed_over_from) == [("airudder", "capacity")] * 2
    dispatch_records(deps, drain_queue(deps, template))
    function_module("scheduler").handle(load_event("schedules/replan.json"), deps)
    dispatch_records(deps, drain_queue(deps, template))
    assert states(deps.store, "cmp_split") == {"submitted": 7}
    assert (sum(blu_sim.dial_requests.values()), sum(ar_sim.dial_requests.values())) == (5, 2)


def test_the_overflow_of_a_capped_fallback_goes_on_down_the_line(
    deps: Any, capped: dict[str, dt.datetime], blu_sim: Any, ar_sim: Any, nx_sim: Any
) -> None:
    """Contacts already failed over to AIRudder, whose cap is used up, go to the vendor after it in the line."""
    adapters = {vendor: deps.adapters.get(vendor) for vendor in ("blu", "nxtele", "airudder")}
    deps.adapters = StaticAdapters(adapters, {"airudder": {"dailyCap": 0}})
    line = [
        {"vendor": "airudder", "vendorOptions": AIRUDDER_OPTIONS},
        {"vendor": "nxtele", "vendorOptions": {"sceneID": DEMO_SCENE_ID}},
    ]
    _with_fallback(deps, count=2, capacityOverflow="fallback", fallback=line)
    for contact in deps.store.get_contacts("cmp_split", ["c0", "c1"]).values():
        assert deps.store.fail_over_contact(contact, "", "blu", "airudder", FailoverCause.VENDOR_DOWN, "down", NOW)
    assert plan_now(deps)["failed_over"] == 2
    moved = deps.store.get_contacts("cmp_split", ["c0", "c1"]).values()
    assert {(c.vendor, c.failed_over_from, c.failover_cause) for c in moved} == {("nxtele", "airudder", "capacity")}


def test_an_overflow_to_a_fallback_needs_one(deps: Any) -> None:
    status, answer = _with_fallback_answer(deps, capacityOverflow="fallback", fallback=[])
    assert status == 422 and answer["errors"] == [
        {"field": "capacityOverflow", "problem": "fallback needs a fallback vendor"}
    ]
