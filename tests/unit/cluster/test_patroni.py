"""Patroni's configuration: the rendered postgresql.conf and pg_hba.conf stay the home of every
setting, and what Patroni holds cluster-wide is taken from them.

Real-source note: the sandbox cluster's rendered configuration (this module's ``rendered``)
was checked with Debian 13's ``patroni --validate-config`` (patroni 4.0.7) on a droplet,
2026-12-01: its only complaints were that the etcd hosts were not reachable (no etcd was
running there); the same file with ``ttl: 10`` and ``watchdog.mode: bogus`` was refused with
``bootstrap.dcs.ttl 10 didn't pass validation: Wrong value`` and ``watchdog.mode bogus didn't
pass validation: Wrong value``. The deploy runs that validator on every candidate before it
installs it (``deploy/patroni``).
"""

from typing import Any

import pytest
import yaml

from datalayer.cluster.patroni import (
    PATRONI_CMDLINE_SETTINGS,
    cluster_wide_parameters,
    render_patroni_config,
    replication_hba_lines,
)
from datalayer.spec import EnvironmentSpec
from datalayer.timescaledb.changes import parse_settings
from datalayer.timescaledb.config import render_pg_hba_conf, render_postgresql_conf
from datalayer.timescaledb.layout import patroni_layout
from tests.unit.cluster.conftest import MEMBERS, SECRETS


def rendered_postgresql_conf(environment: EnvironmentSpec) -> str:
    spec = environment.timescaledb
    return render_postgresql_conf(spec, patroni_layout(spec), environment.name)


def rendered(environment: EnvironmentSpec) -> str:
    spec = environment.timescaledb
    return render_patroni_config(
        spec, patroni_layout(spec), environment.name, rendered_postgresql_conf(environment),
        MEMBERS[0], [member.private_address for member in MEMBERS], SECRETS,
    )  # fmt: skip


@pytest.fixture(scope="module")
def configuration(environment: EnvironmentSpec) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(rendered(environment))
    return loaded


def test_patroni_includes_the_rendered_postgresql_conf(configuration: dict[str, Any]) -> None:
    postgresql = configuration["postgresql"]
    assert (postgresql["config_dir"], postgresql["custom_conf"]) == (
        "/var/lib/postgresql/17/main", "/etc/postgresql/17/main/postgresql.conf",
    )  # fmt: skip


def test_cluster_wide_settings_come_from_the_rendered_file(
    environment: EnvironmentSpec, configuration: dict[str, Any]
) -> None:
    settings = parse_settings(rendered_postgresql_conf(environment))
    parameters = configuration["bootstrap"]["dcs"]["postgresql"]["parameters"]
    assert {name: str(value) for name, value in parameters.items()} == {
        name: settings[name]
        for name in (
            "max_connections", "max_locks_per_transaction", "max_worker_processes",
            "shared_preload_libraries", "timescaledb.max_background_workers",
        )
    }  # fmt: skip


def test_shared_preload_libraries_is_among_patronis_parameters(
    configuration: dict[str, Any],
) -> None:
    parameters = configuration["bootstrap"]["dcs"]["postgresql"]["parameters"]
    assert parameters["shared_preload_libraries"] == "timescaledb"


def test_integers_reach_patroni_as_integers() -> None:
    # Patroni's validator checks bootstrap.dcs.postgresql.parameters.max_connections with
    # IntValidator (patroni/validator.py:1050, v4.0.7).
    assert cluster_wide_parameters("max_connections = 50\nwal_level = 'logical'\n") == {
        "max_connections": 50, "wal_level": "logical",
    }  # fmt: skip


def test_local_parameters_hold_no_setting_patroni_drops(configuration: dict[str, Any]) -> None:
    # patroni/config.py:374-418 (v4.0.7): CMDLINE_OPTIONS in local parameters are discarded.
    local = configuration["postgresql"]["parameters"]
    assert set(local) & set(PATRONI_CMDLINE_SETTINGS) == set()


