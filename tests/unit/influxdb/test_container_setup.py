"""InfluxDB's setup step as the Pulumi stacks run it, fed recorded server answers: the tokens go
to stdout as JSON (the command's secret output) and come back from the last run's output.

Like ``test_influxdb_setup.py`` this proves the step's decisions from the answers InfluxDB
v2.7.12's handlers give (each case cites them), not a server."""

import io
import json
from typing import Any

import pytest

from datalayer.influxdb import container_setup
from datalayer.influxdb.container import container_setup_plan
from datalayer.onhost.influxdb_setup import Answer, Plan
from tests.unit.conftest import services_of
from tests.unit.influxdb.test_setup import ADMIN, RecordedServer

APP_TOKEN = "recorded-app-token-Zx8pQ2"
READER_TOKEN = "recorded-reader-token-Yw7oP1"


@pytest.fixture
def plan() -> Plan:
    influxdb = services_of("dev").influxdb
    assert influxdb is not None
    return container_setup_plan(influxdb)


def run(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    plan: Plan,
    server: Any,
    previous: dict[str, Any] | None = None,
) -> tuple[int, dict[str, Any] | None, list[str]]:
    """``python -m datalayer.influxdb.container_setup`` against ``server``: exit status, the
    JSON on stdout, the lines on stderr."""
    given = {"plan": plan.to_json(), "admin_password": ADMIN.password, "admin_token": ADMIN.token}
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(given)))
    monkeypatch.setattr(container_setup, "http_transport", lambda url, ca_file, server_name: server)
    monkeypatch.setattr(container_setup, "wait_until_ready", lambda transport: None)
    if previous is None:
        monkeypatch.delenv(container_setup.PREVIOUS_OUTPUT_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(container_setup.PREVIOUS_OUTPUT_VARIABLE, json.dumps(previous))
    status = container_setup.main()
    out, err = capsys.readouterr()
    return status, json.loads(out) if out else None, err.splitlines()


def test_plan_reaches_the_published_api_and_names_the_tokens_output(plan: Plan) -> None:
    assert plan.url == "http://127.0.0.1:8086"
    assert [token.file for token in plan.tokens] == [
        "stack output influxdb_tokens.app",
        "stack output influxdb_tokens.reader",
    ]


def test_first_run_prints_every_new_token_as_json(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], plan: Plan
) -> None:
    status, output, lines = run(monkeypatch, capsys, plan, RecordedServer("setup_allowed"))
    assert status == 0
    assert output == {"tokens": {"app": APP_TOKEN, "reader": READER_TOKEN}}
    assert lines[-2:] == [
        "token app: created (stack output influxdb_tokens.app)",
        "token reader: created (stack output influxdb_tokens.reader)",
    ]


def test_next_run_keeps_the_tokens_that_still_read_the_bucket(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], plan: Plan
) -> None:
    server = RecordedServer("setup_done")
    previous = {"tokens": {"app": APP_TOKEN, "reader": READER_TOKEN}}
    status, output, lines = run(monkeypatch, capsys, plan, server, previous)
    assert (status, output) == (0, previous)
    assert all(line.split(": ", 1)[1].startswith("unchanged") for line in lines), lines
    assert {method for method, *_ in server.requests} == {"GET"}


def test_a_token_whose_authorization_is_gone_is_created_anew(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], plan: Plan
) -> None:
    previous = {"tokens": {"app": APP_TOKEN, "reader": "deleted-by-hand-0123456789"}}
    server = RecordedServer("token_missing")
    status, output, lines = run(monkeypatch, capsys, plan, server, previous)
    assert (status, output) == (0, {"tokens": {"app": APP_TOKEN, "reader": READER_TOKEN}})
    assert lines[-1] == "token reader: created (stack output influxdb_tokens.reader)"


def test_a_bucket_gone_from_the_stack_is_created_with_new_tokens(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], plan: Plan
) -> None:
    previous = {"tokens": {"app": APP_TOKEN, "reader": READER_TOKEN}}
    status, output, lines = run(
        monkeypatch, capsys, plan, RecordedServer("bucket_missing"), previous
    )
    assert (status, output) == (0, {"tokens": {"app": APP_TOKEN, "reader": READER_TOKEN}})
    assert "bucket market-data: created" in lines


def test_a_token_that_no_longer_reads_is_not_kept(plan: Plan) -> None:
    def refusing(method: str, path: str, body: Any, token: str | None) -> Answer:
        return Answer(401, {"code": "unauthorized", "message": "unauthorized access"})

    assert not container_setup.still_valid(refusing, plan, APP_TOKEN)


def test_a_failure_exits_non_zero_with_the_servers_answer(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], plan: Plan
) -> None:
    status, output, lines = run(monkeypatch, capsys, plan, RecordedServer("admin_token_refused"))
    assert (status, output) == (1, None)
    assert lines == ["error: GET /api/v2/orgs: HTTP 401: unauthorized access"]


@pytest.mark.parametrize("previous", ["", "not json", '{"tokens": ["app"]}', '["tokens"]'])
def test_an_unreadable_previous_output_means_no_known_tokens(previous: str) -> None:
    assert (
        container_setup.previous_tokens({container_setup.PREVIOUS_OUTPUT_VARIABLE: previous}) == {}
    )
