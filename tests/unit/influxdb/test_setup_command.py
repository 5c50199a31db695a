"""The setup step's command line as the deploy runs it on a droplet, ``python3 -m
datalayer.onhost.influxdb_setup check PLAN_FILE``, against Python's HTTP server answering with
the recorded answers of ``tests/unit/influxdb/data/`` (what is under test is the command's
output and exit status, ``datalayer.onhost.step``, not InfluxDB)."""

import http.server
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from datalayer.influxdb.build import setup_plan
from datalayer.onhost.step import EXIT_DRIFT, EXIT_OK
from datalayer.paths import REPOSITORY_ROOT
from datalayer.spec import load_environment
from tests.unit.influxdb.test_setup import RecordedServer

# influxd's /health when ready: 200 and this body (http/health.go:11-16, mounted at /health by
# http/handler.go:112,143; influxdb v2.7.12).
HEALTH = {"name": "influxdb", "message": "ready for queries and writes", "status": "pass"}


def serve(case: str) -> http.server.ThreadingHTTPServer:
    """An HTTP server on 127.0.0.1 answering ``/health`` as a ready influxd, and every other
    request with the answer ``case`` records for it."""
    recorded = RecordedServer(case)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/health":
                status, body = 200, HEALTH
            else:
                token = self.headers.get("Authorization", "").removeprefix("Token ") or None
                answer = recorded("GET", self.path, None, token)
                status, body = answer.status, answer.body
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[str]:
    httpd = serve(request.param)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def check(url: str, directory: Path, stored: bool) -> subprocess.CompletedProcess[str]:
    """The step's ``check`` against ``url``, its token files in ``directory`` (written when
    ``stored``), run as the deploy runs it: a process of its own, the plan in a file."""
    spec = load_environment("dev").influxdb
    assert spec is not None
    plan = setup_plan(spec)
    tokens = tuple(
        replace(token, file=str(directory / f"{token.role}.token")) for token in plan.tokens
    )
    for token in tokens if stored else ():
        Path(token.file).write_text(f"recorded-{token.role}-token\n")
    plan_file = directory / "influxdb-plan.json"
    plan_file.write_text(replace(plan, url=url, tokens=tokens).to_json())
    return subprocess.run(
        [sys.executable, "-B", "-m", "datalayer.onhost.influxdb_setup", "check", str(plan_file)],
        cwd=REPOSITORY_ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("server", "stored", "expected"),
    [
        pytest.param(
            "setup_allowed", False, (EXIT_DRIFT, "onboarding: not set up yet\n"), id="drift"
        ),
        pytest.param("setup_done", True, (EXIT_OK, ""), id="nothing-pending"),
    ],
    indirect=["server"],
)
def test_check_prints_what_is_pending_and_exits_with_the_drift_status_only_then(
    server: str, tmp_path: Path, stored: bool, expected: tuple[int, str]
) -> None:
    completed = check(server, tmp_path, stored=stored)
    assert (completed.returncode, completed.stdout) == expected
