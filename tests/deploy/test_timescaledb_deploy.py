"""The TimescaleDB deploy against a real sandbox droplet, over SSH, as a user runs it.

Tests run in file order on one droplet: the first deploy, its verification and its idempotence
come first; later tests change the spec and check the least disruptive action was taken.
"""

from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from datalayer.deploy_run import DeployResult
from tests.deploy.conftest import Deployment

pytestmark = pytest.mark.sandbox

Stack = Callable[[Callable[[dict[str, Any]], None]], dict[str, str]]


def test_first_deploy_changes_the_host(first_deploy: DeployResult) -> None:
    assert first_deploy.changed > 0
    assert first_deploy.errors == 0


def test_second_deploy_changes_nothing_and_restarts_nothing(
    deployment: Deployment, first_deploy: DeployResult
) -> None:
    started = deployment.postmaster_started()
    second = deployment.deploy()
    assert second.succeeded, second.output
    assert second.changed == 0, second.output
    assert deployment.postmaster_started() == started


def test_redeploy_hours_later_changes_nothing(
    deployment: Deployment, first_deploy: DeployResult
) -> None:
    # apt's index (and the stamp pyinfra's apt.packages(cache_time=...) reads) two hours old:
    # a host with every package installed needs no apt-get update.
    deployment.sh(
        "mkdir -p /var/lib/apt/periodic && "
        "touch -d '2 hours ago' /var/lib/apt/periodic/update-success-stamp"
    )
    later = deployment.deploy()
    assert later.succeeded, later.output
    assert later.changed == 0, later.output


def test_testinfra_suite_passes_on_the_deployed_host(
    deployment: Deployment, first_deploy: DeployResult, tmp_path: Any
) -> None:
    completed = deployment.verify(tmp_path)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert " passed" in completed.stdout


def test_no_secret_appears_in_deploy_output(
    deployment: Deployment, first_deploy: DeployResult
) -> None:
    verbose = deployment.deploy(verbose=True)
    outputs = {"first deploy": first_deploy.output, "verbose deploy": verbose.output}
    # The secrets' names, never their values, in a failure's message.
    leaked = [
        (secret, where)
        for secret, password in deployment.passwords.items()
        for where, output in outputs.items()
        if password in output
    ]
    assert leaked == []


def test_rotated_password_is_set_masked_and_works(
    deployment: Deployment, first_deploy: DeployResult
) -> None:
    new_password = "rotated-" + "Z9" * 12
    deployment.set_password("DATALAYER_APP_PASSWORD", new_password)
    result = deployment.deploy(verbose=True)
    assert result.succeeded, result.output
    assert result.changed == 1, result.output
    assert "pending: password of app" in result.output
    assert new_password not in result.output
    assert "SCRAM-SHA-256$" not in result.output
    with psycopg.connect(
        host="127.0.0.1", port=deployment.ports[5432], dbname="trading", user="app",
        password=new_password, sslmode="require",
    ) as connection:  # fmt: skip
        assert connection.execute("SELECT current_user").fetchone() == ("app",)


def test_reloadable_setting_change_reloads_without_restart(
    deployment: Deployment, first_deploy: DeployResult, changed_stack: Stack
) -> None:
    started = deployment.postmaster_started()
    result = deployment.deploy(
        changed_stack(lambda t: t.setdefault("settings", {}).update(work_mem="7MB"))
    )
    assert result.succeeded, result.output
    assert deployment.sql("SHOW work_mem") == "7MB"
    assert deployment.postmaster_started() == started


def test_pg_hba_change_reloads_without_restart(
    deployment: Deployment, first_deploy: DeployResult, changed_stack: Stack
) -> None:
    rule = {"type": "host", "database": "trading", "user": "reader", "address": "172.30.58.0/24",
            "method": "scram-sha-256", "comment": "A rule added by the test."}  # fmt: skip
    started = deployment.postmaster_started()
    result = deployment.deploy(changed_stack(lambda t: t["hba"].append(rule)))
    assert result.succeeded, result.output
    assert "172.30.58.0" in deployment.sql("SELECT address FROM pg_hba_file_rules")
    assert deployment.postmaster_started() == started


