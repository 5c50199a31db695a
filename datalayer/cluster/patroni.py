"""Patroni's configuration for one member, built from the spec and the rendered postgresql.conf.

The rendered postgresql.conf (``render_postgresql_conf``) stays the one home of every setting:
Patroni includes it whole (``postgresql.custom_conf``) from the postgresql.conf it writes
itself, and what Patroni must hold cluster-wide is taken from it into the DCS bootstrap
configuration, never written a second time by hand:

- Patroni passes its ``CMDLINE_OPTIONS`` on the postmaster's command line, from the DCS only;
  the same settings in local configuration are dropped (``patroni/postgresql/config.py:355-371``
  and ``patroni/config.py:374-418``, ``_process_postgresql_parameters``, at v4.0.7). A replica
  must run them at least as high as its primary (max_connections, max_worker_processes, ...),
  so they are the cluster's, not a member's. ``listen_addresses``, ``port`` and
  ``cluster_name`` are never taken from parameters (``postgresql.listen`` and ``scope`` say
  them); ``hot_standby`` is always on.
- ``shared_preload_libraries`` and TimescaleDB's background worker count are cluster-wide too:
  a member restarted by Patroni must load timescaledb, and a replica promoted must run as many
  policy jobs as the leader did.

Patroni's own postgresql.conf goes in the data directory (``config_dir``, Patroni's default),
apart from the rendered files in /etc/postgresql/V/C: pg_hba.conf and pg_ident.conf stay the
rendered ones, named by ``hba_file`` and ``ident_file`` among Patroni's local parameters.
Patroni leaves such a file alone only when it is not ``config_dir``'s own (its ``hba_file``
property is None for ``config_dir/pg_hba.conf``, ``patroni/postgresql/config.py:1405-1408``
at v4.0.7), and otherwise appends to it when it bootstraps (``append_pg_hba``, :577-582;
``bootstrap.py:396``): with both in /etc/postgresql/V/C, the leader's first start changed
the rendered pg_hba.conf (seen on the sandbox).
"""

from collections.abc import Sequence
from typing import Any

import yaml

from datalayer.cluster.members import ClusterSecrets
from datalayer.cluster.timings import timings
from datalayer.etcd.authentication import PATRONI_USER
from datalayer.etcd.topology import ClusterHost
from datalayer.spec.backup import Backup
from datalayer.spec.cluster import Cluster
from datalayer.spec.timescaledb import TimescaleDb
from datalayer.timescaledb.backup.layout import restore_command, restore_from_repository_command
from datalayer.timescaledb.changes import parse_settings
from datalayer.timescaledb.config import HbaLine
from datalayer.timescaledb.layout import PostgresqlLayout

PATRONI_CMDLINE_SETTINGS = (
    "wal_level", "max_connections", "max_wal_senders", "wal_keep_segments", "wal_keep_size",
    "max_prepared_transactions", "max_locks_per_transaction", "track_commit_timestamp",
    "max_replication_slots", "max_worker_processes", "wal_log_hints",
)  # fmt: skip
"""Patroni's ``CMDLINE_OPTIONS`` that the DCS may set (``patroni/postgresql/config.py:355-371``
at v4.0.7, all but listen_addresses, port, cluster_name and hot_standby)."""

CLUSTER_WIDE_SETTINGS = (
    *PATRONI_CMDLINE_SETTINGS,
    "shared_preload_libraries",
    "timescaledb.max_background_workers",
)
"""Settings every member runs with the same value: Patroni's DCS ``postgresql.parameters``."""

REPLICA_METHODS = ("pgbackrest", "basebackup")
"""Patroni's ``create_replica_methods``, in the order it tries them (:func:`replica_creation`)."""

REST_API_USER = "patroni"
"""The user name of the REST API's changing endpoints (the password is the spec's secret)."""
WATCHDOG_DEVICE = "/dev/watchdog"
WATCHDOG_SAFETY_MARGIN = 5
"""Seconds between the watchdog's firing and the leader key's expiry (Patroni's default)."""


def patroni_config_path(layout: PostgresqlLayout) -> str:
    """Where Debian's ``patroni@V-C`` unit reads its configuration: ``/etc/patroni/V-C.yml``."""
    return f"/etc/patroni/{layout.version}-{layout.cluster}.yml"


