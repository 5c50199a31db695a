"""A TimescaleDB cluster: Patroni on etcd, behind HAProxy on every member.

Declared as ``timescaledb.cluster``; absent, the environment runs one database host exactly as
before. Present, every host of the inventory's ``timescaledb`` group is a member and the hosts of
its ``etcd`` group run the DCS. What needs the inventory (how many members and etcd hosts there
are) is judged with it, before any host is contacted (``deploy/preflight.py``); what this model
alone can judge is judged here.
"""

import re
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import AfterValidator, Field, model_validator

from datalayer.spec.base import Constraint, SpecModel
from datalayer.spec.types import MemorySize, Port, RoleName, SecretName, StrictBool, StrictInt

# Patroni's scope names its cluster in etcd (/service/SCOPE/...) and in every member's REST
# answers; the project also uses it in file and unit names, hence lower case, digits and dashes.
_SCOPE = re.compile(r"[a-z][a-z0-9-]{0,62}")


def _scope(value: str) -> str:
    if not _SCOPE.fullmatch(value):
        raise ValueError(
            "must be a-z, 0-9 and '-', starting with a letter, at most 63 characters "
            "(e.g. 'trading-prod')"
        )
    return value


ScopeName = Annotated[
    str, AfterValidator(_scope), Constraint("a-z, 0-9, '-' (a letter first), at most 63")
]


class Watchdog(StrEnum):
    """Patroni's watchdog mode (``watchdog.mode``): whether a hung Patroni is stopped by the
    kernel before a replica takes over, so that two leaders never accept writes at once."""

    OFF = "off"
    """No watchdog: a leader whose Patroni hangs keeps PostgreSQL running until its key
    expires. For hosts without /dev/watchdog (containers, such as the sandbox's droplets)."""
    AUTOMATIC = "automatic"
    """Use /dev/watchdog when the host has one, run without it otherwise."""
    REQUIRED = "required"
    """Refuse to become leader without /dev/watchdog (softdog or a hardware watchdog)."""


class Etcd(SpecModel):
    """The DCS: etcd 3 on the hosts of the inventory's ``etcd`` group (3 or 5 of them)."""

    client_port: Port = 2379
    """Port Patroni and etcdctl reach etcd at (listen-client-urls)."""
    peer_port: Port = 2380
    """Port the etcd members reach each other at (listen-peer-urls)."""
    password_secret: SecretName = "DATALAYER_ETCD_PATRONI_PASSWORD"
    """Secret holding the password of the etcd user Patroni authenticates as; etcd's
    authentication is on, so nothing else on the network may read or move the leader key."""
    root_password_secret: SecretName = "DATALAYER_ETCD_ROOT_PASSWORD"
    """Secret holding the password of etcd's root user, which etcd requires before it turns
    authentication on; used by the deploy only."""


class Cluster(SpecModel):
    """Patroni on etcd behind HAProxy: high availability for the TimescaleDB hosts."""

    scope: ScopeName
    """Patroni's cluster name (``scope``), e.g. 'trading-prod': one per environment, so that
    clusters sharing an etcd never share a leader key."""
    synchronous_mode: StrictBool = True
    """Patroni's synchronous_mode: a commit is acknowledged only once a replica has it, and
    only such a replica may be promoted, so a failover loses no acknowledged commit."""
    synchronous_mode_strict: StrictBool = False
    """Patroni's synchronous_mode_strict: with no synchronous replica left, writes wait rather
    than continue unreplicated. Needs at least two members."""
    maximum_lag_on_failover: MemorySize = 1024 * 1024
    """Patroni's maximum_lag_on_failover (bytes, or e.g. '1MB'): a replica further behind the
    last known leader position is never promoted. Bounds the loss when synchronous_mode is off."""
    recovery_time_target: StrictInt = Field(default=30, ge=30, le=300)
    """Seconds within which a lost leader is replaced; Patroni's ttl, loop_wait and
    retry_timeout and HAProxy's check intervals are derived from it. 30 is the shortest that
    Patroni's least ttl (20) fits in."""
    watchdog: Watchdog = Watchdog.AUTOMATIC
    """Patroni's watchdog mode: 'off', 'automatic' or 'required'."""
    read_write_port: Port = 5000
    """HAProxy port on every member that reaches the leader (Patroni's /primary check)."""
    read_only_port: Port = 5001
    """HAProxy port on every member that reaches a healthy replica within read_only_max_lag, or
    the leader when none is."""
    read_only_max_lag: MemorySize = 16 * 1024 * 1024
    """Replay lag (bytes, or e.g. '16MB') above which a replica leaves the read-only port."""
    rest_api_port: Port = 8008
    """Patroni's REST API port on every member, which HAProxy's checks and patronictl use."""
    rest_api_password_secret: SecretName = "DATALAYER_PATRONI_API_PASSWORD"
    """Secret holding the password of the REST API's changing endpoints (restart, switchover);
    its health checks need none."""
    replication_role: RoleName = "replicator"
    """Role replicas stream WAL as: REPLICATION only, SCRAM, allowed in pg_hba.conf from the
    members' private addresses only."""
    replication_password_secret: SecretName = "DATALAYER_REPLICATION_PASSWORD"
    """Secret holding the replication role's password."""
    rewind_role: RoleName = "rewinder"
    """Role pg_rewind connects as when a failed leader rejoins: only the functions pg_rewind
    needs, no superuser."""
    rewind_password_secret: SecretName = "DATALAYER_REWIND_PASSWORD"
    """Secret holding the rewind role's password."""
    etcd: Etcd = Etcd()
    """The DCS."""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        ports = {
            "read_write_port": self.read_write_port,
            "read_only_port": self.read_only_port,
            "rest_api_port": self.rest_api_port,
            "etcd.client_port": self.etcd.client_port,
            "etcd.peer_port": self.etcd.peer_port,
        }
        _distinct_ports(ports)
        if self.replication_role == self.rewind_role:
            raise ValueError(
                f"replication_role and rewind_role are both {self.replication_role!r}: "
                "each needs its own role and grants"
            )
        secrets = [
            self.rest_api_password_secret,
            self.replication_password_secret,
            self.rewind_password_secret,
            self.etcd.password_secret,
            self.etcd.root_password_secret,
        ]
        if len(set(secrets)) != len(secrets):
            raise ValueError(f"the cluster's secrets must differ from each other: {secrets}")
        return self


def _distinct_ports(ports: dict[str, Any]) -> None:
    """Refuse two of the cluster's ports that are the same number: one would not start."""
    seen: dict[int, str] = {}
    for key, port in ports.items():
        if port in seen:
            raise ValueError(f"{key} {port} is also {seen[port]}: each port must differ")
        seen[port] = key
