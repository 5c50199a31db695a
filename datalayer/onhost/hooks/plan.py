"""What the hooks converge a database to: plain data, JSON both ways, no secrets.

Built from the spec on the control machine (``datalayer.hooks.build``) and read wherever the
steps run, a droplet included, so it uses only the standard library.
"""

from dataclasses import dataclass

from datalayer.onhost.step import JsonPlan

READ_WRITE = "read_write"
READ_ONLY = "read_only"


@dataclass(frozen=True)
class LoginRolePlan:
    """A login role, its access level and its settings in the application database."""

    name: str
    access: str  # READ_WRITE or READ_ONLY
    connection_limit: int
    settings: dict[str, str]


@dataclass(frozen=True)
class MonitorRolePlan:
    """The Prometheus exporter's role: LOGIN, a member of ``pg_monitor`` and of nothing else,
    no privilege in the application's database."""

    name: str
    connection_limit: int


@dataclass(frozen=True)
class MigrationPlan:
    """One versioned SQL file; ``checksum`` (SHA-256 of the text) is kept in the ledger."""

    version: str
    name: str
    source: str
    sql: str
    checksum: str


@dataclass(frozen=True)
class CompressionPlan:
    segment_by: tuple[str, ...]
    order_by: tuple[str, ...]
    compress_after: str
    optional: bool


@dataclass(frozen=True)
class RetentionPlan:
    drop_after: str
    optional: bool


@dataclass(frozen=True)
class HypertablePlan:
    table: str
    chunk_interval: str
    compression: CompressionPlan | None
    retention: RetentionPlan | None


@dataclass(frozen=True)
class ContinuousAggregatePlan:
    """A continuous aggregate's defining statement and its refresh policy."""

    view: str
    source: str
    sql: str
    checksum: str
    start_offset: str | None
    end_offset: str
    schedule_interval: str
    materialized_only: bool
    materialize_history: bool
    history_window: str
    optional: bool


@dataclass(frozen=True)
class HookPlan(JsonPlan):
    """Everything the hooks converge to, for one environment; JSON both ways (``JsonPlan``)."""

    environment: str
    database: str
    owner: str
    extension_version: str | None
    """The timescaledb version every database converges to; None: the package's default."""
    schemas: tuple[str, ...]
    login_roles: tuple[LoginRolePlan, ...]
    migrations: tuple[MigrationPlan, ...]
    hypertables: tuple[HypertablePlan, ...]
    continuous_aggregates: tuple[ContinuousAggregatePlan, ...]
    unlisted_aggregates: tuple[str, ...]
    monitor_role: MonitorRolePlan | None = None
    """The exporter's role, with ``monitoring`` declared; None: the hooks leave such a role
    alone."""
