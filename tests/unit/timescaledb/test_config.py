"""Rendered postgresql.conf and pg_hba.conf: complete, ordered, and strict about missing values."""

from collections.abc import Callable
from typing import Any

import jinja2
import pytest

from datalayer.render import postgresql_boolean, postgresql_value, render
from datalayer.spec import load_environment, parse_environment
from datalayer.spec.timescaledb import TimescaleDb
from datalayer.timescaledb.changes import parse_settings
from datalayer.timescaledb.config import render_pg_hba_conf, render_postgresql_conf
from datalayer.timescaledb.layout import debian_layout


def spec_of(config: dict[str, Any]) -> TimescaleDb:
    return parse_environment("test", {"datalayer:timescaledb": config}, source="t").timescaledb


def conf(spec: TimescaleDb) -> dict[str, str]:
    return parse_settings(render_postgresql_conf(spec, debian_layout(spec), "test"))


def hba_records(spec: TimescaleDb) -> list[list[str]]:
    text = render_pg_hba_conf(spec, "test")
    return [line.split() for line in text.splitlines() if line and not line.startswith("#")]


def test_postgresql_conf_uses_the_debian_layout(timescaledb_config: dict[str, Any]) -> None:
    settings = conf(spec_of(timescaledb_config))
    assert settings["data_directory"] == "/var/lib/postgresql/17/main"
    assert settings["hba_file"] == "/etc/postgresql/17/main/pg_hba.conf"
    assert settings["external_pid_file"] == "/var/run/postgresql/17-main.pid"
    assert settings["unix_socket_directories"] == "/var/run/postgresql"


def test_postgresql_conf_is_secure_and_preloads_timescaledb(
    timescaledb_config: dict[str, Any],
) -> None:
    settings = conf(spec_of(timescaledb_config))
    assert settings["password_encryption"] == "scram-sha-256"
    assert settings["shared_preload_libraries"] == "timescaledb"
    assert settings["timescaledb.telemetry_level"] == "off"
    assert settings["ssl"] == "off"
    assert settings["allow_alter_system"] == "off"
    assert settings["listen_addresses"] == "localhost"


def test_postgresql_conf_carries_every_tuned_setting(timescaledb_config: dict[str, Any]) -> None:
    spec = spec_of(timescaledb_config)
    settings = conf(spec)
    tuned = spec.tuned_settings()
    assert {name: settings.get(name) for name in tuned} == tuned


def test_override_replaces_the_tuned_line_instead_of_adding_one(
    timescaledb_config: dict[str, Any],
) -> None:
    timescaledb_config["settings"] = {"work_mem": "32MB"}
    spec = spec_of(timescaledb_config)
    text = render_postgresql_conf(spec, debian_layout(spec), "test")
    assert [line for line in text.splitlines() if line.startswith("work_mem")] == [
        "work_mem = 32MB  # set in the spec's settings"
    ]


def test_postgresql_conf_has_no_duplicate_settings(timescaledb_config: dict[str, Any]) -> None:
    spec = spec_of(timescaledb_config)
    names = [
        line.split("=")[0].strip()
        for line in render_postgresql_conf(spec, debian_layout(spec), "test").splitlines()
        if line and not line.startswith("#")
    ]
    assert len(names) == len(set(names))


def test_tls_settings_are_rendered_when_enabled() -> None:
    spec = load_environment("prod").timescaledb
    settings = conf(spec)
    assert settings["ssl"] == "on"
    assert settings["ssl_cert_file"] == "/etc/postgresql/tls/server.crt"
    assert settings["ssl_min_protocol_version"] == "TLSv1.3"


def test_reserved_connections_only_from_postgresql_16(timescaledb_config: dict[str, Any]) -> None:
    timescaledb_config["version"] = 15
    assert "reserved_connections" not in conf(spec_of(timescaledb_config))
    assert "allow_alter_system" not in conf(spec_of(timescaledb_config))


RENDERERS: dict[str, Callable[[TimescaleDb], str]] = {
    "postgresql.conf": lambda spec: render_postgresql_conf(spec, debian_layout(spec), "test"),
    "pg_hba.conf": lambda spec: render_pg_hba_conf(spec, "test"),
}


