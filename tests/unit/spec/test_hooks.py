"""The spec's side of the hooks: login role access and settings, policies, intervals."""

from typing import Any

import pytest

from datalayer.spec import SpecError, parse_environment
from datalayer.spec.timescaledb import TimescaleDb


def parse(timescaledb: dict[str, Any]) -> TimescaleDb:
    return parse_environment(
        "test", {"datalayer:timescaledb": timescaledb}, source="Pulumi.test.yaml"
    ).timescaledb


def error_of(timescaledb: dict[str, Any]) -> str:
    with pytest.raises(SpecError) as raised:
        parse(timescaledb)
    return str(raised.value)


def candles(**policy: Any) -> dict[str, Any]:
    return {"market_data.candles": {"chunk_interval": "7 days", **policy}}


def test_policies_parse(timescaledb_config: dict[str, Any]) -> None:
    timescaledb_config["hypertables"] = candles(
        compression={
            "segment_by": ["asset_id"],
            "order_by": ["ts DESC"],
            "compress_after": "30 days",
        },
        retention={"drop_after": "2 years", "optional": True},
    )
    table = parse(timescaledb_config).hypertables["market_data.candles"]
    assert table.compression is not None and table.retention is not None
    assert (table.compression.order_by, table.retention.optional) == (["ts DESC"], True)


@pytest.mark.parametrize(
    "interval", ["7d", "7 fortnights", "0 days", "-1 day", "7", 7, "1 day 2 hours"]
)
def test_unsupported_interval_is_refused(timescaledb_config: dict[str, Any], interval: Any) -> None:
    timescaledb_config["hypertables"] = {"market_data.candles": {"chunk_interval": interval}}
    error = error_of(timescaledb_config)
    assert "datalayer:timescaledb.hypertables.market_data.candles.chunk_interval" in error
    assert f"{interval!r} is not a supported interval" in error


def test_compress_after_beyond_drop_after_is_refused(timescaledb_config: dict[str, Any]) -> None:
    timescaledb_config["hypertables"] = candles(
        compression={"compress_after": "2 years"}, retention={"drop_after": "1 year"}
    )
    error = error_of(timescaledb_config)
    assert "hypertables.market_data.candles" in error
    assert "compress_after '2 years' is not shorter than retention.drop_after '1 year'" in error


def test_unqualified_table_is_refused(timescaledb_config: dict[str, Any]) -> None:
    timescaledb_config["hypertables"] = {"candles": {"chunk_interval": "7 days"}}
    assert "'candles' is not a schema-qualified name" in error_of(timescaledb_config)


def test_bad_order_by_is_refused(timescaledb_config: dict[str, Any]) -> None:
    timescaledb_config["hypertables"] = candles(
        compression={"order_by": ["ts; DROP TABLE x"], "compress_after": "30 days"}
    )
    assert "order_by entry 'ts; DROP TABLE x'" in error_of(timescaledb_config)


def test_empty_refresh_window_is_refused(timescaledb_config: dict[str, Any]) -> None:
    timescaledb_config["continuous_aggregates"] = {
        "market_data.candles_daily": {
            "start_offset": "1 hour",
            "end_offset": "1 day",
            "schedule_interval": "1 hour",
        }
    }
    assert "start_offset '1 hour' must be longer than end_offset '1 day'" in error_of(
        timescaledb_config
    )


def test_role_without_access_is_refused(timescaledb_config: dict[str, Any]) -> None:
    del timescaledb_config["roles"][0]["access"]
    assert "datalayer:timescaledb.roles.0.access: Field required" in error_of(timescaledb_config)


def test_role_without_secret_is_refused(timescaledb_config: dict[str, Any]) -> None:
    del timescaledb_config["roles"][0]["password_secret"]
    assert "roles.0.password_secret: Field required" in error_of(timescaledb_config)


@pytest.mark.parametrize("setting", ["role", "search_path", "session_authorization"])
def test_role_setting_that_widens_access_is_refused(
    timescaledb_config: dict[str, Any], setting: str
) -> None:
    timescaledb_config["roles"][0]["settings"] = {setting: "x"}
    assert f"settings.{setting} cannot be set per role" in error_of(timescaledb_config)


def test_owner_may_not_be_a_login_role(timescaledb_config: dict[str, Any]) -> None:
    timescaledb_config["owner"] = "app"
    assert "owner 'app' must not be a login role" in error_of(timescaledb_config)


def daily(**policy: Any) -> dict[str, Any]:
    return {
        "market_data.candles_daily": {"end_offset": "1 hour", "schedule_interval": "1 hour"}
        | policy
    }


def test_continuous_aggregates_aggregate_in_real_time_and_materialize_history_by_default(
    timescaledb_config: dict[str, Any],
) -> None:
    timescaledb_config["continuous_aggregates"] = daily()
    view = parse(timescaledb_config).continuous_aggregates["market_data.candles_daily"]
    assert (view.materialized_only, view.materialize_history, view.history_window) == (
        False,
        True,
        "30 days",
    )


def test_history_window_shorter_than_a_day_is_refused(timescaledb_config: dict[str, Any]) -> None:
    timescaledb_config["continuous_aggregates"] = daily(history_window="12 hours")
    assert "history_window '12 hours' is shorter than a day" in error_of(timescaledb_config)


@pytest.mark.parametrize("version", ["2.19", "latest", "2.19.3; DROP", 2.19])
def test_malformed_extension_version_is_refused(
    timescaledb_config: dict[str, Any], version: Any
) -> None:
    timescaledb_config["extension_version"] = version
    assert f"datalayer:timescaledb.extension_version: {version!r} is not an extension version" in (
        error_of(timescaledb_config)
    )


@pytest.mark.parametrize("version", ["2.19.3", "2.27.0-p0"])
def test_extension_version_is_accepted(timescaledb_config: dict[str, Any], version: str) -> None:
    timescaledb_config["extension_version"] = version
    assert parse(timescaledb_config).extension_version == version
