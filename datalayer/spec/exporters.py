"""The exporters that expose each host's metrics to Prometheus, and who they connect as."""

from typing import TYPE_CHECKING

from pydantic import Field
from pydantic_core import InitErrorDetails

from datalayer.spec.base import SpecModel, refused
from datalayer.spec.types import Port, RoleName, SecretName, StrictInt

if TYPE_CHECKING:
    from datalayer.spec.environment import EnvironmentSpec


class Exporters(SpecModel):
    """Debian's exporters, each bound to its host's private address (the inventory's
    ``private_address``), each connecting as a least-privilege identity with its own secret."""

    node_port: Port = 9100
    """prometheus-node-exporter's port, on every host."""
    postgres_port: Port = 9187
    """prometheus-postgres-exporter's port, on every TimescaleDB host."""
    redis_port: Port = 9121
    """prometheus-redis-exporter's port, on every Redis host."""
    postgres_role: RoleName = "monitor"
    """PostgreSQL role the exporter connects as: LOGIN and ``pg_monitor`` only."""
    postgres_password_secret: SecretName = "DATALAYER_MONITOR_PASSWORD"
    """Secret holding that role's password."""
    postgres_connection_limit: StrictInt = Field(default=5, ge=1, le=100)
    """CONNECTION LIMIT of that role: the exporter's collectors share a few connections, and a
    runaway exporter must not take the slots the application needs."""
    redis_password_secret: SecretName = "DATALAYER_REDIS_MONITOR_PASSWORD"
    """Secret holding the password of the Redis ACL user the exporter connects as, which may
    run only the reads the exporter needs."""


EXPORTER_PORTS = ("node_port", "postgres_port", "redis_port")
"""The exporters' port fields, in the order their conflicts are reported."""


def exporter_problems(environment: "EnvironmentSpec") -> list[InitErrorDetails]:
    """The exporters against the services they share hosts with: a port a service or another
    exporter already listens on (a host in two groups runs both), or a monitoring role that is
    already one of the database's roles (the hooks would give one role two sets of rights)."""
    if environment.monitoring is None:
        return []
    exporters = environment.monitoring.exporters
    taken = _service_ports(environment)
    problems = []
    for name in EXPORTER_PORTS:
        port = getattr(exporters, name)
        if port in taken:
            problems.append(
                refused(
                    ("monitoring", "exporters", name),
                    port,
                    f"is already {taken[port]}: each exporter needs a port of its own",
                )
            )
        taken.setdefault(port, f"monitoring.exporters.{name}")
    roles = _database_roles(environment)
    if exporters.postgres_role in roles:
        problems.append(
            refused(
                ("monitoring", "exporters", "postgres_role"),
                exporters.postgres_role,
                f"is already {roles[exporters.postgres_role]}: the exporter needs a role of its "
                "own, with pg_monitor only",
            )
        )
    return problems


def _service_ports(environment: "EnvironmentSpec") -> dict[int, str]:
    """Every port a service of the environment listens on, with the key that declares it."""
    timescaledb = environment.timescaledb
    ports = {"timescaledb.port": timescaledb.port}
    if timescaledb.cluster is not None:
        cluster = timescaledb.cluster
        ports |= {
            "timescaledb.cluster.read_write_port": cluster.read_write_port,
            "timescaledb.cluster.read_only_port": cluster.read_only_port,
            "timescaledb.cluster.rest_api_port": cluster.rest_api_port,
            "timescaledb.cluster.etcd.client_port": cluster.etcd.client_port,
            "timescaledb.cluster.etcd.peer_port": cluster.etcd.peer_port,
        }
    if environment.redis is not None:
        ports["redis.port"] = environment.redis.port
        if environment.redis.sentinel is not None:
            ports["redis.sentinel.port"] = environment.redis.sentinel.port
    if environment.influxdb is not None:
        ports["influxdb.http_port"] = environment.influxdb.http_port
    assert environment.monitoring is not None
    ports["monitoring.prometheus.port"] = environment.monitoring.prometheus.port
    return {port: key for key, port in reversed(ports.items())}


def _database_roles(environment: "EnvironmentSpec") -> dict[str, str]:
    """Every role the deploy or the hooks manage, with the key that names it."""
    timescaledb = environment.timescaledb
    roles = {"timescaledb.owner": timescaledb.owner}
    for index, role in enumerate(timescaledb.roles):
        roles[f"timescaledb.roles.{index}.name"] = role.name
    if timescaledb.cluster is not None:
        roles["timescaledb.cluster.replication_role"] = timescaledb.cluster.replication_role
        roles["timescaledb.cluster.rewind_role"] = timescaledb.cluster.rewind_role
    return {role: key for key, role in roles.items()}