def cluster_wide_parameters(postgresql_conf: str) -> dict[str, Any]:
    """The settings of the rendered ``postgresql_conf`` that Patroni holds in the DCS, integers
    as integers (Patroni's validator takes ``max_connections: 50``, not ``'50'``)."""
    settings = parse_settings(postgresql_conf)
    return {
        name: int(settings[name]) if settings[name].isdigit() else settings[name]
        for name in CLUSTER_WIDE_SETTINGS
        if name in settings
    }


def dynamic_configuration(cluster: Cluster, postgresql_conf: str) -> dict[str, Any]:
    """Patroni's DCS configuration: written to etcd by the member that bootstraps the cluster
    (``bootstrap.dcs``) and brought back to it on every deploy (``patronictl edit-config``)."""
    timing = timings(cluster.recovery_time_target)
    return {
        "ttl": timing.ttl,
        "loop_wait": timing.loop_wait,
        "retry_timeout": timing.retry_timeout,
        "primary_start_timeout": timing.primary_start_timeout,
        "maximum_lag_on_failover": cluster.maximum_lag_on_failover,
        "synchronous_mode": cluster.synchronous_mode,
        "synchronous_mode_strict": cluster.synchronous_mode_strict,
        "postgresql": {
            # A failed leader rejoins by pg_rewind, re-cloned only if that fails.
            "use_pg_rewind": True,
            "remove_data_directory_on_rewind_failure": True,
            # Slots keep on the leader the WAL a replica still needs.
            "use_slots": True,
            "parameters": cluster_wide_parameters(postgresql_conf),
        },
    }


def replication_hba_lines(
    cluster: Cluster, members: Sequence[ClusterHost], tls: bool
) -> list[HbaLine]:
    """pg_hba.conf's lines for the replicas' WAL streams and the rejoining leader's pg_rewind:
    from each member's private address only, with SCRAM, over TLS when the server has it; and
    Patroni's own replication connection to its server over the socket, with which a replica's
    Patroni reads its timeline (``local_replication_address`` with ``use_unix_socket_repl``,
    ``patroni/postgresql/config.py:1118-1155`` at v4.0.7)."""
    host_type = "hostssl" if tls else "host"
    return [
        HbaLine(
            "local", "replication", cluster.replication_role, "", "scram-sha-256",
            "Patroni reads its own server's timeline over the socket.",
        ),
        *(
            HbaLine(
                host_type, "replication", cluster.replication_role, f"{member.private_address}/32",
                "scram-sha-256", f"Member {member.name} streams WAL as a replica.",
            )
            for member in members
        ),
        *(
            HbaLine(
                host_type, "postgres", cluster.rewind_role, f"{member.private_address}/32",
                "scram-sha-256", f"Member {member.name} rewinds itself from the leader.",
            )
            for member in members
        ),
    ]  # fmt: skip


def replica_creation(backup: Backup) -> dict[str, Any]:
    """How a new or wiped member gets its data: restored from the shared pgBackRest
    repository first, cloned from the leader (``pg_basebackup``) when that fails, as it does
    before the repository holds a backup (the first deploy). Patroni tries the methods in
    order and stops at the first that exits 0; after a failed custom method it empties the
    data directory for the next (``create_replica``, ``patroni/postgresql/bootstrap.py:237-326``
    at v4.0.7). The restore runs as Patroni's own ``pgbackrest`` example does
    (``docs/replica_bootstrap.rst:130-143``): ``keep_data``, so that ``--delta`` reuses what a
    data directory still holds, and ``no_params``, since pgBackRest takes no ``--scope`` or
    ``--connstring``.

    The restored member then replays from the repository what its backup needs and the
    leader may no longer hold (``recovery_conf.restore_command``: Patroni removes the one
    ``pgbackrest restore`` writes into postgresql.auto.conf, ``_sanitize_auto_conf``,
    ``patroni/postgresql/config.py:1020-1045``, and writes its own recovery parameters from
    ``recovery_conf``, :689-719), and streams once it has caught up. The same command lets
    pg_rewind fetch a rejoining leader's own WAL that its pg_wal no longer holds
    (``--restore-target-wal``, ``patroni/postgresql/rewind.py:440-455``)."""
    return {
        "create_replica_methods": list(REPLICA_METHODS),
        "pgbackrest": {
            "command": restore_from_repository_command(backup),
            "keep_data": True,
            "no_params": True,
        },
        "basebackup": [{"checkpoint": "fast"}],
        "recovery_conf": {"restore_command": restore_command(backup)},
    }


