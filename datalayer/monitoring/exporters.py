"""Debian's Prometheus exporters on the service hosts: where they listen, what they connect as.

Every host of the inventory runs prometheus-node-exporter, every TimescaleDB host
prometheus-postgres-exporter, every Redis host prometheus-redis-exporter (Debian 13: 1.9.0,
0.17.1 and 1.69.0, ``apt-cache policy`` on a sandbox droplet). Each is configured through the
EnvironmentFile its packaged unit reads (``/etc/default/<package>``, ``ExecStart=... $ARGS``),
rendered whole from ``templates/exporters/``, and listens on the host's private address only.

The PostgreSQL exporter logs in over the local socket as ``monitoring.exporters.postgres_role``
(LOGIN, ``pg_monitor`` only: the hooks make it, ``datalayer.onhost.hooks.roles``); the Redis
exporter as the ACL user ``monitor`` (``datalayer.redis.config.MONITOR_COMMANDS``: only the
commands it sends).
Their passwords sit in their EnvironmentFile, mode 0600 root (systemd reads it before it drops
to the ``prometheus`` user), never on a command line.

A limit to know: redis_exporter always serves ``/scrape?target=`` (exporter/exporter.go:511 at
v1.69.0), which logs in to whatever target it is given with the monitoring user's password
(http.go:60-69). Whoever reaches a Redis host's private address at ``redis_port`` can have that
password sent to a server of their choosing; it grants the reads listed above and nothing
else. The private network must stay closed to others; basic auth on the exporters
(``REDIS_EXPORTER_BASIC_AUTH_*``, and Prometheus's ``basic_auth``) is not configured here.

Metric names the alert rules can rely on, read from the exporters' source at Debian's tags:

- postgres_exporter v0.17.1: ``pg_up`` (cmd/postgres_exporter/postgres_exporter.go:551);
  ``pg_stat_archiver_archived_count``, ``pg_stat_archiver_failed_count`` (counters) and
  ``pg_stat_archiver_last_archive_age`` (seconds since the last archived WAL; the timestamp
  itself is discarded) (postgres_exporter.go:235-245, query in queries.go:97-106);
  ``pg_stat_activity_count`` and ``pg_stat_activity_max_tx_duration`` by ``datname``,
  ``state``, ``usename``, ``application_name``, ``backend_type``, ``wait_event_type``,
  ``wait_event`` (postgres_exporter.go:247-259); ``pg_settings_max_connections`` and every
  other numeric setting as ``pg_settings_<name>`` (pg_setting.go:40, 70);
  ``pg_stat_replication_pg_wal_lsn_diff`` (bytes of replay lag, on the primary, by
  ``application_name``, ``client_addr``, ``state``, ``slot_name``) and
  ``pg_stat_replication_pg_current_wal_lsn_bytes`` (postgres_exporter.go:178-224, queries.go:
  48-58); ``pg_replication_lag_seconds``, ``pg_replication_is_replica`` and
  ``pg_replication_last_replay_seconds`` (collector/pg_replication.go:37-74).
- redis_exporter v1.69.0: ``redis_up`` (exporter/exporter.go:481, 553),
  ``redis_memory_used_bytes``, ``redis_memory_max_bytes`` (from INFO's ``maxmemory``, so
  without CONFIG GET; exporter.go:161, 177), ``redis_rejected_connections_total`` (313),
  ``redis_connected_clients`` (133), ``redis_connected_slaves`` (253), ``redis_master_link_up``
  (info.go:309), ``redis_instance_info`` with its ``role`` label (exporter.go:428); scraping a
  Sentinel (:func:`sentinel_target`), ``redis_sentinel_masters``, ``redis_sentinel_master_status``
  (1 when ``ok``, by ``master_name``, ``master_address``, ``master_status``),
  ``redis_sentinel_master_ok_slaves``, ``redis_sentinel_master_ok_sentinels`` and
  ``redis_sentinel_master_ckquorum_status`` (exporter.go:446-453, sentinels.go:16-147).
- node_exporter 1.9.0: ``node_filesystem_avail_bytes`` and the textfile collector's files in
  :data:`TEXTFILE_DIRECTORY` (the restore drill's
  ``datalayer_restore_drill_last_success_timestamp_seconds``).
- InfluxDB v2.7.12 serves its own ``/metrics`` on its HTTP API (``metrics-disabled`` false,
  cmd/influxd/launcher/cmd.go:235, 660; launcher.go:933): the target is the host's
  ``influxdb.http_port``, no exporter runs for it.
"""

