"""The InfluxDB setup step's decisions, fed recorded server answers instead of a server.

Each case in ``tests/unit/influxdb/data/`` holds the answers InfluxDB v2.7.12 gives for one
situation: a fresh server, one already set up, a bucket whose retention differs or is shortened
below its shard-group duration, a bucket or a token gone missing. Every answer carries its
``source``: the file and lines of influxd's own handlers (tag v2.7.12) that produce that status and
body, so the cases follow the server, not this code. This is NOT verification of a server: it
proves what the step asks for and decides from those answers; ``tests/infra/test_influxdb.py``
checks a real one.
"""

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from datalayer.influxdb.build import setup_plan
from datalayer.onhost.influxdb_setup import (
    Answer,
    Credentials,
    Plan,
    SetupError,
    converge,
    pending,
    shard_group_seconds,
)
from datalayer.spec import load_environment

DATA = Path(__file__).parent / "data"
ADMIN = Credentials(password="operator-password-0123", token="operator-token-from-the-secret-0123")
BUCKET_ID = "9f8e7d6c5b4a3921"
NEW_BUCKET_ID = "0f1e2d3c4b5a6978"
ORG_ID = "0a9b2c3d4e5f6071"
CASES = sorted(path.stem for path in DATA.glob("*.json"))


class RecordedServer:
    """A transport answering from a case file; it records every request it was sent."""

    def __init__(self, case: str) -> None:
        self.answers: dict[str, Any] = json.loads((DATA / f"{case}.json").read_text())["answers"]
        self.requests: list[tuple[str, str, Any, str | None]] = []

    def __call__(self, method: str, path: str, body: Any, token: str | None) -> Answer:
        self.requests.append((method, path, body, token))
        key = f"{method} {path}"
        assert key in self.answers, f"the case has no answer for {key}"
        recorded = self.answers[key]
        candidates = recorded if isinstance(recorded, list) else [recorded]
        # An answer with a "request" answers that body only; a list without them, in turn.
        fitting = [answer for answer in candidates if answer.get("request", body) == body]
        assert fitting, f"the case has no answer for {key} with body {body}"
        answer = fitting[0]
        if isinstance(recorded, list) and "request" not in answer:
            recorded.remove(answer)
        return Answer(answer["status"], answer["body"])

    def sent(self, method: str) -> list[tuple[str, str, Any, str | None]]:
        return [request for request in self.requests if request[0] == method]


class Files:
    """Token files as a dictionary."""

    def __init__(self, existing: dict[str, str] | None = None) -> None:
        self.contents = dict(existing or {})

    def exists(self, path: str) -> bool:
        return path in self.contents

    def read(self, path: str) -> str | None:
        return self.contents.get(path)

    def write(self, path: str, token: str) -> None:
        self.contents[path] = token


APP_FILE = "/etc/influxdb/tokens/app.token"
READER_FILE = "/etc/influxdb/tokens/reader.token"


@pytest.fixture
def plan() -> Plan:
    spec = load_environment("dev").influxdb
    assert spec is not None
    return setup_plan(spec)


def stored() -> Files:
    return Files(
        {APP_FILE: "recorded-app-token-Zx8pQ2", READER_FILE: "recorded-reader-token-Yw7oP1"}
    )


def test_first_run_onboards_with_the_secrets(plan: Plan) -> None:
    server = RecordedServer("setup_allowed")
    converge(server, plan, ADMIN, Files())
    ((_, _, body, _),) = [r for r in server.sent("POST") if r[1] == "/api/v2/setup"]
    assert body == {
        "username": "admin", "password": ADMIN.password, "org": "trading-platform",
        "bucket": "market-data", "retentionPeriodSeconds": 30 * 86400, "token": ADMIN.token,
    }  # fmt: skip


def test_first_run_creates_onboarding_and_every_token(plan: Plan) -> None:
    lines = converge(RecordedServer("setup_allowed"), plan, ADMIN, Files())
    assert lines == [
        "onboarding: created (org trading-platform, bucket market-data, user admin)",
        "bucket market-data retention: unchanged (2592000 s)",
        f"token app: created ({APP_FILE})",
        f"token reader: created ({READER_FILE})",
    ]


def test_first_run_stores_each_new_token_in_its_file(plan: Plan) -> None:
    files = Files()
    converge(RecordedServer("setup_allowed"), plan, ADMIN, files)
    assert files.contents == stored().contents