def test_patroni_leaves_the_rendered_pg_hba_conf_alone(configuration: dict[str, Any]) -> None:
    # replace_pg_hba/append_pg_hba write only when hba_file is unset or config_dir's own
    # pg_hba.conf (patroni/postgresql/config.py:577-610, 1406-1408, v4.0.7); the rendered file
    # is elsewhere, the only source of rules.
    postgresql = configuration["postgresql"]
    assert (
        postgresql["parameters"]["hba_file"],
        postgresql["parameters"]["hba_file"].startswith(postgresql["config_dir"]),
        "pg_hba" in postgresql,
    ) == ("/etc/postgresql/17/main/pg_hba.conf", False, False)


def test_superuser_has_no_password_and_uses_the_socket(configuration: dict[str, Any]) -> None:
    postgresql = configuration["postgresql"]
    assert (postgresql["authentication"]["superuser"], postgresql["use_unix_socket"]) == (
        {"username": "postgres"}, True,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("ttl", 20),
        ("loop_wait", 5),
        ("retry_timeout", 5),
        ("primary_start_timeout", 15),
        ("maximum_lag_on_failover", 1048576),
        ("synchronous_mode", True),
        ("synchronous_mode_strict", False),
    ],
)
def test_dcs_configuration_follows_the_spec(
    configuration: dict[str, Any], key: str, expected: object
) -> None:
    assert configuration["bootstrap"]["dcs"][key] == expected


def test_watchdog_mode_is_the_specs(configuration: dict[str, Any]) -> None:
    assert configuration["watchdog"]["mode"] == "off"


def test_members_reach_each_other_at_their_private_addresses(
    configuration: dict[str, Any],
) -> None:
    assert (
        configuration["postgresql"]["connect_address"],
        configuration["restapi"]["connect_address"],
        configuration["etcd3"]["hosts"],
    ) == (
        "172.30.57.11:5432", "172.30.57.11:8008",
        ["172.30.57.11:2379", "172.30.57.12:2379", "172.30.57.13:2379"],
    )  # fmt: skip


def test_file_opens_with_the_managed_file_lines(environment: EnvironmentSpec) -> None:
    assert rendered(environment).startswith(
        "# /etc/patroni/17-main.yml: built by datalayer/cluster/patroni.py for environment "
        "'sandbox-cluster', member patroni-1.\n# Managed by datalayer:"
    )


def test_replication_lines_admit_the_members_only(environment: EnvironmentSpec) -> None:
    spec = environment.timescaledb
    assert spec.cluster is not None
    lines = render_pg_hba_conf(
        spec, environment.name, replication_hba_lines(spec.cluster, MEMBERS, tls=True)
    ).splitlines()
    assert [line.split() for line in lines if " replicator " in line or " rewinder " in line] == [
        ["local", "replication", "replicator", "scram-sha-256"],
        *(
            ["hostssl", database, role, f"172.30.57.{address}/32", "scram-sha-256"]
            for database, role in (("replication", "replicator"), ("postgres", "rewinder"))
            for address in (11, 12, 13)
        ),
    ]


def test_replication_lines_come_before_the_declared_rules(environment: EnvironmentSpec) -> None:
    spec = environment.timescaledb
    assert spec.cluster is not None
    text = render_pg_hba_conf(
        spec, environment.name, replication_hba_lines(spec.cluster, MEMBERS, tls=True)
    )
    assert text.index(" replicator ") < text.index("trading          app ")


def test_new_replicas_are_restored_from_the_repository_before_a_base_backup(
    configuration: dict[str, Any],
) -> None:
    # Patroni tries create_replica_methods in order, the first to exit 0 wins
    # (patroni/postgresql/bootstrap.py:269-319, v4.0.7); its own pgbackrest example is
    # docs/replica_bootstrap.rst:130-143.
    postgresql = configuration["postgresql"]
    assert (postgresql["create_replica_methods"], postgresql["pgbackrest"]) == (
        ["pgbackrest", "basebackup"],
        {
            "command": "pgbackrest --stanza=main --delta --type=standby restore",
            "keep_data": True,
            "no_params": True,
        },
    )


def test_replicas_replay_what_the_leader_no_longer_holds_from_the_repository(
    configuration: dict[str, Any],
) -> None:
    # Patroni writes restore_command from recovery_conf (patroni/postgresql/config.py:689-719,
    # v4.0.7), and drops the one pgbackrest restore writes to postgresql.auto.conf (:1020-1045).
    assert configuration["postgresql"]["recovery_conf"] == {
        "restore_command": 'pgbackrest --stanza=main archive-get %f "%p"'
    }
