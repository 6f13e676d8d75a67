"""The `dialhub` command line against a mocked API (respx): what it sends, what it prints (tables for people,
JSON alone on stdout with --json), its exit statuses (1: the API or a request failed, 2: usage, 130: Ctrl-C),
and what it leaves on the server when a contact file's upload does not finish."""

from __future__ import annotations

import json
import os
import re
import signal
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from packaging.requirements import Requirement
from typer.testing import CliRunner, Result

import dialhub_cli
from dialhub_cli import imports, results
from dialhub_cli.app import app
from dialhub_cli.session import interrupt_after

# The checkout the command line was installed from (`make setup`): the tests may run from a copy of tests/,
# as `make mutation` runs them, where the packaging files are not beside them.
ROOT = Path(dialhub_cli.__file__).resolve().parents[2]
API = "http://dialhub.test"
UPLOAD = "https://imports.s3.test/uploads/imp_1?X-Amz-Signature=up"
REJECTIONS = "https://imports.s3.test/rejections/imp_1.csv?X-Amz-Signature=rej"
DOWNLOAD = "https://exports.s3.test/exports/cmp_1/exp_1.csv?X-Amz-Signature=down"
CONTACTS = b"loan_id,mobile\nL-1,09171234567\nL-2,12345\n"


@pytest.fixture(autouse=True)
def _hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DIALHUB_URL", "DIALHUB_STACK", "AWS_CA_BUNDLE", "SSL_CERT_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(imports.time, "sleep", lambda _: None)
    monkeypatch.setattr(results.time, "sleep", lambda _: None)


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


def run(*args: str, url: str | None = API) -> Result:
    return CliRunner().invoke(app, [*(["--url", url] if url else []), *args])


def sent(route: respx.Route, index: int = -1) -> Any:
    return json.loads(route.calls[index].request.content)


def import_view(state: str, campaign_id: str = "cmp_1", **fields: Any) -> dict[str, Any]:
    return {
        "importId": "imp_1",
        "campaignId": campaign_id,
        "state": state,
        "format": "csv",
        "maxBytes": 10_000,
        "rowsRead": 0,
        "accepted": 0,
        "rejected": 0,
        "duplicates": 0,
        "createdAt": "2026-12-01T10:00:00Z",
    } | fields


def started_import(request: httpx.Request) -> httpx.Response:
    """POST /imports as the API answers it: the import of the campaign the request names."""
    campaign_id = json.loads(request.content)["campaign"]["campaignId"]
    return httpx.Response(201, json=import_view("awaiting_upload", campaign_id, uploadUrl=UPLOAD))


# --------------------------------------------------------------------------- where, and how a failure ends


def test_without_url_or_stack_it_says_how_to_name_the_api_and_exits_2() -> None:
    result = run("campaigns", "list", url=None)
    assert result.exit_code == 2
    assert "--url URL" in result.stderr and "DIALHUB_URL" in result.stderr and result.stdout == ""


def test_url_and_stack_both_on_the_command_line_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["--url", API, "--stack", "dialhub-prod", "campaigns", "list"])
    assert result.exit_code == 2 and "not both" in result.stderr