def test_second_run_changes_nothing(plan: Plan) -> None:
    lines = converge(RecordedServer("setup_done"), plan, ADMIN, stored())
    assert all(line.split(": ", 1)[1].startswith("unchanged") for line in lines), lines
    assert len(lines) == 4


def test_second_run_sends_only_reads(plan: Plan) -> None:
    server = RecordedServer("setup_done")
    converge(server, plan, ADMIN, stored())
    assert {method for method, *_ in server.requests} == {"GET"}


def test_already_set_up_server_is_not_onboarded_again(plan: Plan) -> None:
    lines = converge(RecordedServer("setup_done"), plan, ADMIN, stored())
    assert lines[0] == "onboarding: unchanged (already set up)"


def test_retention_change_patches_the_bucket(plan: Plan) -> None:
    server = RecordedServer("bucket_retention_differs")
    lines = converge(server, plan, ADMIN, stored())
    assert server.sent("PATCH") == [
        (
            "PATCH",
            f"/api/v2/buckets/{BUCKET_ID}",
            {"retentionRules": [{"type": "expire", "everySeconds": 2592000}]},
            ADMIN.token,
        )
    ]
    assert "bucket market-data retention: changed (604800 s -> 2592000 s)" in lines


def test_retention_shortened_below_a_shard_group_sends_the_servers_shard_group(
    plan: Plan,
) -> None:
    server = RecordedServer("bucket_retention_shortened")
    converge(server, replace(plan, retention_seconds=43200), ADMIN, stored())
    ((_, _, body, _),) = server.sent("PATCH")
    assert body == {
        "retentionRules": [
            {"type": "expire", "everySeconds": 43200, "shardGroupDurationSeconds": 3600}
        ]
    }


def test_retention_shortened_below_a_shard_group_is_changed(plan: Plan) -> None:
    server = RecordedServer("bucket_retention_shortened")
    lines = converge(server, replace(plan, retention_seconds=43200), ADMIN, stored())
    assert "bucket market-data retention: changed (2592000 s -> 43200 s)" in lines


@pytest.mark.parametrize(
    ("retention", "shard_group"),
    [
        (0, 7 * 86400),
        (3600, 3600),
        (43200, 3600),
        (2 * 86400 - 1, 3600),
        (2 * 86400, 86400),
        (30 * 86400, 86400),
        (180 * 86400 - 1, 86400),
        (180 * 86400, 7 * 86400),
        (52 * 7 * 86400, 7 * 86400),
    ],
)
def test_shard_group_follows_the_servers_rule(retention: int, shard_group: int) -> None:
    assert shard_group_seconds(retention) == shard_group


def test_bucket_missing_on_a_set_up_server_is_created(plan: Plan) -> None:
    server = RecordedServer("bucket_missing")
    lines = converge(server, plan, ADMIN, stored())
    assert [body for _, path, body, _ in server.sent("POST") if path == "/api/v2/buckets"] == [
        {
            "orgID": ORG_ID,
            "name": "market-data",
            "retentionRules": [{"type": "expire", "everySeconds": 2592000}],
        }
    ]
    assert lines[1:3] == [
        "bucket market-data: created",
        "bucket market-data retention: unchanged (2592000 s)",
    ]


def test_tokens_of_a_missing_bucket_are_scoped_to_the_new_one(plan: Plan) -> None:
    server = RecordedServer("bucket_missing")
    converge(server, plan, ADMIN, stored())
    scoped = {
        permission["resource"]["id"]
        for _, path, body, _ in server.sent("POST")
        if path == "/api/v2/authorizations"
        for permission in body["permissions"]
    }
    assert scoped == {NEW_BUCKET_ID}


def test_missing_org_is_named(plan: Plan) -> None:
    with pytest.raises(
        SetupError,
        match=r"^org trading-platform does not exist on a server that is already set up",
    ):
        converge(RecordedServer("org_missing"), plan, ADMIN, stored())


def test_missing_token_is_created(plan: Plan) -> None:
    server = RecordedServer("token_missing")
    lines = converge(server, plan, ADMIN, Files({APP_FILE: "recorded-app-token-Zx8pQ2"}))
    assert [body["description"] for _, _, body, _ in server.sent("POST")] == [
        "datalayer reader token"
    ]
    assert lines[-2:] == [
        f"token app: unchanged ({APP_FILE})",
        f"token reader: created ({READER_FILE})",
    ]