@pytest.mark.parametrize("render_file", RENDERERS.values(), ids=RENDERERS.keys())
def test_files_open_with_the_managed_header(
    timescaledb_config: dict[str, Any], render_file: Callable[[TimescaleDb], str]
) -> None:
    text = render_file(spec_of(timescaledb_config))
    assert "rendered from templates/timescaledb/" in text.splitlines()[0]
    assert "edits here are overwritten" in text


def test_pg_hba_starts_with_local_postgres_peer(timescaledb_config: dict[str, Any]) -> None:
    assert hba_records(spec_of(timescaledb_config))[0] == ["local", "all", "postgres", "peer"]


def test_pg_hba_rejects_the_owner_before_any_declared_rule(
    timescaledb_config: dict[str, Any],
) -> None:
    # The owner has LOGIN for TimescaleDB's background workers, which skip pg_hba.conf; every
    # connection through this file must be refused before a declared rule (even user 'all').
    timescaledb_config["hba"][0]["user"] = "all"
    assert hba_records(spec_of(timescaledb_config))[1:5] == [
        ["local", "all", "trading_owner", "reject"],
        ["host", "all", "trading_owner", "0.0.0.0/0", "reject"],
        ["host", "all", "trading_owner", "::/0", "reject"],
        ["host", "trading", "all", "10.0.0.0/24", "scram-sha-256"],
    ]


def test_pg_hba_ends_with_explicit_rejects(timescaledb_config: dict[str, Any]) -> None:
    assert hba_records(spec_of(timescaledb_config))[-3:] == [
        ["local", "all", "all", "reject"],
        ["host", "all", "all", "0.0.0.0/0", "reject"],
        ["host", "all", "all", "::/0", "reject"],
    ]


def test_pg_hba_keeps_the_spec_order_with_comments(timescaledb_config: dict[str, Any]) -> None:
    second = dict(timescaledb_config["hba"][0], user="reader", comment="Dashboards read.")
    timescaledb_config["hba"].append(second)
    timescaledb_config["roles"].append(
        {"name": "reader", "password_secret": "READER", "access": "read_only"}
    )
    text = render_pg_hba_conf(spec_of(timescaledb_config), "test")
    app = text.index("# Application servers.\nhost     trading          app")
    reader = text.index("# Dashboards read.\nhost     trading          reader")
    assert app < reader


def test_network_lines_become_hostssl_with_tls() -> None:
    records = hba_records(load_environment("sandbox").timescaledb)
    network = [r for r in records[1:-3] if r[0] != "local" and r[-1] != "reject"]
    assert network
    assert {record[0] for record in network} == {"hostssl"}


@pytest.mark.parametrize("name", ["sandbox", "dev", "prod"])
def test_no_network_line_trusts_or_uses_md5(name: str) -> None:
    records = hba_records(load_environment(name).timescaledb)
    assert [
        record
        for record in records
        if record[0] != "local" and record[-1] not in {"scram-sha-256", "cert", "reject"}
    ] == []


def test_missing_template_value_is_an_error() -> None:
    with pytest.raises(jinja2.UndefinedError):
        render("timescaledb/pg_hba.conf.j2", environment_name="test")


@pytest.mark.parametrize(
    ("value", "rendered"),
    [("4GB", "4GB"), ("0.9", "0.9"), (100, "100"), (True, "on"), ("500ms", "500ms"),
     ("%m [%p] ", "'%m [%p] '"), ("it's", "'it''s'"), ("-1", "-1")],
)  # fmt: skip
def test_postgresql_value_quotes_only_what_needs_it(value: object, rendered: str) -> None:
    assert postgresql_value(value) == rendered


@pytest.mark.parametrize(("value", "word"), [(True, "on"), (False, "off")])
def test_postgresql_boolean_is_the_word_postgresql_shows(value: bool, word: str) -> None:
    assert postgresql_boolean(value) == word


def test_quotes_and_backslashes_in_a_path_stay_inside_its_value(
    timescaledb_config: dict[str, Any],
) -> None:
    timescaledb_config["tls"] = {
        "enabled": True,
        "cert_file": "/etc/postgresql/tls/it's\\here.crt",
        "key_file": "/etc/postgresql/tls/server.key",
    }
    spec = spec_of(timescaledb_config)
    text = render_postgresql_conf(spec, debian_layout(spec), "test")
    assert "ssl_cert_file = '/etc/postgresql/tls/it''s\\\\here.crt'\n" in text