import ipaddress
from dataclasses import dataclass

from pydantic import SecretStr

from datalayer.redis.passwords import MONITOR_USER
from datalayer.render import render
from datalayer.spec import EnvironmentSpec
from datalayer.spec.exporters import Exporters
from datalayer.spec.redis import Redis
from datalayer.spec.timescaledb import TimescaleDb
from datalayer.timescaledb.config import HbaLine

TEXTFILE_DIRECTORY = "/var/lib/prometheus/node-exporter"
"""node-exporter's textfile collector directory, Debian's default (the package creates it):
every ``*.prom`` file there is exported, the restore drill's metric among them."""


@dataclass(frozen=True)
class Exporter:
    """One Debian exporter package: its unit and the EnvironmentFile that unit reads."""

    package: str
    template: str

    @property
    def service(self) -> str:
        return f"{self.package}.service"

    @property
    def environment_file(self) -> str:
        return f"/etc/default/{self.package}"


NODE = Exporter("prometheus-node-exporter", "exporters/prometheus-node-exporter.j2")
POSTGRES = Exporter("prometheus-postgres-exporter", "exporters/prometheus-postgres-exporter.j2")
REDIS = Exporter("prometheus-redis-exporter", "exporters/prometheus-redis-exporter.j2")


@dataclass(frozen=True)
class RenderedExporter:
    """An exporter with its EnvironmentFile's content and mode (0600 when it holds a password)."""

    exporter: Exporter
    content: str
    mode: int


def listen_address(private_address: str, port: int) -> str:
    """``ADDRESS:PORT`` as Go's net.Listen takes it (an IPv6 address in brackets)."""
    address = ipaddress.ip_address(private_address)
    return f"[{address}]:{port}" if address.version == 6 else f"{address}:{port}"


def environment_value(value: str) -> str:
    """A double-quoted value of a systemd EnvironmentFile: systemd reads a backslash there as
    escaping the next of ``"``, ``\\``, ``` ` ``` and ``$`` (systemd.exec(5), EnvironmentFile=;
    src/basic/env-file.c, SHELL_NEED_ESCAPE), so those four are escaped; a line break is
    refused (secrets are one line of printable ASCII, ``datalayer.secrets``)."""
    if any(ord(character) < 0x20 or ord(character) == 0x7F for character in value):
        raise ValueError("an EnvironmentFile value cannot hold a control character")
    escaped = "".join(f"\\{c}" if c in '"\\`$' else c for c in value)
    return f'"{escaped}"'


def render_node_exporter(
    environment_name: str, exporters: Exporters, private_address: str
) -> RenderedExporter:
    """node-exporter's EnvironmentFile: on the private address, the textfile directory kept."""
    arguments = (
        f"--web.listen-address={listen_address(private_address, exporters.node_port)} "
        f"--collector.textfile.directory={TEXTFILE_DIRECTORY}"
    )
    return RenderedExporter(
        NODE,
        render(NODE.template, environment_name=environment_name, arguments=arguments),
        0o644,
    )


