"""The post-provision hooks on the deploy's droplet: refusals before any change, drift found and
repaired, changed policies, and the command line over a DSN.

The droplet is the one tests/deploy/conftest.py deployed. Hook runs with a changed plan go
through the very runtime the deploy uploaded (``datalayer.onhost.hooks.remote``), so they meet the
real server; only the plan differs.
"""

import dataclasses
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from datalayer import scram
from datalayer.deploy_run import DeployResult
from datalayer.hooks.build import build_plan
from datalayer.onhost.hooks.plan import CompressionPlan, HookPlan, MigrationPlan
from datalayer.paths import REPOSITORY_ROOT
from datalayer.spec import load_environment
from deploy.timescaledb.hooks import PLAN_FILE, remote_command
from tests.deploy.conftest import ENVIRONMENT, Deployment

pytestmark = pytest.mark.sandbox

Stack = Callable[[Callable[[dict[str, Any]], None]], dict[str, str]]
TEST_PLAN = "/tmp/datalayer-test-plan.json"


def deployed_plan() -> HookPlan:
    return build_plan(load_environment(ENVIRONMENT))


def run_remote(
    deployment: Deployment, plan: HookPlan, mode: str
) -> subprocess.CompletedProcess[str]:
    """The droplet's hooks with ``plan`` instead of the deployed one."""
    subprocess.run(
        ["docker", "exec", "-i", deployment.container, "sh", "-c", f"cat > {TEST_PLAN}"],
        input=plan.to_json(), text=True, check=True,
    )  # fmt: skip
    command = remote_command(mode, 5432).replace(PLAN_FILE, TEST_PLAN)
    return subprocess.run(
        ["docker", "exec", "-i", deployment.container, "sh", "-c", command],
        input="{}", capture_output=True, text=True, check=False,
    )  # fmt: skip


def with_a_role_change(plan: HookPlan) -> HookPlan:
    """``plan`` with one more connection for its first login role: a change that must not
    happen when the hooks are to stop before any change."""
    role = plan.login_roles[0]
    changed = dataclasses.replace(role, connection_limit=role.connection_limit + 1)
    return dataclasses.replace(plan, login_roles=(changed, *plan.login_roles[1:]))


def connection_limit(deployment: Deployment, role: str) -> str:
    return deployment.sql(f"SELECT rolconnlimit FROM pg_roles WHERE rolname = '{role}'")


def ledger(deployment: Deployment) -> str:
    return deployment.sql(
        "SELECT string_agg(version, ',' ORDER BY version) FROM datalayer.schema_migrations",
        "trading",
    )


COMMUNITY = "timescale"


@pytest.fixture(scope="module")
def license_name(deployment: Deployment, first_deploy: DeployResult) -> str:
    return deployment.sql("SHOW timescaledb.license", "trading")


def needs_community(license_name: str) -> None:
    if license_name != COMMUNITY:
        pytest.skip(f"needs TimescaleDB's Community edition; this host runs {license_name}")


def needs_apache(license_name: str) -> None:
    if license_name == COMMUNITY:
        pytest.skip("shows the Apache edition's refusals; this host runs the Community edition")


def test_deployed_plan_checks_clean(deployment: Deployment, first_deploy: DeployResult) -> None:
    completed = run_remote(deployment, deployed_plan(), "check")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "check: 0 of" in completed.stdout
    assert "would be" not in completed.stdout


def test_optional_policies_are_skipped_with_a_warning_on_the_apache_edition(
    deployment: Deployment, license_name: str
) -> None:
    needs_apache(license_name)
    completed = run_remote(deployment, deployed_plan(), "check")
    hypertables = load_environment(ENVIRONMENT).timescaledb.hypertables
    compressed = [table for table, policy in hypertables.items() if policy.compression]
    assert compressed, "the sandbox stack declares no compression to skip"
    unreported = [
        table
        for table in compressed
        if f"skipped compression {table}: WARNING: the apache edition lacks it (marked optional)"
        not in completed.stdout
    ]
    assert unreported == [], completed.stdout