def member_configuration(
    spec: TimescaleDb,
    layout: PostgresqlLayout,
    postgresql_conf: str,
    member: ClusterHost,
    etcd_addresses: Sequence[str],
    secrets: ClusterSecrets,
) -> dict[str, Any]:
    """Patroni's configuration for ``member`` as data (see :func:`render_patroni_config`)."""
    cluster = spec.cluster
    assert cluster is not None, "a member's configuration needs timescaledb.cluster"
    listen = ",".join(spec.listen_addresses)
    bin_directory = f"/usr/lib/postgresql/{layout.version}/bin"
    return {
        "scope": cluster.scope,
        "name": member.name,
        "restapi": {
            "listen": f"{member.private_address}:{cluster.rest_api_port}",
            "connect_address": f"{member.private_address}:{cluster.rest_api_port}",
            "authentication": {
                "username": REST_API_USER,
                "password": secrets.rest_api.get_secret_value(),
            },
        },
        "etcd3": {
            "hosts": [f"{address}:{cluster.etcd.client_port}" for address in etcd_addresses],
            "protocol": "http",
            "username": PATRONI_USER,
            "password": secrets.etcd.get_secret_value(),
        },
        "bootstrap": {
            "dcs": dynamic_configuration(cluster, postgresql_conf),
            "initdb": [{"encoding": "UTF8"}, "data-checksums"],
        },
        "postgresql": {
            "listen": f"{listen}:{spec.port}",
            "connect_address": f"{member.private_address}:{spec.port}",
            "data_dir": layout.data_directory,
            "config_dir": layout.data_directory,
            "custom_conf": layout.postgresql_conf,
            "bin_dir": bin_directory,
            "pgpass": f"/var/lib/postgresql/{layout.version}-{layout.cluster}.pgpass",
            # Patroni connects to its own server as postgres over the socket (peer), the only
            # way pg_hba.conf lets the superuser in; it has no password.
            "use_unix_socket": True,
            "use_unix_socket_repl": True,
            "authentication": {
                "superuser": {"username": "postgres"},
                "replication": {
                    "username": cluster.replication_role,
                    "password": secrets.replication.get_secret_value(),
                },
                "rewind": {
                    "username": cluster.rewind_role,
                    "password": secrets.rewind.get_secret_value(),
                },
            },
            "parameters": {
                "hba_file": layout.pg_hba_conf,
                "ident_file": layout.pg_ident_conf,
                "unix_socket_directories": layout.socket_directory,
            },
            **replica_creation(spec.backup),
        },
        "watchdog": {
            "mode": str(cluster.watchdog),
            "device": WATCHDOG_DEVICE,
            "safety_margin": WATCHDOG_SAFETY_MARGIN,
        },
    }


def render_patroni_config(
    spec: TimescaleDb,
    layout: PostgresqlLayout,
    environment_name: str,
    postgresql_conf: str,
    member: ClusterHost,
    etcd_addresses: Sequence[str],
    secrets: ClusterSecrets,
) -> str:
    """The whole ``/etc/patroni/V-C.yml`` of ``member``: YAML dumped from data (no template,
    so that no value needs quoting by hand), headed by the managed-file lines. It holds
    passwords: the deploy installs it readable by postgres only."""
    configuration = member_configuration(
        spec, layout, postgresql_conf, member, etcd_addresses, secrets
    )
    header = (
        f"# {patroni_config_path(layout)}: built by datalayer/cluster/patroni.py for environment "
        f"'{environment_name}', member {member.name}.\n"
        "# Managed by datalayer: edits here are overwritten on the next deploy. Change the "
        f"environment's\n# Pulumi.{environment_name}.yaml instead.\n"
    )
    return header + yaml.safe_dump(configuration, sort_keys=False, default_flow_style=False)
