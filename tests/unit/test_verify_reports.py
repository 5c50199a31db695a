"""A failing verify suite writes no secret into its JUnit report (which the verify workflow
publishes and uploads): the suites' conftest masks every secret they read in each report."""

import subprocess
import sys
from pathlib import Path

from datalayer.paths import REPOSITORY_ROOT
from datalayer.verify import REPORT_OPTIONS
from tests.infra import conftest as suites_conftest
from tests.infra import redaction

TOKEN = "InfluxTokenApp-3f1c9a0b7e5d4c2a1908"
PASSWORD = "Redis-Reader-Password-77d1e0"

FAILING_SUITE = f'''
from tests.infra.redaction import revealed


def _write(token: str) -> int:
    return 401


def test_app_token_writes() -> None:
    token = revealed("{TOKEN}")
    assert _write(token) == 204


def test_reader_logs_in() -> None:
    password = revealed("{PASSWORD}")
    print("logging in with", password)
    assert password == "something else"
'''


def test_every_suite_masks_its_secrets_in_reports() -> None:
    assert suites_conftest.pytest_runtest_makereport is redaction.pytest_runtest_makereport


def test_failing_suite_writes_no_secret_into_its_junit_report(tmp_path: Path) -> None:
    suite = tmp_path / "test_failing_suite.py"
    suite.write_text(FAILING_SUITE)
    report = tmp_path / "report.xml"
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", str(suite), f"--junitxml={report}", *REPORT_OPTIONS,
         "-p", "tests.infra.redaction", "--rootdir", str(tmp_path),
         "-o", "junit_log_passing_tests=true"],
        cwd=REPOSITORY_ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    xml = report.read_text()
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert xml.count("<failure") == 2
    assert "***" in xml
    assert TOKEN not in xml
    assert PASSWORD not in xml
    assert TOKEN not in completed.stdout
    assert PASSWORD not in completed.stdout
