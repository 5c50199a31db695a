"""The one line a refused postgresql.conf is reported as, from what ``postgres -C`` printed.

Recorded on a deployed sandbox droplet (PostgreSQL 17.12 from Debian 13): the deployed
postgresql.conf with one line appended, copied beside it as the candidate, checked with
``runuser -u postgres -- /usr/lib/postgresql/17/bin/postgres -D /var/lib/postgresql/17/main
-c config_file=CANDIDATE -C data_directory`` while the server ran; stderr kept as printed. The
filter is the shell text the deploy runs, run here by this machine's sh, sed and awk.
"""

import subprocess

import pytest

from deploy.timescaledb.operations import refusal_line

CONF = "/etc/postgresql/17/main/postgresql.conf"
CANDIDATE = f"{CONF}.candidate"
CONTAINS_ERRORS = f'FATAL:  configuration file "{CANDIDATE}" contains errors'

CASES = [
    pytest.param(
        "2026-12-01 10:49:16.088 UTC [3406] LOG:  invalid value for parameter "
        '"synchronous_standby_names": "FIRST 2 (a"\n'
        "2026-12-01 10:49:16.088 UTC [3406] DETAIL:  syntax error at end of input\n"
        f"2026-12-01 10:49:16.089 UTC [3406] {CONTAINS_ERRORS}\n",
        'invalid value for parameter "synchronous_standby_names": "FIRST 2 (a"; '
        "syntax error at end of input",
        id="check-hook-with-detail",
    ),
    pytest.param(
        '2026-12-01 10:49:16.020 UTC [3386] LOG:  invalid value for parameter "log_statement": '
        '"every"\n'
        "2026-12-01 10:49:16.020 UTC [3386] HINT:  Available values: none, ddl, mod, all.\n"
        f"2026-12-01 10:49:16.020 UTC [3386] {CONTAINS_ERRORS}\n",
        'invalid value for parameter "log_statement": "every"; '
        "Available values: none, ddl, mod, all.",
        id="enum-with-hint",
    ),
    # The candidate's own log_timezone already applies to later lines: GMT, not UTC.
    pytest.param(
        f'2026-12-01 10:49:16.054 GMT [3396] LOG:  syntax error in file "{CANDIDATE}" line 84, '
        'near token "parsecs"\n'
        f"2026-12-01 10:49:16.054 GMT [3396] {CONTAINS_ERRORS}\n",
        f'syntax error in file "{CONF}" line 84, near token "parsecs"',
        id="syntax-error-names-the-real-file",
    ),
    # A version whose server is not installed (99), as runuser says it.
    pytest.param(
        "runuser: failed to execute /usr/lib/postgresql/99/bin/postgres: No such file or "
        "directory\n",
        "runuser: failed to execute /usr/lib/postgresql/99/bin/postgres: No such file or "
        "directory",
        id="no-severity-kept-whole",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("stderr", "line"), CASES)
def test_refusal_is_one_line_of_postgresql_messages(stderr: str, line: str) -> None:
    completed = subprocess.run(
        ["sh", "-c", refusal_line(CANDIDATE, CONF)],
        input=stderr, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert completed.stdout == line + "\n"
