"""HAProxy's configuration on every member.

Real-source note: the sandbox cluster's rendered file (``rendered``) was checked with Debian
13's ``haproxy -c -f`` (HAProxy 3.0.11) on a droplet, 2026-12-01: "Configuration file is
valid" (exit status 0), the ``track`` of each backup server included. The deploy checks every
candidate the same way before it installs it (``deploy/haproxy``).
"""

import pytest

from datalayer.cluster.haproxy import render_haproxy_config
from datalayer.spec import EnvironmentSpec
from tests.unit.cluster.conftest import MEMBERS


def section(text: str, name: str) -> list[str]:
    """The lines of the ``listen NAME`` section, stripped, comments left out."""
    lines = text.splitlines()
    start = lines.index(f"listen {name}") + 1
    body = []
    for line in lines[start:]:
        if line and not line.startswith(" "):
            break
        if line.strip() and not line.strip().startswith("#"):
            body.append(line.strip())
    return body


@pytest.fixture(scope="module")
def rendered(environment: EnvironmentSpec) -> str:
    return render_haproxy_config(environment.timescaledb, environment.name, MEMBERS)


def test_read_write_port_reaches_the_leader_by_patronis_primary_check(rendered: str) -> None:
    # patroni/api.py:311-352 (v4.0.7): GET /primary is 200 on the leader only.
    assert section(rendered, "trading-sandbox-read-write") == [
        "bind *:5000",
        "option httpchk",
        "http-check send meth OPTIONS uri /primary",
        "http-check expect status 200",
        "server patroni-1 172.30.57.11:5432 check port 8008",
        "server patroni-2 172.30.57.12:5432 check port 8008",
        "server patroni-3 172.30.57.13:5432 check port 8008",
    ]


def test_read_only_port_reaches_replicas_within_the_lag_then_the_leader(rendered: str) -> None:
    # patroni/api.py:318-326 (v4.0.7): /replica?lag=N is 200 on a running replica whose
    # replay position is at most N bytes behind the leader's last known one.
    assert section(rendered, "trading-sandbox-read-only") == [
        "bind *:5001",
        "balance roundrobin",
        "option httpchk",
        "http-check send meth OPTIONS uri /replica?lag=16777216",
        "http-check expect status 200",
        "server patroni-1 172.30.57.11:5432 check port 8008",
        "server patroni-2 172.30.57.12:5432 check port 8008",
        "server patroni-3 172.30.57.13:5432 check port 8008",
        "server patroni-1-as-leader 172.30.57.11:5432 backup track "
        "trading-sandbox-read-write/patroni-1",
        "server patroni-2-as-leader 172.30.57.12:5432 backup track "
        "trading-sandbox-read-write/patroni-2",
        "server patroni-3-as-leader 172.30.57.13:5432 backup track "
        "trading-sandbox-read-write/patroni-3",
    ]


def test_checks_run_at_the_derived_intervals_and_drop_sessions(rendered: str) -> None:
    assert (
        "    default-server inter 1000ms fastinter 500ms downinter 1000ms rise 3 fall 3 "
        "on-marked-down shutdown-sessions"
    ) in rendered.splitlines()


def test_file_opens_with_the_managed_file_lines(rendered: str) -> None:
    assert rendered.startswith(
        "# /etc/haproxy/haproxy.cfg: rendered from templates/haproxy/haproxy.cfg.j2 for "
        "environment 'sandbox-cluster'.\n# Managed by datalayer:"
    )
