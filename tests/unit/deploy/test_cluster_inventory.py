"""A cluster's inventory as the deploy reads it: the etcd and timescaledb hosts with their
private addresses, in inventory order, and etcd's passwords for the etcd hosts only."""

import pytest
from pyinfra.api.inventory import Inventory

from datalayer.etcd.topology import ClusterHost, ClusterTopology
from datalayer.secrets import secret_variables
from datalayer.spec import load_environment
from deploy.preflight import DeployInputs, judge_inventory

ENVIRONMENT = "sandbox-cluster"
HOSTS = {
    "node-1": (("timescaledb", "etcd"), "172.30.57.11"),
    "node-2": (("timescaledb", "etcd"), "172.30.57.12"),
    "node-3": (("etcd",), "172.30.57.13"),
    "cache-1": (("redis",), "172.30.57.14"),
}


@pytest.fixture
def judged(monkeypatch: pytest.MonkeyPatch) -> dict[str, DeployInputs]:
    for name in secret_variables(load_environment(ENVIRONMENT)):
        monkeypatch.setenv(name, f"Valid-{name.lower()}-0123")
    groups: dict[str, tuple[list[tuple[str, dict[str, str]]], dict[str, str]]] = {}
    for name, (host_groups, address) in HOSTS.items():
        for group in host_groups:
            data = {"env": ENVIRONMENT, "private_address": address}
            groups.setdefault(group, ([], {}))[0].append((name, data))
    inventory = Inventory((list(HOSTS), {}), **groups)  # type: ignore[no-untyped-call]
    return judge_inventory(inventory)


def test_every_host_of_the_environment_gets_the_clusters_topology(
    judged: dict[str, DeployInputs],
) -> None:
    wanted = ClusterTopology(
        etcd=(
            ClusterHost("node-1", "172.30.57.11"),
            ClusterHost("node-2", "172.30.57.12"),
            ClusterHost("node-3", "172.30.57.13"),
        ),
        members=(ClusterHost("node-1", "172.30.57.11"), ClusterHost("node-2", "172.30.57.12")),
    )
    assert {name: inputs.topology for name, inputs in judged.items()} == dict.fromkeys(
        HOSTS, wanted
    )


@pytest.mark.parametrize(("host", "reads"), [("node-3", True), ("cache-1", False)])
def test_only_etcd_hosts_read_etcds_passwords(
    judged: dict[str, DeployInputs], host: str, reads: bool
) -> None:
    assert (judged[host].etcd is not None) == reads
