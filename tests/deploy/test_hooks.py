"""The post-provision hooks on the deploy's droplet: refusals before any change, drift found and
repaired, changed policies, and the command line over a DSN.

The droplet is the one tests/deploy/conftest.py deployed. Hook runs with a changed plan go
through the very runtime the deploy uploaded (``datalayer.hooks.remote``), so they meet the
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
from datalayer.hooks.plan import CompressionPlan, HookPlan, MigrationPlan
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


def test_deployed_plan_checks_clean(deployment: Deployment, first_deploy: DeployResult) -> None:
    completed = run_remote(deployment, deployed_plan(), "check")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "check: 0 of" in completed.stdout
    assert "would be" not in completed.stdout


def test_optional_policies_are_skipped_with_a_warning_on_the_apache_edition(
    deployment: Deployment, first_deploy: DeployResult
) -> None:
    completed = run_remote(deployment, deployed_plan(), "check")
    hypertables = load_environment(ENVIRONMENT).timescaledb.hypertables
    compressed = [table for table, policy in hypertables.items() if policy.compression]
    assert compressed, "the sandbox stack declares no compression to skip"
    for table in compressed:
        assert (
            f"skipped compression {table}: WARNING: the apache edition lacks it (marked optional)"
            in completed.stdout
        )


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
    deployment: Deployment, first_deploy: DeployResult
) -> None:
    plan = deployed_plan()
    table = plan.hypertables[0]
    required = dataclasses.replace(
        table, compression=CompressionPlan(("asset_id",), ("ts DESC",), "30 days", optional=False)
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
        for role in spec.roles:
            password = deployment.passwords[role.password_secret]
            with psycopg.connect(
                host="127.0.0.1", port=deployment.ports[5432], dbname=spec.database,
                user=role.name, password=password, sslmode="require", autocommit=True,
            ) as connection:  # fmt: skip
                connection.execute(f"SELECT * FROM {schema}.datalayer_later".encode())
                row = connection.execute(
                    "SELECT has_table_privilege(%s, 'INSERT')", (f"{schema}.datalayer_later",)
                ).fetchone()
                assert row == (role.access.value == "read_write",), role.name
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
