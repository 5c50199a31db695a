"""Render postgresql.conf and pg_hba.conf for one environment.

Both files are rendered whole from ``templates/timescaledb/``: the deploy and the Pulumi
containers install exactly these bytes and never edit a line in place.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from datalayer.render import render
from datalayer.spec.timescaledb import TimescaleDb
from datalayer.timescaledb.backup.layout import archive_command
from datalayer.timescaledb.layout import PostgresqlLayout

SHARED_PRELOAD_LIBRARIES = ("timescaledb",)


@dataclass(frozen=True)
class HbaLine:
    """One rendered pg_hba.conf record, the shape autobase uses: type, database, user, address,
    method, with the comment written above it."""

    type: str
    database: str
    user: str
    address: str
    method: str
    comment: str


def hba_lines(
    spec: TimescaleDb,
    cluster_lines: Sequence[HbaLine] = (),
    monitoring_lines: Sequence[HbaLine] = (),
) -> list[HbaLine]:
    """The spec's rules between the fixed first lines and the explicit final rejects.

    ``cluster_lines``, a cluster's replication and rewind lines
    (``datalayer.cluster.patroni.replication_hba_lines``), and ``monitoring_lines``, the
    exporter role's (``datalayer.monitoring.exporters.postgres_hba_lines``), come before the
    declared rules, so that no declared rule decides for those roles' connections.

    The owner role has LOGIN only so that TimescaleDB's background workers can run its policy
    jobs (they do not pass through this file); it is rejected on every line type before any
    declared rule can admit it, so nobody logs in as it.
    """
    first = HbaLine(
        "local", "all", "postgres", "", "peer",
        "Superuser postgres only over the Unix socket, as the postgres OS user (deploys, hooks).",
    )  # fmt: skip
    owner = f"The owner {spec.owner} logs in only as TimescaleDB's policy jobs, never from here."
    owner_rejects = [
        HbaLine("local", "all", spec.owner, "", "reject", owner),
        HbaLine("host", "all", spec.owner, "0.0.0.0/0", "reject", owner),
        HbaLine("host", "all", spec.owner, "::/0", "reject", owner),
    ]
    declared = [
        HbaLine(
            type="hostssl" if rule.type == "host" and spec.tls.enabled else rule.type,
            database=rule.database,
            user=rule.user,
            address="" if rule.address is None else str(rule.address),
            method=rule.method,
            comment=rule.comment,
        )
        for rule in spec.hba
    ]
    final = [
        HbaLine("local", "all", "all", "", "reject", "Nothing else over the Unix socket."),
        HbaLine("host", "all", "all", "0.0.0.0/0", "reject", "Nothing else over IPv4."),
        HbaLine("host", "all", "all", "::/0", "reject", "Nothing else over IPv6."),
    ]
    return [first, *owner_rejects, *cluster_lines, *monitoring_lines, *declared, *final]


def render_postgresql_conf(
    spec: TimescaleDb, layout: PostgresqlLayout, environment_name: str
) -> str:
    """The complete postgresql.conf for ``spec`` in ``layout``."""
    return render(
        "timescaledb/postgresql.conf.j2",
        environment_name=environment_name,
        spec=spec,
        layout=layout,
        shared_preload_libraries=SHARED_PRELOAD_LIBRARIES,
        tuned=spec.tuned_settings(),
        archive_command=archive_command(spec.backup, layout.wal_archive_directory),
    )


def render_pg_hba_conf(
    spec: TimescaleDb,
    environment_name: str,
    cluster_lines: Sequence[HbaLine] = (),
    monitoring_lines: Sequence[HbaLine] = (),
) -> str:
    """The complete pg_hba.conf for ``spec`` (with a cluster's ``cluster_lines`` and the
    exporter's ``monitoring_lines``)."""
    return render(
        "timescaledb/pg_hba.conf.j2",
        environment_name=environment_name,
        lines=hba_lines(spec, cluster_lines, monitoring_lines),
    )
