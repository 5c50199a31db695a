"""Verify an etcd member of a cluster's DCS against its environment spec.

Runs on the host itself (etcd's ports are reached on the private network, which the machine
running pytest may not be on): package, service, the addresses it listens at, its cluster's
health through the address the other hosts use (``--etcd-endpoint``, the host's
``private_address`` and the client port), and authentication: an anonymous client reads nothing.
"""

from typing import Any

import pytest

from datalayer.etcd.authentication import patroni_prefix
from datalayer.etcd.config import local_client_url
from datalayer.etcd.layout import DEBIAN_LAYOUT
from datalayer.spec import EnvironmentSpec
from datalayer.spec.cluster import Cluster
from tests.infra.conftest import Endpoint, endpoint_of
from tests.infra.postgresql import journal


@pytest.fixture(scope="session")
def cluster(environment: EnvironmentSpec) -> Cluster:
    if environment.timescaledb.cluster is None:
        pytest.fail(f"Pulumi.{environment.name}.yaml declares no timescaledb.cluster")
    return environment.timescaledb.cluster


@pytest.fixture
def etcd_endpoint(pytestconfig: pytest.Config, host: Any, cluster: Cluster) -> Endpoint:
    """Where the cluster's other hosts reach this member's clients."""
    return endpoint_of(pytestconfig, "--etcd-endpoint", host, cluster.etcd.client_port)


def etcdctl(host: Any, endpoint: str, arguments: str) -> Any:
    """etcdctl on the host, anonymous: the suite holds no etcd password."""
    return host.run(f"etcdctl --endpoints={endpoint} {arguments}")


@pytest.mark.parametrize("package", [DEBIAN_LAYOUT.server_package, DEBIAN_LAYOUT.client_package])
def test_package_is_installed(host: Any, package: str) -> None:
    assert host.package(package).is_installed


def test_service_is_enabled_and_running(host: Any) -> None:
    service = host.service(DEBIAN_LAYOUT.service)
    assert service.is_running, journal(host, DEBIAN_LAYOUT.service)
    assert service.is_enabled, journal(host, DEBIAN_LAYOUT.service)


@pytest.mark.parametrize("which", ["client", "peer"])
def test_listens_on_the_private_address(
    host: Any, cluster: Cluster, etcd_endpoint: Endpoint, which: str
) -> None:
    port = cluster.etcd.client_port if which == "client" else cluster.etcd.peer_port
    listening = host.socket(f"tcp://{etcd_endpoint.address}:{port}")
    assert listening.is_listening, journal(host, DEBIAN_LAYOUT.service)


def test_listens_on_loopback_for_local_clients(host: Any, cluster: Cluster) -> None:
    listening = host.socket(f"tcp://127.0.0.1:{cluster.etcd.client_port}")
    assert listening.is_listening, journal(host, DEBIAN_LAYOUT.service)


def test_data_is_in_the_deploys_directory(host: Any) -> None:
    assert host.file(f"{DEBIAN_LAYOUT.data_directory}/member/wal").is_directory


def test_member_is_healthy_at_its_private_address(host: Any, etcd_endpoint: Endpoint) -> None:
    # /health answers without a login; true only while the member sees a leader.
    url = f"http://{etcd_endpoint.address}:{etcd_endpoint.port}/health"
    fetch = f"import urllib.request; print(urllib.request.urlopen('{url}').read().decode())"
    answer = host.run(f'python3 -c "{fetch}"')
    assert answer.rc == 0, answer.stderr
    assert '"health":"true"' in answer.stdout, answer.stdout


def test_authentication_is_on(host: Any, cluster: Cluster) -> None:
    status = etcdctl(host, local_client_url(cluster.etcd), "auth status")
    assert status.rc != 0
    assert "user name is empty" in status.stderr


def test_anonymous_client_reads_no_key_of_patroni(host: Any, cluster: Cluster) -> None:
    read = etcdctl(
        host, local_client_url(cluster.etcd), f"get --prefix {patroni_prefix(cluster.scope)}"
    )
    assert read.rc != 0
    assert read.stdout == ""
