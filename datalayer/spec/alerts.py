"""Thresholds and delays of the alert rules (``templates/prometheus/rules.yml.j2``).

Each value has a production default and a range: a threshold outside it would make its rule
fire on a healthy host (a share of 0.01 of max_connections) or never (a horizon of a year), so
it is refused in one line, naming the key, before any host is contacted.
"""

from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator, Field

from datalayer.spec.base import Constraint, SpecModel
from datalayer.spec.types import PrometheusDuration, StrictFloat, prometheus_duration_seconds


def _within(low: str, high: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        seconds = prometheus_duration_seconds(value)
        if not prometheus_duration_seconds(low) <= seconds <= prometheus_duration_seconds(high):
            raise ValueError(f"is outside {low}..{high}")
        return value

    return check


Pending = Annotated[
    PrometheusDuration, AfterValidator(_within("10s", "1h")), Constraint("from 10s to 1h")
]
"""A rule's ``for:``: long enough to ride out one failed scrape, short enough to matter."""
Delay = Annotated[
    PrometheusDuration, AfterValidator(_within("1s", "1d")), Constraint("from 1s to 1d")
]
"""How far behind, or how long open, before a rule calls it a problem."""
Age = Annotated[
    PrometheusDuration, AfterValidator(_within("1h", "60d")), Constraint("from 1h to 60d")
]
"""How old a scheduled job's last success may grow: at least its schedule's period."""
Horizon = Annotated[
    PrometheusDuration, AfterValidator(_within("1h", "30d")), Constraint("from 1h to 30d")
]
"""How far ahead a trend is extrapolated."""
Share = Annotated[StrictFloat, Field(ge=0.1, le=1.0)]
"""A share of a server's own limit (max_connections, maxmemory)."""


class Alerts(SpecModel):
    """Each rule's threshold and ``for:`` delay, with production defaults; the sandbox sets
    short ones so that a test sees an alert fire within two minutes."""

    pending: Pending = "5m"
    """``for:`` of the threshold rules (archive, backups, connections, transactions, lag,
    memory, disk): how long a condition holds before its alert fires."""
    down_pending: Pending = "1m"
    """``for:`` of the availability rules (a target, Redis, etcd or InfluxDB down, no Patroni
    leader, no Redis master, a replica not streaming)."""
    archive_margin: Delay = "5m"
    """Added to ``timescaledb.backup.archive_timeout``: a primary that wrote rows but whose last
    archived WAL is older than both fires PostgresArchiveStalled (PostgreSQL switches a segment
    with writes in it after at most archive_timeout); failures with no success for as long fire
    PostgresArchiveFailing."""
    backup_full_max_age: Age = "8d"
    """A last full backup older than this fires PostgresFullBackupStale (the default schedule
    takes one a week); PostgreSQL up this long with none recorded fires
    PostgresFullBackupMissing."""
    backup_differential_max_age: Age = "2d"
    """A last differential (or full) backup older than this fires
    PostgresDifferentialBackupStale (the default schedule takes one every day but Sunday,
    when the full one runs)."""
    connections_share: Share = 0.8
    """Connections above this share of ``max_connections`` fire PostgresConnectionsNearLimit."""
    long_transaction: Delay = "5m"
    """A transaction open longer than this fires PostgresLongTransaction: it holds back vacuum
    and the compression policy, and its locks can stall ingest."""
    replication_lag: Delay = "1m"
    """A replica replaying more than this far behind the leader fires PostgresReplicationLag."""
    redis_memory_share: Share = 0.9
    """Redis using more than this share of ``maxmemory`` fires RedisMemoryNearLimit: past it
    the eviction policy (or, with noeviction, refused writes) takes over."""
    disk_fill_horizon: Horizon = "4h"
    """A file system that the last hour's trend (predict_linear) fills within this fires
    HostDiskFillingUp."""
    disk_free_share: Share = 0.2
    """HostDiskFillingUp fires only for a file system with less than this share free: a
    young or bursty trend (a deploy, a bulk load) extrapolates to a full disk that plenty of
    room says is far off."""
    restore_drill_max_age: Age = "8d"
    """A last successful restore drill older than this fires RestoreDrillStale (the default
    schedule runs one a week)."""
