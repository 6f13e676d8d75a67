"""AIRudder's own JSON examples (tests/fixtures/airudder, copied from its documentation) read to what the
documentation says they mean, through the adapter and the simulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from dialhub.vendors.airudder.adapter import AirudderAdapter
from dialhub.vendors.airudder.codes import PATH_AUTH, PATH_CREATE_TASK
from dialhub.vendors.airudder.tokens import forget_tokens
from dialhub.vendors.airudder.wire import code_of, data_of, succeeded
from local.simulators.airudder import AirudderSimulator
from tests.unit.test_airudder_adapter import T0, FakeAirudder, _submission, account

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "airudder"


def _example(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def _no_cached_tokens() -> Any:
    forget_tokens()
    yield
    forget_tokens()


# --------------------------------------------------------------------------- create a calling task
def test_the_documented_answer_is_a_task_with_one_row_refused() -> None:
    answer = _example("create_task_response.json")
    assert succeeded(answer) and code_of(answer) == 200
    data = data_of(answer)
    assert data["TaskID"] == "c3b6b04cd7f8d2b182d3fd20eed3d144"
    assert data["detail_error_list"] == [
        {"field": "Details[1]", "msg": "Country Code Error: 13016111", "comments": "C12345567 "}
    ]


def test_the_documented_answer_refuses_the_number_whose_comments_it_echoes() -> None:
    vendor = FakeAirudder()
    answer = _example("create_task_response.json")
    answer["data"]["detail_error_list"][0]["comments"] = "cmp-1|c2 "  # as it would echo ours, blank and all
    vendor.script(PATH_CREATE_TASK, answer)
    result = vendor.adapter().submit(_submission(3))
    assert result.job_id == "c3b6b04cd7f8d2b182d3fd20eed3d144"
    assert result.rejected == {"c2": "airudder refused the number: Country Code Error: ***6111"}
    assert set(result.accepted) == {"c0", "c1"} and result.unconfirmed == {}


def test_the_documented_answer_as_printed_names_none_of_our_numbers_so_none_is_accepted() -> None:
    vendor = FakeAirudder()
    vendor.script(PATH_CREATE_TASK, _example("create_task_response.json"))  # comments "C12345567 " is not ours
    result = vendor.adapter().submit(_submission(3))
    assert result.job_id == "c3b6b04cd7f8d2b182d3fd20eed3d144" and result.accepted == {} and result.rejected == {}
    assert set(result.unconfirmed) == {"c0", "c1", "c2"}


def test_the_documented_request_and_answer_together_leave_their_one_row_in_doubt() -> None:
    # One row sent, "Details[1]" answered: the only row counted from 1, no row counted from 0.
    vendor = FakeAirudder()
    answer = _example("create_task_response.json")
    del answer["data"]["detail_error_list"][0]["comments"]
    vendor.script(PATH_CREATE_TASK, answer)
    result = vendor.adapter().submit(_submission(1))
    assert result.unconfirmed == {"c0": "cmp-1|c0"} and result.accepted == {} and result.rejected == {}


def test_what_we_send_uses_the_documented_names_and_types() -> None:
    documented = _example("create_task_request.json")
    vendor = FakeAirudder()
    vendor.adapter().submit(
        _submission(1, options={"robotId": "r", "sipLine": "L", "extraFields": {"ExtraA": "loanId"}})
    )
    [(_, _, body, _)] = vendor.calls
    assert set(body) <= set(documented) | {"DncSwitch"}  # DncSwitch is documented, just not in the example
    for name, value in body.items():
        if name in documented:
            assert type(value) is type(documented[name]), name
    [row] = body["Details"]
    assert set(row) <= set(documented["Details"][0]) and row["Mobile"].startswith("+")


def test_the_documented_request_creates_a_task_in_the_simulator() -> None:
    with (
        AirudderSimulator("k", "s", dial_delay=(30, 31)) as simulator,
        httpx.Client(base_url=simulator.base_url) as http,
    ):
        token = http.post(PATH_AUTH, json={"APPKey": "k", "APPSecret": "s"}).json()["data"]["token"]
        answer = http.post(
            PATH_CREATE_TASK, json=_example("create_task_request.json"), headers={"Authorization": f"Token {token}"}
        ).json()
        assert answer["code"] == 200 and "detail_error_list" not in answer["data"]
        [row] = simulator.rows(answer["data"]["TaskID"])
        assert (row["Comments"], row["Customer"], row["ExtraA"]) == ("Comments", "Customer-user1", "ExtraA")


# --------------------------------------------------------------------------- token
def test_the_documented_token_exchange_is_what_the_adapter_sends_and_reads() -> None:
    sent: list[dict[str, Any]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, json=_example("auth_response.json"))

    http = httpx.Client(base_url="http://airudder.test", transport=httpx.MockTransport(answer))
    assert AirudderAdapter(account(), http=http, clock=lambda: T0)._token() == "…"
    assert set(sent[0]) == set(_example("auth_request.json"))
