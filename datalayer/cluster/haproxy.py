"""HAProxy in front of the cluster, on every member: one port to the leader, one to replicas.

Patroni's REST API says each member's role to HTTP checks (``patroni/api.py`` at v4.0.7:
``GET /primary`` is 200 on the leader only; ``GET /replica?lag=N`` is 200 on a running
replica whose replay lag is at most N bytes). The read-only port's fallback to the leader is a
``backup`` server that ``track``s the read-write port's check of the same member, so a member
is checked once per role, and the leader serves reads only while no replica can.

The checks send ``OPTIONS``, as Pigsty's do (``roles/pgsql/templates/service.cfg``): Patroni
answers it with the status line alone (``do_OPTIONS``, ``patroni/api.py:405-411``), whereas a
``GET`` body meets a connection HAProxy already closed, and Patroni logs a
``ConnectionResetError`` traceback for every check (seen on the sandbox, Patroni 4.0.7).
"""

from collections.abc import Sequence

from datalayer.cluster.timings import timings
from datalayer.etcd.topology import ClusterHost
from datalayer.render import render
from datalayer.spec.timescaledb import TimescaleDb

HAPROXY_CONFIG = "/etc/haproxy/haproxy.cfg"
CONNECT_TIMEOUT_MS = 4000
"""How long a connection to a member's PostgreSQL may take to open: a member that does not
answer within it is tried again (``retries``), on the next server where there is one."""
SESSION_TIMEOUT = "1h"
"""Inactivity after which HAProxy closes a client session: longer than a pool keeps an idle
connection, so that HAProxy never cuts what a client thinks is open."""


def render_haproxy_config(
    spec: TimescaleDb, environment_name: str, members: Sequence[ClusterHost]
) -> str:
    """The whole haproxy.cfg of every member (all members render the same file)."""
    cluster = spec.cluster
    assert cluster is not None, "HAProxy's configuration needs timescaledb.cluster"
    return render(
        "haproxy/haproxy.cfg.j2",
        environment_name=environment_name,
        scope=cluster.scope,
        members=members,
        postgresql_port=spec.port,
        read_write_port=cluster.read_write_port,
        read_only_port=cluster.read_only_port,
        read_only_max_lag=cluster.read_only_max_lag,
        rest_api_port=cluster.rest_api_port,
        timings=timings(cluster.recovery_time_target),
        # Every client session through this member, on both ports: the members' own
        # max_connections bounds what can be open behind them.
        maximum_connections=spec.max_connections * len(members) * 2,
        connect_timeout_ms=CONNECT_TIMEOUT_MS,
        session_timeout=SESSION_TIMEOUT,
    )