def test_migration_with_a_syntax_error_is_rolled_back_and_named(
    deployment: Deployment, first_deploy: DeployResult
) -> None:
    plan = deployed_plan()
    broken = MigrationPlan(
        version="9999", name="broken", source="sql/migrations/9999_broken.sql",
        sql="CREATE TABLE market_data.datalayer_probe (x int);\nSELEC 1;\n", checksum="0" * 64,
    )  # fmt: skip
    before = ledger(deployment)
    completed = run_remote(
        deployment, dataclasses.replace(plan, migrations=(*plan.migrations, broken)), "apply"
    )
    assert completed.returncode == 1
    assert "error: sql/migrations/9999_broken.sql, line 2: syntax error at or near" in (
        completed.stderr
    )
    assert "rolled back" in completed.stderr
    assert ledger(deployment) == before
    probe = deployment.sql("SELECT to_regclass('market_data.datalayer_probe')", "trading")
    assert probe == ""


def test_changed_applied_migration_is_refused_before_any_change(
    deployment: Deployment, first_deploy: DeployResult
) -> None:
    plan = deployed_plan()
    first = plan.migrations[0]
    edited = dataclasses.replace(first, sql=first.sql + "\n-- edited\n", checksum="1" * 64)
    role = plan.login_roles[0]
    # A role change rides along: it must not happen, the ledger check comes first.
    changed = with_a_role_change(
        dataclasses.replace(plan, migrations=(edited, *plan.migrations[1:]))
    )
    completed = run_remote(deployment, changed, "apply")
    assert completed.returncode == 1
    assert f"error: {first.source} was changed after it was applied" in completed.stderr
    assert connection_limit(deployment, role.name) == str(role.connection_limit)


def test_required_policy_on_the_apache_edition_stops_before_any_change(
    deployment: Deployment, license_name: str
) -> None:
    needs_apache(license_name)
    plan = deployed_plan()
    table = plan.hypertables[0]
    required = dataclasses.replace(
        table, compression=CompressionPlan(("asset_key",), ("ts DESC",), "30 days", optional=False)
    )
    role = plan.login_roles[0]
    changed = with_a_role_change(
        dataclasses.replace(plan, hypertables=(required, *plan.hypertables[1:]))
    )
    completed = run_remote(deployment, changed, "apply")
    assert completed.returncode == 1
    assert "TimescaleDB's apache edition" in completed.stderr
    assert f"lacks compression on {table.table}" in completed.stderr
    assert connection_limit(deployment, role.name) == str(role.connection_limit)


def test_drift_is_reported_by_check_and_repaired_by_the_next_deploy(
    deployment: Deployment, first_deploy: DeployResult
) -> None:
    plan = deployed_plan()
    reader = next(role.name for role in plan.login_roles if role.access == "read_only")
    table = plan.hypertables[0].table
    # Earlier tests may leave a changed configuration behind; start from the checked-in spec.
    assert deployment.deploy().succeeded
    deployment.sql(f"GRANT INSERT ON {table} TO {reader}", "trading")
    deployment.sql(f"ALTER ROLE {reader} CONNECTION LIMIT 99")
    completed = run_remote(deployment, plan, "check")
    assert completed.returncode == 3, completed.stdout + completed.stderr
    assert f"would be changed role {reader}: connection_limit 99 ->" in completed.stdout
    assert f"would be changed privileges {table.split('.')[0]}: {reader} on 1 objects" in (
        completed.stdout
    )
    result = deployment.deploy()
    assert result.succeeded, result.output
    assert result.changed == 1, result.output
    assert run_remote(deployment, plan, "check").returncode == 0


