"""Verify a cluster member's HAProxy against its environment spec.

Runs on the host itself: the package and service, the file HAProxy accepts, both ports
listening, and what HAProxy's own checks make of the members (its statistics on the admin
socket): the read-write port has exactly one server up, the leader; the read-only port has
its replicas up, and the leader among its backups. Skipped on an environment that declares no
cluster.
"""

import csv
from typing import Any

import pytest

from datalayer.cluster.haproxy import HAPROXY_CONFIG
from datalayer.spec import EnvironmentSpec
from datalayer.spec.cluster import Cluster
from deploy.haproxy import SERVICE
from tests.infra.postgresql import journal

ADMIN_SOCKET = "/run/haproxy/admin.sock"
"""The statistics socket templates/haproxy/haproxy.cfg.j2 opens (``stats socket``)."""


@pytest.fixture(scope="session")
def cluster(environment: EnvironmentSpec) -> Cluster:
    if environment.timescaledb.cluster is None:
        pytest.skip(f"Pulumi.{environment.name}.yaml declares no timescaledb.cluster")
    return environment.timescaledb.cluster


def servers_up(host: Any, proxy: str) -> list[str]:
    """The servers HAProxy's checks hold up in ``proxy``, from ``show stat`` (CSV)."""
    command = (
        'python3 -c "import socket; s = socket.socket(socket.AF_UNIX); '
        f"s.connect('{ADMIN_SOCKET}'); s.sendall(b'show stat\\n'); "
        "print(b''.join(iter(lambda: s.recv(65536), b'')).decode())\""
    )
    rows = csv.DictReader(host.check_output(command).lstrip("# ").splitlines())
    return sorted(
        row["svname"]
        for row in rows
        if row["pxname"] == proxy
        and row["svname"] not in ("FRONTEND", "BACKEND")
        and row["status"] == "UP"
    )


def test_package_is_installed(host: Any, cluster: Cluster) -> None:
    assert host.package("haproxy").is_installed


def test_service_is_enabled_and_running(host: Any, cluster: Cluster) -> None:
    service = host.service(SERVICE)
    assert (service.is_running, service.is_enabled) == (True, True), journal(host, SERVICE)


def test_configuration_is_valid(host: Any, cluster: Cluster) -> None:
    assert host.run(f"haproxy -c -q -f {HAPROXY_CONFIG}").rc == 0


@pytest.mark.parametrize("which", ["read_write_port", "read_only_port"])
def test_port_is_listening(host: Any, cluster: Cluster, which: str) -> None:
    port = getattr(cluster, which)
    assert host.socket(f"tcp://0.0.0.0:{port}").is_listening, journal(host, SERVICE)


def test_read_write_port_has_the_leader_alone(host: Any, cluster: Cluster) -> None:
    assert len(servers_up(host, f"{cluster.scope}-read-write")) == 1


def test_read_only_port_has_replicas_and_the_leader_as_backup(host: Any, cluster: Cluster) -> None:
    leader = servers_up(host, f"{cluster.scope}-read-write")
    read_only = servers_up(host, f"{cluster.scope}-read-only")
    replicas = [name for name in read_only if not name.endswith("-as-leader")]
    assert (
        [name for name in read_only if name.endswith("-as-leader")],
        bool(replicas),
        set(replicas) & set(leader),
    ) == ([f"{name}-as-leader" for name in leader], True, set())