def test_a_url_given_on_the_command_line_wins_over_a_stack_from_the_environment(
    api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIALHUB_STACK", "dialhub-prod")
    api.get(API + "/campaigns").respond(200, json={"items": [], "nextCursor": None})
    result = run("campaigns", "list", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"items": [], "nextCursor": None}


def test_json_may_also_come_before_the_command(api: respx.MockRouter) -> None:
    api.get(API + "/campaigns").respond(200, json={"items": [], "nextCursor": None})
    result = CliRunner().invoke(app, ["--url", API, "--json", "campaigns", "list"])
    assert result.exit_code == 0 and json.loads(result.stdout) == {"items": [], "nextCursor": None}


def test_an_api_error_prints_its_message_and_each_field_on_stderr_and_exits_1(api: respx.MockRouter) -> None:
    problems = [{"field": "body.campaign.vendor", "problem": "unknown vendor"}, {"field": "body.name", "problem": "x"}]
    api.post(API + "/campaigns").respond(422, json={"message": "invalid request", "errors": problems})
    result = run("campaigns", "create", "--name", "n", "--vendor", "nope", "--json")
    assert result.exit_code == 1
    assert result.stdout == ""  # --json: nothing but the answer on stdout, and there is none
    assert result.stderr.splitlines() == [
        "error: 422: invalid request",
        "  body.campaign.vendor: unknown vendor",
        "  body.name: x",
    ]


def test_an_error_that_is_not_json_is_shown_as_sent(api: respx.MockRouter) -> None:
    api.get(API + "/campaigns/cmp_1").respond(502, text="<html>Bad   Gateway</html>")
    result = run("campaigns", "show", "cmp_1")
    assert result.exit_code == 1 and "error: 502: <html>Bad Gateway</html>" in result.stderr


def test_a_refused_connection_is_said_plainly(api: respx.MockRouter) -> None:
    api.get(API + "/campaigns/cmp_1").mock(side_effect=httpx.ConnectError("[Errno 111] Connection refused"))
    result = run("campaigns", "show", "cmp_1")
    assert result.exit_code == 1
    assert "cannot connect to http://dialhub.test/campaigns/cmp_1" in result.stderr
    assert "make serve" in result.stderr


def test_an_untrusted_certificate_names_the_option_that_fixes_it(api: respx.MockRouter) -> None:
    import ssl

    refused = httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    refused.__cause__ = ssl.SSLCertVerificationError("self-signed certificate")
    api.get(API + "/campaigns/cmp_1").mock(side_effect=refused)
    result = run("campaigns", "show", "cmp_1")
    assert result.exit_code == 1 and "not trusted" in result.stderr and "--ca-bundle" in result.stderr


def test_path_segments_and_query_values_are_encoded_whole(api: respx.MockRouter) -> None:
    route = api.put(url__regex=r".*/suppressions/.*").respond(
        200, json={"phone": "+639171234567", "reason": "asked", "source": "api", "createdAt": "2026-12-01T10:00:00Z"}
    )
    assert run("suppress", "+63 917 123/4567", "--reason", "asked").exit_code == 0
    assert route.calls[0].request.url.raw_path == b"/suppressions/%2B63%20917%20123%2F4567"
    feed = api.get(API + "/outcomes").respond(200, json={"items": [], "nextCursor": "n", "hasMore": False})
    assert run("outcomes", "--after", "a+b/c=").exit_code == 0
    assert feed.calls[0].request.url.raw_path == b"/outcomes?after=a%2Bb%2Fc%3D&limit=500"


# --------------------------------------------------------------------------- campaigns


def test_list_reads_pages_until_the_limit_and_hands_back_the_cursor(api: respx.MockRouter) -> None:
    def item(index: int) -> dict[str, Any]:
        return {
            "campaignId": f"cmp_{index}",
            "name": f"Campaign {index}",
            "vendor": "blu",
            "status": "active",
            "dialDate": "2026-12-01",
            "timezone": "Asia/Manila",
            "createdAt": "2026-12-01T10:00:00Z",
            "totals": {"contacts": 1200 + index},
        }

    route = api.get(API + "/campaigns").mock(
        side_effect=[
            httpx.Response(200, json={"items": [item(1), item(2)], "nextCursor": "c1"}),
            httpx.Response(200, json={"items": [item(3)], "nextCursor": "c2"}),
        ]
    )
    result = run("campaigns", "list", "--limit", "3", "--status", "active", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"items": [item(1), item(2), item(3)], "nextCursor": "c2"}
    queries = [dict(call.request.url.params) for call in route.calls]
    assert queries == [{"status": "active", "limit": "3"}, {"status": "active", "limit": "1", "cursor": "c1"}]

    route.side_effect = [httpx.Response(200, json={"items": [item(1)], "nextCursor": None})]
    table = run("campaigns", "list")
    assert table.exit_code == 0 and table.stderr == ""
    assert re.search(r"cmp_1\s+Campaign 1\s+blu\s+active\s+2026-12-01\s+1,201", table.stdout)


def test_create_sends_the_campaign_with_typed_vendor_options(api: respx.MockRouter) -> None:
    route = api.post(API + "/campaigns").respond(201, json={"campaignId": "cmp_x", "accepted": 0})
    result = run(
        "campaigns", "create", "--name", "Dec", "--vendor", "blu", "--option", "botId=123",
        "--option", "greeting=Hi there", "--option", "sipLine=0123", "--timezone", "Asia/Manila",
        "--dial-date", "2026-12-24",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    body = sent(route)
    assert re.fullmatch(r"cmp_[0-9a-f]{20}", body.pop("campaignId"))  # chosen here: known before the answer
    assert body == {
        "name": "Dec",
        "vendor": "blu",
        "vendorOptions": {"botId": 123, "greeting": "Hi there", "sipLine": "0123"},
        "timezone": "Asia/Manila",
        "dialDate": "2026-12-24",
    }


def test_a_split_campaign_names_each_vendors_options(api: respx.MockRouter) -> None:
    route = api.post(API + "/campaigns").respond(201, json={"campaignId": "cmp_x"})
    args = ["--split", "blu=80", "--split", "nxtele=20", "--fallback", "airudder"]
    options = ["--option", "blu.botId=1", "--option", "nxtele.sceneID=9001", "--option", "airudder.sipLine=PH"]
    result = run("campaigns", "create", "--name", "Split", "--campaign-id", "mine-1", *args, *options)
    assert result.exit_code == 0, result.stderr
    assert sent(route) == {
        "name": "Split",
        "campaignId": "mine-1",
        "vendors": [
            {"vendor": "blu", "share": 80, "vendorOptions": {"botId": 1}},
            {"vendor": "nxtele", "share": 20, "vendorOptions": {"sceneID": 9001}},
        ],
        "fallback": [{"vendor": "airudder", "vendorOptions": {"sipLine": "PH"}}],
    }
    unnamed = run("campaigns", "create", "--name", "Split", *args, "--option", "botId=1")
    assert unnamed.exit_code == 2 and "VENDOR.botId" in unnamed.stderr
    both = run("campaigns", "create", "--name", "Split", "--vendor", "blu", "--split", "blu=100")
    assert both.exit_code == 2 and "--vendor, or --split" in both.stderr


def test_create_from_a_file_uploads_it_follows_the_import_and_saves_the_rejected_rows(
    api: respx.MockRouter, tmp_path: Path
) -> None:
    file = tmp_path / "list.csv"
    file.write_bytes(CONTACTS)
    start = api.post(API + "/imports").mock(side_effect=started_import)
    upload = api.put(UPLOAD).respond(200)
    progress = [
        import_view("awaiting_upload"),
        import_view("importing", rowsRead=1, accepted=1),
        import_view("done", rowsRead=2, accepted=1, rejected=1, rejectionsUrl=REJECTIONS),
    ]
    polls = api.get(API + "/imports/imp_1").mock(side_effect=[httpx.Response(200, json=view) for view in progress])
    rejected = b"\xef\xbb\xbfrow,contactId,field,reason\r\n3,L-2,phone,not a valid number\r\n"
    api.get(REJECTIONS).respond(200, content=rejected)
    result = run(
        "campaigns", "create", "--name", "Dec", "--vendor", "blu", "--file", str(file), "--columns",
        '{"phone": "mobile"}', "--rejections-out", "refused.csv", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    request = sent(start)
    assert request["format"] == "csv" and request["columns"] == {"phone": "mobile"}
    assert request["campaign"]["name"] == "Dec" and request["campaign"]["vendor"] == "blu"
    put = upload.calls[0].request
    assert put.content == CONTACTS and put.headers["content-length"] == str(len(CONTACTS))
    assert "transfer-encoding" not in put.headers  # S3 refuses a chunked PUT to a presigned link
    assert polls.call_count == 3
    answer = json.loads(result.stdout)
    assert answer["state"] == "done" and (answer["accepted"], answer["rejected"]) == (1, 1)
    assert answer["rejectionsFile"] == "refused.csv"
    assert (tmp_path / "refused.csv").read_bytes() == rejected


def test_people_see_the_counts_and_where_the_rejected_rows_are(api: respx.MockRouter, tmp_path: Path) -> None:
    file = tmp_path / "list.csv"
    file.write_bytes(CONTACTS)
    api.post(API + "/imports").mock(side_effect=started_import)
    api.put(UPLOAD).respond(200)
    done = import_view("done", rowsRead=2, accepted=1, rejected=1, rejectionsUrl=REJECTIONS)
    api.get(API + "/imports/imp_1").respond(200, json=done)
    result = run("campaigns", "create", "--name", "Dec", "--vendor", "blu", "--file", str(file))
    assert result.exit_code == 0, result.stderr
    assert re.search(r"\b2\s+1\s+1\s+0\b", result.stdout)  # rows read, accepted, rejected, duplicates
    assert f"(link valid 15 minutes; --rejections-out saves them): {REJECTIONS}" in result.stdout
    assert "uploading list.csv" in result.stderr  # progress goes to stderr


def interrupting(after_calls: int) -> Callable[..., Any]:
    """An upload that sends `after_calls` chunks, then meets Ctrl-C."""
    real = imports.upload

    def upload(url: str, path: Path, verify: Any, advance: Callable[[int], None], timeout: float) -> None:
        calls = 0

        def counted(size: int) -> None:
            nonlocal calls
            calls += 1
            if calls > after_calls:
                raise KeyboardInterrupt
            advance(size)

        real(url, path, verify, counted, timeout)

    return upload


def test_ctrl_c_during_the_upload_cancels_the_campaign_made_for_it(
    api: respx.MockRouter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "list.csv"
    file.write_bytes(CONTACTS)
    start = api.post(API + "/imports").mock(side_effect=started_import)
    api.put(UPLOAD).respond(200)
    monkeypatch.setattr(imports, "upload", interrupting(after_calls=0))
    made: list[str] = []

    def check(request: httpx.Request) -> httpx.Response:
        made.append(sent(start)["campaign"]["campaignId"])
        return httpx.Response(200, json=import_view("awaiting_upload", made[0]))

    api.get(API + "/imports/imp_1").mock(side_effect=check)
    cancel = api.post(url__regex=r".*/campaigns/cmp_[0-9a-f]+/cancel").respond(200, json={"campaign": {}})
    result = run("campaigns", "create", "--name", "Dec", "--vendor", "blu", "--file", str(file))
    assert result.exit_code == 130
    assert [call.request.url.path for call in cancel.calls] == [f"/campaigns/{made[0]}/cancel"]
    assert f"campaign {made[0]} cancelled: its contact file never arrived" in result.stderr
    assert result.stderr.rstrip().endswith("interrupted")


def test_ctrl_c_during_the_upload_leaves_a_campaign_that_was_named_as_it_was(
    api: respx.MockRouter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "list.csv"
    file.write_bytes(CONTACTS)
    api.post(API + "/imports").mock(side_effect=started_import)
    monkeypatch.setattr(imports, "upload", interrupting(after_calls=0))
    api.get(API + "/imports/imp_1").respond(200, json=import_view("awaiting_upload", "mine"))
    cancel = api.post(API + "/campaigns/mine/cancel").respond(200, json={})
    result = run(
        "campaigns", "create", "--name", "Dec", "--vendor", "blu", "--campaign-id", "mine", "--file", str(file)
    )
    assert result.exit_code == 130 and cancel.call_count == 0
    assert "import imp_1 expires unused; campaign mine is unchanged" in result.stderr


def test_ctrl_c_after_the_file_arrived_leaves_the_import_running(
    api: respx.MockRouter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "list.csv"
    file.write_bytes(CONTACTS)
    api.post(API + "/imports").mock(side_effect=started_import)
    monkeypatch.setattr(imports, "upload", interrupting(after_calls=0))
    api.get(API + "/imports/imp_1").respond(200, json=import_view("importing"))
    cancel = api.post(url__regex=r".*/cancel").respond(200, json={})
    result = run("campaigns", "create", "--name", "Dec", "--vendor", "blu", "--file", str(file))
    assert result.exit_code == 130 and cancel.call_count == 0
    assert "the file had arrived: import imp_1 is importing" in result.stderr


@pytest.fixture
def ctrl_c_as_in_a_terminal() -> Iterator[None]:
    """SIGINT raising KeyboardInterrupt, as in a terminal, whatever the runner inherited (a background job, or
    nohup, ignores it), restored after."""
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, inherited)


@pytest.mark.usefixtures("ctrl_c_as_in_a_terminal")
def test_ctrl_c_while_the_import_is_created_takes_effect_once_it_is_answered(
    api: respx.MockRouter, tmp_path: Path
) -> None:
    """The campaign is made by that request: cut off, the command could not know; answered, it cancels it."""
    file = tmp_path / "list.csv"
    file.write_bytes(CONTACTS)

    def answered_after_ctrl_c(request: httpx.Request) -> httpx.Response:
        os.kill(os.getpid(), signal.SIGINT)
        return started_import(request)

    api.post(API + "/imports").mock(side_effect=answered_after_ctrl_c)
    upload = api.put(UPLOAD).respond(200)
    api.get(API + "/imports/imp_1").respond(200, json=import_view("awaiting_upload"))
    cancel = api.post(url__regex=r".*/campaigns/cmp_[0-9a-f]+/cancel").respond(200, json={})
    result = run("campaigns", "create", "--name", "Dec", "--vendor", "blu", "--file", str(file))
    assert result.exit_code == 130
    assert upload.call_count == 0 and cancel.call_count == 1


def test_an_upload_the_link_refuses_cancels_the_campaign_and_says_why(api: respx.MockRouter, tmp_path: Path) -> None:
    file = tmp_path / "list.csv"
    file.write_bytes(CONTACTS)
    api.post(API + "/imports").mock(side_effect=started_import)
    expired = "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
    api.put(UPLOAD).respond(403, text=expired)
    api.get(API + "/imports/imp_1").respond(200, json=import_view("expired"))
    cancel = api.post(url__regex=r".*/cancel").respond(200, json={})
    result = run("campaigns", "create", "--name", "Dec", "--vendor", "blu", "--file", str(file))
    assert result.exit_code == 1 and cancel.call_count == 1
    assert "error: the upload was refused (403): AccessDenied: Request has expired" in result.stderr


def test_a_file_above_the_apis_limit_is_not_sent(api: respx.MockRouter, tmp_path: Path) -> None:
    file = tmp_path / "list.csv"
    file.write_bytes(CONTACTS * 1000)
    api.post(API + "/imports").mock(side_effect=started_import)
    upload = api.put(UPLOAD).respond(200)
    api.get(API + "/imports/imp_1").respond(200, json=import_view("awaiting_upload"))
    cancel = api.post(url__regex=r".*/cancel").respond(200, json={})
    result = run("campaigns", "create", "--name", "Dec", "--vendor", "blu", "--file", str(file))
    assert result.exit_code == 1 and upload.call_count == 0 and cancel.call_count == 1
    assert "the API takes files up to" in result.stderr


def test_a_failed_import_with_nothing_stored_cancels_the_campaign_made_for_it(
    api: respx.MockRouter, tmp_path: Path
) -> None:
    file = tmp_path / "list.csv"
    file.write_bytes(b"no phone column\n1\n")
    api.post(API + "/imports").mock(side_effect=started_import)
    api.put(UPLOAD).respond(200)
    api.get(API + "/imports/imp_1").respond(200, json=import_view("failed", error="no phone column"))
    cancel = api.post(API + "/campaigns/cmp_1/cancel").respond(200, json={})
    result = run("campaigns", "create", "--name", "Dec", "--vendor", "blu", "--file", str(file), "--json")
    assert result.exit_code == 1 and cancel.call_count == 1 and result.stdout == ""
    assert "error: import imp_1 failed: no phone column" in result.stderr


def test_a_file_named_neither_csv_nor_xlsx_needs_its_format(api: respx.MockRouter, tmp_path: Path) -> None:
    file = tmp_path / "list.dat"
    file.write_bytes(CONTACTS)
    result = run("campaigns", "create", "--name", "Dec", "--vendor", "blu", "--file", str(file))
    assert result.exit_code == 2 and "--format csv or xlsx" in result.stderr


def campaign(state: str, final: int) -> dict[str, Any]:
    return {
        "campaignId": "cmp_1",
        "name": "Dec",
        "vendor": "blu",
        "vendors": [{"vendor": "blu", "share": 100}],
        "status": "active",
        "state": state,
        "dialDate": "2026-12-01",
        "timezone": "Asia/Manila",
        "totalContacts": 3,
        "byState": {"final": final, "submitted": 3 - final} if final < 3 else {"final": 3},
        "byDisposition": {"promise_to_pay": final} if final else {},
        "heldBack": {},
    }


def test_watch_prints_each_change_as_a_json_line_until_the_campaign_is_done(
    api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dialhub_cli import campaigns

    monkeypatch.setattr(campaigns.time, "sleep", lambda _: None)
    views = [
        campaign("in_progress", 0),
        campaign("in_progress", 0),
        campaign("in_progress", 2),
        campaign("completed", 3),
    ]
    route = api.get(API + "/campaigns/cmp_1").mock(side_effect=[httpx.Response(200, json=view) for view in views])
    result = run("campaigns", "show", "cmp_1", "--watch", "--json")
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["byState"].get("final", 0) for line in lines] == [0, 2, 3]  # the unchanged view is not repeated
    assert route.call_count == 4


def test_show_draws_the_totals_for_people(api: respx.MockRouter) -> None:
    api.get(API + "/campaigns/cmp_1").respond(200, json=campaign("in_progress", 2))
    result = run("campaigns", "show", "cmp_1")
    assert result.exit_code == 0
    assert "Dec (cmp_1)" in result.stdout and "state in_progress" in result.stdout
    assert re.search(r"promise_to_pay\s+2", result.stdout) and re.search(r"submitted\s+1", result.stdout)


def test_the_controls_post_and_say_what_happened(api: respx.MockRouter) -> None:
    dispatch = api.post(API + "/campaigns/cmp_1/dispatch").respond(
        200, json={"campaignId": "cmp_1", "dialDate": "2026-12-01", "batches": 2, "contacts": 350}
    )
    result = run("campaigns", "dispatch", "cmp_1")
    assert result.exit_code == 0 and dispatch.call_count == 1
    assert result.stdout.strip() == "campaign cmp_1: 350 contacts queued for dispatch in 2 batches"
    notes = ["airudder cannot pause a task: contacts it holds are unaffected"]
    api.post(API + "/campaigns/cmp_1/pause").respond(200, json={"campaign": campaign("in_progress", 2), "notes": notes})
    paused = run("campaigns", "pause", "cmp_1")
    assert paused.exit_code == 0 and f"note: {notes[0]}" in paused.stdout and "Dec (cmp_1)" in paused.stdout
    api.post(API + "/campaigns/cmp_1/cancel").respond(409, json={"message": "the campaign is cancelled"})
    assert run("campaigns", "cancel", "cmp_1").stderr.strip() == "error: 409: the campaign is cancelled"


# --------------------------------------------------------------------------- results out


def export_view(state: str, rows: int, **fields: Any) -> dict[str, Any]:
    return {"exportId": "exp_1", "campaignId": "cmp_1", "format": "csv", "state": state, "rows": rows, "bytes": 0} | {
        "createdAt": "2026-12-01T10:00:00Z",
        **fields,
    }


def test_export_waits_for_the_file_and_saves_it_under_the_servers_name(api: respx.MockRouter, tmp_path: Path) -> None:
    api.get(API + "/campaigns/cmp_1").respond(200, json=campaign("completed", 3))
    start = api.post(API + "/campaigns/cmp_1/exports").respond(202, json=export_view("running", 0, phase="columns"))
    api.get(API + "/exports/exp_1").mock(
        side_effect=[
            httpx.Response(200, json=export_view("running", 0, phase="columns")),
            httpx.Response(200, json=export_view("running", 2, phase="rows")),
            httpx.Response(200, json=export_view("done", 3, url=DOWNLOAD)),
        ]
    )
    content = b"\xef\xbb\xbfcontactId\r\nL-1\r\nL-2\r\nL-3\r\n"
    headers = {"content-disposition": "attachment; filename*=UTF-8''..%2FDec-2026-12-01-exp_1.csv"}
    api.get(DOWNLOAD).respond(200, content=content, headers=headers)
    result = run("export", "cmp_1", "--format", "jsonl", "--state", "final", "--json")
    assert result.exit_code == 0, result.stderr
    assert sent(start) == {"format": "jsonl", "includePhone": False, "state": "final"}
    answer = json.loads(result.stdout)
    assert answer["file"] == "Dec-2026-12-01-exp_1.csv" and answer["bytes"] == len(content) and answer["rows"] == 3
    assert (tmp_path / "Dec-2026-12-01-exp_1.csv").read_bytes() == content  # the name only: never a folder
    assert [path.name for path in tmp_path.iterdir() if path.is_file()] == ["Dec-2026-12-01-exp_1.csv"]


def test_a_failed_export_is_an_error(api: respx.MockRouter) -> None:
    api.get(API + "/campaigns/cmp_1").respond(200, json=campaign("completed", 3))
    api.post(API + "/campaigns/cmp_1/exports").respond(202, json=export_view("running", 0))
    api.get(API + "/exports/exp_1").respond(
        200, json=export_view("failed", 0, error="could not be queued; start it again")
    )
    result = run("export", "cmp_1")
    assert result.exit_code == 1 and "export exp_1 failed: could not be queued" in result.stderr


def test_ctrl_c_during_a_download_leaves_no_half_file(api: respx.MockRouter, tmp_path: Path) -> None:
    api.get(API + "/exports/exp_1").respond(200, json=export_view("done", 3, url=DOWNLOAD))

    def cut_short() -> Iterator[bytes]:
        yield b"contactId\r\n" * 1000
        raise KeyboardInterrupt

    api.get(DOWNLOAD).respond(200, stream=_Stream(cut_short()))
    result = run("download", "exp_1", "-o", "out.csv")
    assert result.exit_code == 130
    assert list(tmp_path.iterdir()) == []


class _Stream(httpx.SyncByteStream):
    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks


def test_report_asks_for_an_html_export(api: respx.MockRouter, tmp_path: Path) -> None:
    api.get(API + "/campaigns/cmp_1").respond(200, json=campaign("completed", 3))
    start = api.post(API + "/campaigns/cmp_1/exports").respond(202, json=export_view("running", 0))
    api.get(API + "/exports/exp_1").respond(200, json=export_view("done", 3, url=DOWNLOAD, format="html"))
    api.get(DOWNLOAD).respond(200, content=b"<html>report</html>")
    result = run("report", "cmp_1", "-o", "report.html")
    assert result.exit_code == 0, result.stderr
    assert sent(start) == {"format": "html"}
    assert (tmp_path / "report.html").read_bytes() == b"<html>report</html>"
    assert result.stdout.startswith("report.html: 3 rows")


def outcome(contact: str) -> dict[str, Any]:
    return {
        "vendor": "blu",
        "vendorCallId": f"call-{contact}",
        "campaignId": "cmp_1",
        "contactId": contact,
        "status": "completed",
        "disposition": "promise_to_pay",
        "durationSeconds": 42,
        "recordedAt": "2026-12-01T10:00:05Z",
    }


def test_outcomes_reads_the_feed_keeps_the_cursor_and_stops_at_its_end(api: respx.MockRouter, tmp_path: Path) -> None:
    (tmp_path / "cursor").write_text("c0\n")
    route = api.get(API + "/outcomes").mock(
        side_effect=[
            httpx.Response(200, json={"items": [outcome("L-1"), outcome("L-2")], "nextCursor": "c1", "hasMore": True}),
            httpx.Response(200, json={"items": [outcome("L-3")], "nextCursor": "c2", "hasMore": False}),
        ]
    )
    result = run("outcomes", "--cursor-file", "cursor", "--json")
    assert result.exit_code == 0, result.stderr
    assert [json.loads(line)["contactId"] for line in result.stdout.splitlines()] == ["L-1", "L-2", "L-3"]
    assert [call.request.url.params.get("after") for call in route.calls] == ["c0", "c1"]
    assert (tmp_path / "cursor").read_text() == "c2\n"
    assert "dialhub outcomes --after c2" in result.stderr


def test_following_the_feed_stops_after_the_outcomes_asked_for(api: respx.MockRouter) -> None:
    empty = {"items": [], "nextCursor": "c1", "hasMore": False}
    route = api.get(API + "/outcomes").mock(
        side_effect=[
            httpx.Response(200, json=empty),
            httpx.Response(200, json={"items": [outcome("L-1")], "nextCursor": "c2", "hasMore": False}),
            httpx.Response(200, json={"items": [outcome("L-2")], "nextCursor": "c3", "hasMore": True}),
        ]
    )
    result = run("outcomes", "--follow", "--limit", "2")
    assert result.exit_code == 0, result.stderr
    assert [line.split()[3] for line in result.stdout.splitlines()] == ["L-1", "L-2"]
    assert [call.request.url.params["limit"] for call in route.calls] == ["2", "2", "1"]


def test_compare_shows_rates_with_intervals_and_verdicts(api: respx.MockRouter) -> None:
    def rate(count: int, of: int) -> dict[str, Any]:
        return {"count": count, "of": of, "rate": count / of, "low": count / of - 0.05, "high": count / of + 0.05}

    rates = {name: rate(40, 100) for name in ("connected", "rightParty", "promiseToPay", "optedOut", "complained")}
    vendor = {"assigned": 100, "sent": 100, "calls": 100, "rates": rates, "currency": "PHP", "cost": "12.5"}
    view = {
        "campaignId": "cmp_1",
        "champion": "blu",
        "countedAt": "2026-12-01T10:00:00Z",
        "notes": ["nxtele's prices cannot be read"],
        "vendors": [
            vendor | {"vendor": "blu", "share": 80, "champion": True, "againstChampion": None},
            vendor
            | {
                "vendor": "nxtele",
                "share": 20,
                "champion": False,
                "againstChampion": {"connected": {"pValue": 0.012, "verdict": "challenger better"}},
            },
        ],
    }
    api.get(API + "/campaigns/cmp_1/comparison").respond(200, json=view)
    result = run("compare", "cmp_1")
    assert result.exit_code == 0, result.stderr
    assert "blu (80%) champion" in result.stdout and "nxtele (20%)" in result.stdout
    assert "40.0% [35.0%, 45.0%] 40/100" in result.stdout
    assert "challenger better (p=0.012)" in result.stdout
    assert "12.50 PHP" in result.stdout and "note: nxtele's prices cannot be read" in result.stdout
    assert json.loads(run("compare", "cmp_1", "--json").stdout) == view


def test_unsuppressing_a_number_not_suppressed_is_the_apis_404(api: respx.MockRouter) -> None:
    route = api.delete(API + "/suppressions/%2B639171234567").respond(404, json={"message": "suppression not found"})
    result = run("unsuppress", "+639171234567")
    assert result.exit_code == 1 and route.call_count == 1
    assert result.stderr.strip() == "error: 404: suppression not found"


# --------------------------------------------------------------------------- the pieces


@pytest.mark.usefixtures("ctrl_c_as_in_a_terminal")
def test_ctrl_c_inside_interrupt_after_waits_for_the_block_to_end() -> None:
    finished = False
    with pytest.raises(KeyboardInterrupt), interrupt_after():
        os.kill(os.getpid(), signal.SIGINT)
        finished = True
    assert finished
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.usefixtures("ctrl_c_as_in_a_terminal")
def test_a_command_started_with_ctrl_c_ignored_goes_on_ignoring_it() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as nohup or a background job starts it
    try:
        with interrupt_after():
            os.kill(os.getpid(), signal.SIGINT)
    except KeyboardInterrupt:
        pytest.fail("a Ctrl-C the process ignores interrupted the command")
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN


def test_the_command_line_looks_for_the_certificate_where_make_serve_leaves_it(tmp_path: Path) -> None:
    from dialhub_cli.tls import local_stack_certificate
    from local.tls import published_certificate

    assert (
        local_stack_certificate(3000)
        == published_certificate(3000)
        == tmp_path / "cache/dialhub/local-stack-3000-ca.pem"
    )


def test_make_serve_leaves_its_certificate_there_while_it_runs(tmp_path: Path) -> None:
    from dialhub_cli.tls import local_stack_certificate
    from local.tls import certificate_published, make_certificate

    made = make_certificate(tmp_path).certificate
    with certificate_published(made, 3000) as published:
        assert published == local_stack_certificate(3000) and published.read_bytes() == made.read_bytes()
    assert not published.exists()


def test_which_certificates_are_trusted_for_a_link(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ssl

    from dialhub_cli.client import CliError
    from dialhub_cli.tls import local_stack_certificate, verify_for
    from local.tls import make_certificate

    local = make_certificate(tmp_path).certificate
    link, api = "https://127.0.0.1:4443/exports/x.csv", "http://127.0.0.1:3000"
    assert verify_for(link, api, None) is True  # nothing published: the system's
    published = local_stack_certificate(3000)
    published.parent.mkdir(parents=True)
    published.write_bytes(local.read_bytes())
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "system.pem"))  # a machine-wide setting does not hide it
    assert isinstance(verify_for(link, api, None), ssl.SSLContext)
    # Only for a link to this machine from an API on this machine.
    with pytest.raises(CliError, match=r"system\.pem is not a file"):
        verify_for("https://bucket.s3.amazonaws.com/x", api, None)
    with pytest.raises(CliError):
        verify_for(link, "https://abc.execute-api.us-east-1.amazonaws.com", None)
    monkeypatch.delenv("SSL_CERT_FILE")
    assert verify_for(link, "http://127.0.0.1:3001", None) is True  # another port: another stack's
    assert isinstance(verify_for("https://x.test/a", api, local), ssl.SSLContext)  # --ca-bundle: always


def test_the_pinned_versions_fall_within_the_ranges_pip_install_asks_for() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins: dict[str, str] = {}
    for file in ("requirements-dev.txt", "layers/dialhub/requirements.txt"):
        for line in (ROOT / file).read_text().splitlines():
            if "==" in line and not line.startswith("#"):
                name, version = line.split("==")
                pins[name.strip().lower()] = version.strip()
    for dependency in map(Requirement, project["dependencies"]):
        assert dependency.name in pins, dependency.name
        assert dependency.specifier.contains(pins[dependency.name]), (dependency, pins[dependency.name])
    assert project["scripts"] == {"dialhub": "dialhub_cli.app:main"}