def test_chunk_interval_change_changes_the_hypertable(
    deployment: Deployment, first_deploy: DeployResult, changed_stack: Stack
) -> None:
    table = deployed_plan().hypertables[0].table
    assert deployment.deploy().succeeded

    def one_day(timescaledb: dict[str, Any]) -> None:
        timescaledb["hypertables"][table]["chunk_interval"] = "1 day"

    result = deployment.deploy(changed_stack(one_day))
    assert result.succeeded, result.output
    schema, name = table.split(".")
    query = (
        "SELECT time_interval FROM timescaledb_information.dimensions "
        f"WHERE hypertable_schema = '{schema}' AND hypertable_name = '{name}'"
    )
    assert deployment.sql(query, "trading") == "1 day"
    assert deployment.deploy().succeeded
    assert deployment.sql(query, "trading") == deployed_plan().hypertables[0].chunk_interval


def test_tables_the_owner_creates_later_are_readable_by_reader_and_writable_by_app(
    deployment: Deployment, first_deploy: DeployResult
) -> None:
    spec = load_environment(ENVIRONMENT).timescaledb
    schema = deployed_plan().schemas[0]
    deployment.sql(
        f"SET ROLE {spec.owner}; CREATE TABLE {schema}.datalayer_later (x int)", "trading"
    )
    try:
        may_insert = {}
        for role in spec.roles:
            password = deployment.passwords[role.password_secret]
            with psycopg.connect(
                host="127.0.0.1", port=deployment.ports[5432], dbname=spec.database,
                user=role.name, password=password, sslmode="require", autocommit=True,
            ) as connection:  # fmt: skip
                connection.execute(f"SELECT * FROM {schema}.datalayer_later".encode())
                may_insert[role.name] = connection.execute(
                    "SELECT has_table_privilege(%s, 'INSERT')", (f"{schema}.datalayer_later",)
                ).fetchone()
        assert may_insert == {
            role.name: (role.access.value == "read_write",) for role in spec.roles
        }
    finally:
        deployment.sql(f"DROP TABLE {schema}.datalayer_later", "trading")


def test_command_line_applies_and_checks_over_a_dsn(
    deployment: Deployment, first_deploy: DeployResult, changed_stack: Stack
) -> None:
    """``python -m datalayer.hooks`` from this machine, as the Pulumi program runs it: a
    superuser login over the network, its password in PGPASSWORD, never on argv."""
    superuser_password = "superuser-" + "Q7" * 12
    rule = {"type": "host", "database": "trading,postgres", "user": "postgres",
            "address": "172.30.57.0/24", "method": "scram-sha-256",
            "comment": "The test's superuser login for the hooks over a DSN."}  # fmt: skip

    assert deployment.deploy(changed_stack(lambda t: t["hba"].append(rule))).succeeded

    def with_more_connections(timescaledb: dict[str, Any]) -> None:
        timescaledb["hba"].append(rule)
        timescaledb["roles"][-1]["connection_limit"] += 1

    # The same stack file, now with a change only the command line will make.
    stack = changed_stack(with_more_connections)
    # On psql's stdin: a verifier's '$' signs would not survive a shell command line.
    subprocess.run(
        ["docker", "exec", "-i", deployment.container, "runuser", "-u", "postgres", "--",
         "psql", "-Xq", "-v", "ON_ERROR_STOP=1"],
        input=f"ALTER ROLE postgres PASSWORD '{scram.verifier(superuser_password)}';",
        text=True, check=True,
    )  # fmt: skip
    try:
        dsn = f"host=127.0.0.1 port={deployment.ports[5432]} user=postgres sslmode=require"
        environ = {**os.environ, **deployment.environ, **stack, "PGPASSWORD": superuser_password}
        reader = load_environment(ENVIRONMENT).timescaledb.roles[-1]

        def hooks(mode: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "datalayer.hooks", mode, "--env", ENVIRONMENT, "--dsn", dsn],
                cwd=REPOSITORY_ROOT, env=environ, capture_output=True, text=True, check=False,
            )  # fmt: skip

        applied = hooks("apply")
        assert applied.returncode == 0, applied.stdout + applied.stderr
        assert f"changed role {reader.name}: connection_limit" in applied.stdout
        assert superuser_password not in applied.stdout + applied.stderr
        checked = hooks("check")
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "check: 0 of" in checked.stdout
        assert connection_limit(deployment, reader.name) == str(reader.connection_limit + 1)
    finally:
        deployment.sql("ALTER ROLE postgres PASSWORD NULL")
    assert deployment.deploy().succeeded