def render_postgres_exporter(
    environment_name: str,
    exporters: Exporters,
    timescaledb: TimescaleDb,
    socket_directory: str,
    private_address: str,
    password: SecretStr,
) -> RenderedExporter:
    """postgres_exporter's EnvironmentFile: the monitoring role over the local socket.

    DATA_SOURCE_USER, _PASS and _URI rather than DATA_SOURCE_NAME: the exporter escapes the
    password into the URL itself (``url.UserPassword``, cmd/postgres_exporter/datasource.go:
    121-167 at v0.17.1). The URL names no host, so that lib/pq (v1.10.9, the exporter's) takes
    the socket directory from the ``host`` parameter: it turns the URL's host and every query
    parameter into ``key='value'`` pairs, skipping empty ones, then sorts them (url.go:44-78),
    so ``localhost`` would sort after ``/var/run/...`` and win, a TCP login pg_hba.conf rejects.
    """
    uri = f":{timescaledb.port}/postgres?host={socket_directory}&sslmode=disable"
    listen = listen_address(private_address, exporters.postgres_port)
    return RenderedExporter(
        POSTGRES,
        render(
            POSTGRES.template,
            environment_name=environment_name,
            arguments=f"--web.listen-address={listen}",
            user=environment_value(exporters.postgres_role),
            password=environment_value(password.get_secret_value()),
            uri=environment_value(uri),
        ),
        0o600,
    )


def redis_address(redis: Redis) -> str:
    """Where the exporter reaches Redis on its own host: loopback when Redis binds a wildcard or
    loopback address, else the first address it binds (the Unix socket is the redis user's
    alone, ``unixsocketperm 700``)."""
    return _on_this_host(redis, redis.port)


def sentinel_target(redis: Redis) -> str | None:
    """The ``target`` of the Redis exporter's ``/scrape`` endpoint that reaches this host's
    Sentinel (on Redis's addresses, ``redis.sentinel.port``), for Prometheus to scrape as a
    target of its own: the exporter logs in there as the same user (exporter/http.go:60-69 at
    v1.69.0), which Sentinel's users.acl knows (``datalayer.redis.sentinel``). None without
    Sentinel."""
    if redis.sentinel is None:
        return None
    return _on_this_host(redis, redis.sentinel.port)


def _on_this_host(redis: Redis, port: int) -> str:
    for bound in redis.bind:
        address = ipaddress.ip_address(bound)
        if address.is_unspecified or address.is_loopback:
            loopback = "[::1]" if address.version == 6 else "127.0.0.1"
            return f"redis://{loopback}:{port}"
    first = ipaddress.ip_address(redis.bind[0])
    host = f"[{first}]" if first.version == 6 else str(first)
    return f"redis://{host}:{port}"


def render_redis_exporter(
    environment_name: str,
    exporters: Exporters,
    redis: Redis,
    private_address: str,
    password: SecretStr,
) -> RenderedExporter:
    """redis_exporter's EnvironmentFile: it reads every option from the environment
    (main.go:60-104 at v1.69.0), the monitoring user's password among them."""
    return RenderedExporter(
        REDIS,
        render(
            REDIS.template,
            environment_name=environment_name,
            address=environment_value(redis_address(redis)),
            user=environment_value(MONITOR_USER),
            password=environment_value(password.get_secret_value()),
            listen=environment_value(listen_address(private_address, exporters.redis_port)),
        ),
        0o600,
    )


def postgres_hba_lines(environment: EnvironmentSpec) -> list[HbaLine]:
    """The monitoring role's pg_hba.conf records: its password over the local socket, to the
    ``postgres`` database only, and refused over TCP whatever a declared rule says."""
    if environment.monitoring is None:
        return []
    role = environment.monitoring.exporters.postgres_role
    comment = f"The exporter's role {role} logs in over the local socket only."
    return [
        HbaLine("local", "postgres", role, "", "scram-sha-256", comment),
        HbaLine("local", "all", role, "", "reject", comment),
        HbaLine("host", "all", role, "0.0.0.0/0", "reject", comment),
        HbaLine("host", "all", role, "::/0", "reject", comment),
    ]
