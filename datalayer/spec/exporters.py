"""The exporters that expose each host's metrics to Prometheus, and who they connect as."""

from datalayer.spec.base import SpecModel
from datalayer.spec.types import Port, RoleName, SecretName


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
    redis_password_secret: SecretName = "DATALAYER_REDIS_MONITOR_PASSWORD"
    """Secret holding the password of the Redis ACL user the exporter connects as, which may
    run only the reads the exporter needs."""
