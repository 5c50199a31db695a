"""From spec and sql/ to the hooks' plan: what is refused before any change, and what the
plan carries (no secrets) across to the droplet."""

from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from datalayer import scram
from datalayer.hooks.build import build_plan, fingerprint, password_changes
from datalayer.onhost.hooks.plan import HookPlan
from datalayer.onhost.hooks.report import Outcome, Status
from datalayer.spec import EnvironmentSpec, SpecError, parse_environment

MIGRATION = (
    "CREATE SCHEMA market_data;\n"
    "CREATE TABLE market_data.candles (ts timestamptz NOT NULL);\n"
    "SELECT create_hypertable('market_data.candles', by_range('ts'));\n"
)
AGGREGATE = (
    "CREATE MATERIALIZED VIEW market_data.candles_daily WITH (timescaledb.continuous) AS\n"
    "SELECT 1;\n"
)


@pytest.fixture
def sql_directory(tmp_path: Path) -> Path:
    (tmp_path / "migrations").mkdir()
    (tmp_path / "continuous_aggregates").mkdir()
    (tmp_path / "migrations" / "0001_market_data.sql").write_text(MIGRATION)
    (tmp_path / "continuous_aggregates" / "market_data.candles_daily.sql").write_text(AGGREGATE)
    return tmp_path


def environment(timescaledb: dict[str, Any]) -> EnvironmentSpec:
    return parse_environment("test", {"datalayer:timescaledb": timescaledb}, source="t.yaml")


def test_plan_reads_schemas_hypertables_and_migrations(
    timescaledb_config: dict[str, Any], sql_directory: Path
) -> None:
    timescaledb_config["hypertables"] = {"market_data.candles": {"chunk_interval": "1 day"}}
    plan = build_plan(environment(timescaledb_config), sql_directory)
    assert plan.schemas == ("market_data",)
    assert [(m.version, m.name) for m in plan.migrations] == [("0001", "market_data")]
    assert plan.migrations[0].source == f"{sql_directory.name}/migrations/0001_market_data.sql"
    assert plan.hypertables[0].chunk_interval == "1 day"
    assert plan.unlisted_aggregates == ("market_data.candles_daily",)


def test_plan_survives_json(timescaledb_config: dict[str, Any], sql_directory: Path) -> None:
    timescaledb_config["hypertables"] = {
        "market_data.candles": {
            "chunk_interval": "1 day",
            "compression": {"segment_by": ["asset_id"], "compress_after": "30 days"},
            "retention": {"drop_after": "1 year"},
        }
    }
    timescaledb_config["continuous_aggregates"] = {
        "market_data.candles_daily": {"end_offset": "1 hour", "schedule_interval": "1 hour"}
    }
    plan = build_plan(environment(timescaledb_config), sql_directory)
    assert HookPlan.from_json(plan.to_json()) == plan


def test_policy_on_unknown_table_is_refused(
    timescaledb_config: dict[str, Any], sql_directory: Path
) -> None:
    timescaledb_config["hypertables"] = {"market_data.tickz": {"chunk_interval": "1 day"}}
    with pytest.raises(SpecError) as raised:
        build_plan(environment(timescaledb_config), sql_directory)
    assert str(raised.value) == (
        "Pulumi.test.yaml: datalayer:timescaledb.hypertables.market_data.tickz: unknown table; "
        "sql/migrations makes these hypertables: market_data.candles"
    )


def test_aggregate_without_definition_is_refused(
    timescaledb_config: dict[str, Any], sql_directory: Path
) -> None:
    timescaledb_config["continuous_aggregates"] = {
        "market_data.candles_hourly": {"end_offset": "1 hour", "schedule_interval": "1 hour"}
    }
    with pytest.raises(SpecError) as raised:
        build_plan(environment(timescaledb_config), sql_directory)
    assert "continuous_aggregates.market_data.candles_hourly: no sql/continuous_aggregates/" in str(
        raised.value
    )


@pytest.mark.parametrize("name", ["1_short.sql", "0002-dash.sql", "0002_Upper.sql", "notes.txt"])
def test_misnamed_migration_is_refused(
    timescaledb_config: dict[str, Any], sql_directory: Path, name: str
) -> None:
    (sql_directory / "migrations" / name).write_text("SELECT 1;")
    with pytest.raises(SpecError) as raised:
        build_plan(environment(timescaledb_config), sql_directory)
    assert f"migrations/{name}: a migration file is named NNNN_description.sql" in str(raised.value)


def test_duplicate_version_is_refused(
    timescaledb_config: dict[str, Any], sql_directory: Path
) -> None:
    (sql_directory / "migrations" / "0001_again.sql").write_text("SELECT 1;")
    with pytest.raises(SpecError) as raised:
        build_plan(environment(timescaledb_config), sql_directory)
    assert "version 0001 is used by more than one file" in str(raised.value)


def test_fingerprint_follows_sql_roles_and_policies(
    timescaledb_config: dict[str, Any], sql_directory: Path
) -> None:
    before = fingerprint(build_plan(environment(timescaledb_config), sql_directory))
    assert fingerprint(build_plan(environment(timescaledb_config), sql_directory)) == before
    (sql_directory / "migrations" / "0002_more.sql").write_text("SELECT 1;")
    after_sql = fingerprint(build_plan(environment(timescaledb_config), sql_directory))
    timescaledb_config["roles"][0]["connection_limit"] = 5
    after_role = fingerprint(build_plan(environment(timescaledb_config), sql_directory))
    assert len({before, after_sql, after_role}) == 3


def test_plan_holds_no_password(timescaledb_config: dict[str, Any], sql_directory: Path) -> None:
    plan = build_plan(environment(timescaledb_config), sql_directory)
    assert "DATALAYER_APP_PASSWORD" not in plan.to_json()


def test_password_changes_only_for_roles_whose_verifier_does_not_match() -> None:
    current = "current-password-0123456789"
    stored = {"app": scram.verifier(current), "reader": scram.verifier("old-password-0123456789")}
    passwords = {
        "app": SecretStr(current),
        "reader": SecretStr("new-password-0123456789"),
        "analyst": SecretStr("first-password-0123456789"),
    }
    changes = password_changes(passwords, stored)
    assert sorted(changes) == ["analyst", "reader"]
    assert scram.matches("new-password-0123456789", changes["reader"])
    assert all("password-0123456789" not in verifier for verifier in changes.values())


@pytest.mark.parametrize(
    ("outcome", "line"),
    [
        (
            Outcome(Status.CREATED, "role", "app", "connection_limit 20"),
            "created role app: connection_limit 20",
        ),
        (
            Outcome(Status.CHANGED, "role", "app", "password", check=True),
            "would be changed role app: password",
        ),
        (
            Outcome(Status.UNCHANGED, "migration", "0001_x", check=True),
            "unchanged migration 0001_x",
        ),
    ],
)
def test_outcome_lines(outcome: Outcome, line: str) -> None:
    assert outcome.line() == line