def test_command_line_refuses_a_password_in_the_dsn() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "datalayer.hooks", "check", "--env", ENVIRONMENT,
         "--dsn", "host=127.0.0.1 user=postgres password=hunter2-hunter2-hunter2"],
        cwd=REPOSITORY_ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert completed.returncode == 2
    assert "--dsn holds a password: give it in PGPASSWORD or PGPASSFILE" in completed.stderr


def test_a_ledger_from_before_history_materialization_is_checked_then_completed(
    deployment: Deployment, first_deploy: DeployResult
) -> None:
    # Ledgers written before history_materialized_at existed: check must read them, apply
    # adds the column (and, on the Community edition, materializes the views' history).
    deployment.sql(
        "ALTER TABLE datalayer.continuous_aggregates DROP COLUMN history_materialized_at",
        "trading",
    )
    checked = run_remote(deployment, deployed_plan(), "check")
    assert checked.returncode == 3, checked.stdout + checked.stderr
    added = "ledger datalayer: continuous_aggregates.history_materialized_at added"
    assert f"would be changed {added}" in checked.stdout
    applied = run_remote(deployment, deployed_plan(), "apply")
    assert f"changed {added}" in applied.stdout, applied.stdout + applied.stderr
    assert run_remote(deployment, deployed_plan(), "check").returncode == 0


# --- The timescaledb extension's version ------------------------------------------------------


def refused_before_any_change(deployment: Deployment, plan: HookPlan, message: str) -> None:
    """Applying ``plan`` with a role change riding along stops with ``message``, and the role
    is as it was."""
    completed = run_remote(deployment, with_a_role_change(plan), "apply")
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert message in completed.stderr
    role = plan.login_roles[0]
    assert connection_limit(deployment, role.name) == str(role.connection_limit)


def package_default(deployment: Deployment) -> str:
    """default_version of the installed package's control file, as the server reads it."""
    return deployment.sql(
        "SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb'"
    )


def test_extension_at_the_package_default_is_unchanged(
    deployment: Deployment, first_deploy: DeployResult
) -> None:
    completed = run_remote(deployment, deployed_plan(), "check")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert (
        f"unchanged extension timescaledb in trading: version {package_default(deployment)}"
        in completed.stdout
    )


def test_extension_pinned_below_the_running_version_is_refused_before_any_change(
    deployment: Deployment, first_deploy: DeployResult
) -> None:
    # The oldest version the package's update scripts start from: older than the running one.
    oldest = deployment.sql(
        "SELECT source FROM pg_extension_update_paths('timescaledb') "
        "ORDER BY string_to_array(source, '.')::int[] LIMIT 1"
    )
    refused_before_any_change(
        deployment,
        dataclasses.replace(deployed_plan(), extension_version=oldest),
        f"error: database trading runs timescaledb {package_default(deployment)}, newer than "
        f"timescaledb.extension_version {oldest}: an extension is never downgraded in place",
    )


def test_extension_pinned_to_a_version_without_an_update_path_is_refused_before_any_change(
    deployment: Deployment, first_deploy: DeployResult
) -> None:
    refused_before_any_change(
        deployment,
        dataclasses.replace(deployed_plan(), extension_version="99.0.0"),
        f"error: timescaledb {package_default(deployment)} cannot be updated to 99.0.0: the "
        "installed package has no update path",
    )


# --- What only the Community edition has -------------------------------------------------------