def test_restart_setting_change_restarts(
    deployment: Deployment, first_deploy: DeployResult, changed_stack: Stack
) -> None:
    started = deployment.postmaster_started()
    result = deployment.deploy(
        changed_stack(lambda t: t.setdefault("settings", {}).update(shared_buffers="200MB"))
    )
    assert result.succeeded, result.output
    assert deployment.sql("SHOW shared_buffers") == "200MB"
    assert deployment.postmaster_started() != started
    assert deployment.sql("SELECT count(*) FROM pg_settings WHERE pending_restart") == "0"


def test_bad_spec_stops_before_any_change(
    deployment: Deployment, first_deploy: DeployResult, changed_stack: Stack
) -> None:
    before = deployment.sh("sha256sum /etc/postgresql/17/main/pg_hba.conf")
    result = deployment.deploy(
        changed_stack(lambda t: t["hba"][0].update(address="172.30.57.0/33"))
    )
    assert result.returncode != 0
    assert (
        "datalayer:timescaledb.hba.0.address: '172.30.57.0/33' is not a valid address or CIDR"
        in result.output
    )
    assert "Traceback" not in result.output
    assert result.changed == 0
    assert deployment.sh("sha256sum /etc/postgresql/17/main/pg_hba.conf") == before


def test_missing_secret_stops_before_any_change(
    deployment: Deployment, first_deploy: DeployResult, changed_stack: Stack
) -> None:
    before = deployment.sh("sha256sum /etc/postgresql/17/main/postgresql.conf")
    # The spec changes too: a run that got past the secrets would change the host.
    stack = changed_stack(lambda t: t.setdefault("settings", {}).update(work_mem="9MB"))
    result = deployment.deploy(stack, without="DATALAYER_READER_PASSWORD")
    assert result.returncode != 0
    assert "secret DATALAYER_READER_PASSWORD is not set" in result.output
    assert "Traceback" not in result.output
    assert deployment.sh("sha256sum /etc/postgresql/17/main/postgresql.conf") == before


def test_timescale_repository_plan_is_signed_and_changes_nothing_in_dry_run(
    deployment: Deployment, first_deploy: DeployResult, changed_stack: Stack
) -> None:
    # Timescale's repository is unreachable from this machine: plan against the real droplet
    # (pyinfra --dry reads its facts) and check what would be done, without doing it.
    stack = changed_stack(lambda t: t.update(package_source="timescale"))
    plan = deployment.deploy(stack, dry=True)
    assert plan.returncode == 0, plan.output
    planned = [line.split("|")[1].strip() for line in plan.output.splitlines() if "| " in line]
    unplanned = [
        operation
        for operation in (
            "Install the pgdg repository signing key, checked by fingerprint",
            "Add the pgdg apt repository",
            "Install the timescaledb repository signing key, checked by fingerprint",
            "Add the timescaledb apt repository",
        )
        if not any(line.startswith(operation) and " 1 (" in line for line in planned)
    ]
    assert unplanned == [], plan.output
    assert any("timescaledb-2-postgresql-17" in line for line in planned)
    repositories = "/etc/apt/sources.list.d/pgdg.list /etc/apt/sources.list.d/timescaledb.list"
    assert deployment.sh(f"ls {repositories} 2>&1 | grep -c 'No such file'") == "2"


# A runtime drop-in (gone at the next boot) that makes `systemctl reload` fail: it stands for any
# reload that fails once the new file is in place (a dropped link, a busy systemd).
FAILING_RELOAD = (
    "/run/systemd/system/postgresql@17-main.service.d/datalayer-test-failing-reload.conf"
)


