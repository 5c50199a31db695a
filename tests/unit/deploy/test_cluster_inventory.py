"""A cluster's inventory as the deploy reads it: the etcd and timescaledb hosts with their
private addresses, in inventory order, and etcd's passwords for the etcd hosts only."""

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from pyinfra.api.inventory import Inventory

from datalayer.etcd.topology import ClusterHost, ClusterTopology
from datalayer.secrets import secret_variables
from datalayer.spec import load_environment
from deploy.preflight import DeployInputs, judge_inventory

ENVIRONMENT = "sandbox-cluster"
HOSTS = {
    "node-1": (("timescaledb", "etcd", "redis"), "172.30.57.11"),
    "node-2": (("timescaledb", "etcd", "redis"), "172.30.57.12"),
    "node-3": (("etcd", "redis"), "172.30.57.13"),
    "backup-1": (("backup_repository",), "172.30.57.15"),
}


@pytest.fixture
def judged(monkeypatch: pytest.MonkeyPatch) -> dict[str, DeployInputs]:
    for name in secret_variables(load_environment(ENVIRONMENT)):
        monkeypatch.setenv(name, f"Valid-{name.lower()}-0123")
    repository = load_environment(ENVIRONMENT).timescaledb.backup.repository
    assert repository.type == "sftp"
    # The cluster's shared SFTP repository takes a real private key, made for this test only.
    key = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    monkeypatch.setenv(repository.private_key_secret, key.decode())
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


@pytest.mark.parametrize(("host", "reads"), [("node-3", True), ("backup-1", False)])
def test_only_etcd_hosts_read_etcds_passwords(
    judged: dict[str, DeployInputs], host: str, reads: bool
) -> None:
    assert (judged[host].etcd is not None) == reads


def test_inventory_of_the_clusters_redis_hosts_alone_deploys_no_cluster(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in secret_variables(load_environment(ENVIRONMENT)):
        monkeypatch.setenv(name, f"Valid-{name.lower()}-0123")
    redis_hosts = [
        (f"cache-{index}", {"env": ENVIRONMENT, "private_address": f"172.30.57.{20 + index}"})
        for index in (1, 2, 3)
    ]
    inventory = Inventory(  # type: ignore[no-untyped-call]
        ([name for name, _ in redis_hosts], {}), redis=(redis_hosts, {})
    )
    assert {name: inputs.topology for name, inputs in judge_inventory(inventory).items()} == {
        "cache-1": None,
        "cache-2": None,
        "cache-3": None,
    }