def test_reader_token_has_no_write_permission(plan: Plan) -> None:
    server = RecordedServer("setup_allowed")
    converge(server, plan, ADMIN, Files())
    reader = next(
        b for _, p, b, _ in server.sent("POST") if b.get("description") == "datalayer reader token"
    )
    assert reader["permissions"] == [
        {"action": "read", "resource": {"type": "buckets", "id": BUCKET_ID, "orgID": ORG_ID}}
    ]


def test_app_token_reads_and_writes_only_the_bucket(plan: Plan) -> None:
    server = RecordedServer("setup_allowed")
    converge(server, plan, ADMIN, Files())
    app = next(
        b for _, p, b, _ in server.sent("POST") if b.get("description") == "datalayer app token"
    )
    assert {
        (p["action"], p["resource"]["type"], p["resource"]["id"]) for p in app["permissions"]
    } == {
        ("read", "buckets", BUCKET_ID),
        ("write", "buckets", BUCKET_ID),
    }


def test_widened_token_is_replaced(plan: Plan) -> None:
    server = RecordedServer("token_permissions_differ")
    lines = converge(server, plan, ADMIN, stored())
    assert [path for _, path, *_ in server.sent("DELETE")] == [
        "/api/v2/authorizations/0e1f203142536475"
    ]
    assert lines[-1] == f"token reader: changed (replaced: permissions differed; {READER_FILE})"


def test_token_whose_file_is_gone_is_replaced(plan: Plan) -> None:
    server = RecordedServer("setup_done")
    server.answers["DELETE /api/v2/authorizations/0e1f203142536475"] = {"status": 204, "body": None}
    server.answers["POST /api/v2/authorizations"] = json.loads(
        (DATA / "token_missing.json").read_text()
    )["answers"]["POST /api/v2/authorizations"]
    files = Files({APP_FILE: "recorded-app-token-Zx8pQ2"})
    lines = converge(server, plan, ADMIN, files)
    assert (
        lines[-1] == f"token reader: changed (replaced: {READER_FILE} was missing; {READER_FILE})"
    )
    assert files.read(READER_FILE) == "recorded-reader-token-Yw7oP1"


def test_refused_admin_token_stops_with_the_status(plan: Plan) -> None:
    with pytest.raises(SetupError, match=r"GET /api/v2/orgs: HTTP 401: unauthorized access"):
        converge(RecordedServer("admin_token_refused"), plan, ADMIN, stored())


def test_check_finds_nothing_pending_when_set_up(plan: Plan) -> None:
    assert pending(RecordedServer("setup_done"), plan, stored()) == []


def test_check_reports_onboarding_on_a_fresh_server(plan: Plan) -> None:
    assert pending(RecordedServer("setup_allowed"), plan, Files()) == ["onboarding: not set up yet"]


def test_check_reports_a_retention_difference(plan: Plan) -> None:
    assert pending(RecordedServer("bucket_retention_differs"), plan, stored()) == [
        "bucket market-data retention: 604800 s, wanted 2592000 s"
    ]


def test_check_reports_a_missing_token_file(plan: Plan) -> None:
    files = Files({APP_FILE: "recorded-app-token-Zx8pQ2"})
    assert pending(RecordedServer("setup_done"), plan, files) == [
        f"token reader: {READER_FILE} is missing"
    ]


def test_check_reports_a_missing_bucket(plan: Plan) -> None:
    assert pending(RecordedServer("bucket_missing"), plan, stored()) == [
        "bucket market-data: missing"
    ]


def test_check_sends_no_operator_token(plan: Plan) -> None:
    server = RecordedServer("setup_done")
    pending(server, plan, stored())
    assert ADMIN.token not in {token for *_, token in server.requests}


def test_plan_survives_its_json_form(plan: Plan) -> None:
    assert Plan.from_json(json.loads(json.dumps(plan.to_json()))) == plan


def test_credentials_are_masked_when_printed() -> None:
    assert ADMIN.password not in repr(ADMIN)
    assert ADMIN.token not in repr(ADMIN)


@pytest.mark.parametrize("case", CASES)
def test_every_recorded_answer_names_its_source_in_influxdb(case: str) -> None:
    answers = json.loads((DATA / f"{case}.json").read_text())["answers"]
    recorded = [
        answer
        for value in answers.values()
        for answer in (value if isinstance(value, list) else [value])
    ]
    uncited = [
        answer
        for answer in recorded
        if not re.search(r"[a-z0-9_/]+\.go:[0-9]+", answer.get("source", ""))
        or "v2.7.12" not in answer["source"]
    ]
    assert uncited == []