def test_reload_that_failed_after_the_file_was_written_is_done_by_the_next_run(
    deployment: Deployment, first_deploy: DeployResult, changed_stack: Stack
) -> None:
    # From the repository's spec (earlier tests leave others), so that the change only reloads.
    assert deployment.deploy().succeeded
    stack = changed_stack(lambda t: t.setdefault("settings", {}).update(work_mem="11MB"))
    deployment.sh(
        f"mkdir -p $(dirname {FAILING_RELOAD}) && "
        f"printf '[Service]\\nExecReload=\\nExecReload=/bin/false\\n' > {FAILING_RELOAD} && "
        "systemctl daemon-reload"
    )
    try:
        failed = deployment.deploy(stack)
    finally:
        deployment.sh(f"rm {FAILING_RELOAD} && systemctl daemon-reload")
    assert not failed.succeeded, failed.output
    assert deployment.sh("grep -c 11MB /etc/postgresql/17/main/postgresql.conf") == "1"
    assert deployment.sql("SHOW work_mem") != "11MB"
    result = deployment.deploy(stack, verbose=True)
    assert result.succeeded, result.output
    assert "the files were written after PostgreSQL last loaded them" in result.output
    assert deployment.sql("SHOW work_mem") == "11MB"
    back = deployment.deploy()  # leave the droplet as the repository's spec says
    assert back.succeeded, back.output


# Values that get past the spec but that the server's own check hooks refuse; the messages are
# what `postgres -C` printed on the droplet's PostgreSQL 17. The catalogue types the first two
# settings as free text; the third is within max_connections' own range, but with the tuned
# autovacuum_max_workers (10), max_worker_processes (21) and max_wal_senders (10) it passes
# PostgreSQL's limit on backends (262143). Today's code installs them all: a reloaded server is
# left on its old value over a file it cannot start with, a restarted one down.
REFUSED_BY_POSTGRESQL = [
    pytest.param(
        {"settings": {"synchronous_standby_names": "FIRST 2 (standby_1"}},
        'invalid value for parameter "synchronous_standby_names": "FIRST 2 (standby_1"; '
        "syntax error at end of input",
        id="reloadable-setting",
    ),
    pytest.param(
        {"settings": {"debug_io_direct": "data,wal,everything"}},
        'invalid value for parameter "debug_io_direct": "data,wal,everything"; '
        'Invalid option "everything"',
        id="restart-setting",
    ),
    pytest.param(
        {"max_connections": 262140},
        'invalid value for parameter "max_connections": 262140',
        id="backends-over-the-limit",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("change", "message"), REFUSED_BY_POSTGRESQL)
def test_configuration_postgresql_refuses_is_not_installed_and_the_server_stays_up(
    deployment: Deployment,
    first_deploy: DeployResult,
    changed_stack: Stack,
    change: dict[str, Any],
    message: str,
) -> None:
    assert deployment.deploy().succeeded  # from the repository's spec
    conf = "/etc/postgresql/17/main/postgresql.conf"
    before = deployment.sh(f"sha256sum {conf}")
    started = deployment.postmaster_started()

    def apply(timescaledb: dict[str, Any]) -> None:
        for key, value in change.items():
            if key == "settings":
                timescaledb.setdefault("settings", {}).update(value)
            else:
                timescaledb[key] = value

    try:
        result = deployment.deploy(changed_stack(apply))
        assert deployment.sh(f"sha256sum {conf}") == before, result.output
        assert deployment.sh("systemctl is-active postgresql@17-main || true") == "active"
        assert deployment.postmaster_started() == started
        assert not result.succeeded, result.output
        assert f"{conf}: not installed, PostgreSQL 17 refuses it: {message}" in result.output
        assert deployment.sh(f"ls {conf}.candidate 2>&1 | grep -c 'No such file'") == "1"
    finally:
        back = deployment.deploy()  # leave the droplet as the repository's spec says
    assert back.succeeded, back.output