def test_policy_jobs_run_in_a_session_as_their_owner(
    deployment: Deployment, license_name: str
) -> None:
    # Background jobs of hand-built Community editions fail on Debian 13's PostgreSQL 17.12 with
    # 'cannot drop portal "" while it is being set up' (builds 2.19.3 and 2.29.2, stock jobs
    # too, on a vanilla cluster as well), so each job runs here in a session, as the role its
    # background worker would connect as.
    needs_community(license_name)
    owner = load_environment(ENVIRONMENT).timescaledb.owner
    jobs = deployment.sql(
        f"SELECT string_agg(job_id::text, ' ' ORDER BY job_id) FROM timescaledb_information.jobs "
        f"WHERE owner = '{owner}'::regrole", "trading",
    ).split()  # fmt: skip
    assert jobs, f"no policy job is owned by {owner}"
    for job in jobs:
        # Two -c: run_job commits inside, which a multi-statement string's implicit
        # transaction would refuse.
        deployment.sh(
            f"runuser -u postgres -- psql -XAtq -v ON_ERROR_STOP=1 -d trading "
            f"-c 'SET ROLE {owner}' -c 'CALL run_job({job})'"
        )
    assert deployment.sql(
        "SELECT count(*) FROM timescaledb_information.job_errors "
        "WHERE err_message LIKE 'permission denied%'", "trading",
    ) == "0"  # fmt: skip


def test_daily_bars_show_all_of_history_and_today(
    deployment: Deployment, license_name: str
) -> None:
    needs_community(license_name)
    view = "market_data.candles_daily"
    deployment.sql(
        "INSERT INTO market_data.assets (symbol, asset_type, exchange) "
        "VALUES ('HIST', 'stock', 'TEST'); "
        "INSERT INTO market_data.candles (ts, asset_key, timeframe, open, high, low, close, "
        "volume, source) SELECT ts, a.key, '1h', 10, 11, 9, 10, 100, 'test' "
        "FROM market_data.assets a, generate_series(date_trunc('hour', now()) - interval "
        "'400 days', date_trunc('hour', now()), interval '6 hours') ts WHERE a.symbol = 'HIST'",
        "trading",
    )
    try:
        # History loaded before the view exists: drop it (and its ledger row), let the hooks
        # create it again over the rows, as on a database restored from a dump.
        deployment.sql(
            f"DROP MATERIALIZED VIEW {view}; "
            f"DELETE FROM datalayer.continuous_aggregates WHERE view = '{view}'", "trading"
        )  # fmt: skip
        completed = run_remote(deployment, deployed_plan(), "apply")
        assert completed.returncode == 0, completed.stdout + completed.stderr
        assert f"created history {view}: " in completed.stdout
        days, today = deployment.sql(
            f"SELECT count(*), bool_or(day = date_trunc('day', now())) FROM {view} v "
            "JOIN market_data.assets a ON a.key = v.asset_key WHERE a.symbol = 'HIST'",
            "trading",
        ).split("|")
        assert (days, today) == ("401", "t")
        # A bar newer than any refresh: real-time aggregation (materialized_only false) shows it.
        deployment.sql(
            "INSERT INTO market_data.candles (ts, asset_key, timeframe, open, high, low, close, "
            "volume, source) SELECT date_trunc('minute', now()), key, '1m', 10, 11, 9, 10, 1, "
            "'test' FROM market_data.assets WHERE symbol = 'HIST'", "trading",
        )  # fmt: skip
        assert deployment.sql(
            f"SELECT count(*) FROM {view} v JOIN market_data.assets a ON a.key = v.asset_key "
            "WHERE a.symbol = 'HIST' AND v.timeframe = '1m' AND v.day = date_trunc('day', now())",
            "trading",
        ) == "1"  # fmt: skip
        again = run_remote(deployment, deployed_plan(), "apply")
        assert f"unchanged history {view}: materialized" in again.stdout
    finally:
        deployment.sql(
            "DELETE FROM market_data.candles WHERE source = 'test'; "
            "DELETE FROM market_data.assets WHERE symbol = 'HIST'", "trading",
        )  # fmt: skip
