"""etcd's /etc/default/etcd, rendered from the inventory's hosts and the spec's ports."""

import pytest

from datalayer.etcd.config import client_endpoints, render_environment_file
from datalayer.etcd.topology import ClusterHost, ClusterTopology
from datalayer.spec.cluster import Etcd

TOPOLOGY = ClusterTopology(
    etcd=(
        ClusterHost("etcd-1", "10.0.0.11"),
        ClusterHost("etcd-2", "10.0.0.12"),
        ClusterHost("etcd-3", "10.0.0.13"),
    ),
    members=(ClusterHost("db-1", "10.0.0.21"),),
)


def settings(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line and line[0] != "#")


def test_environment_file_is_the_members_whole_configuration() -> None:
    rendered = render_environment_file(
        Etcd(client_port=2479, peer_port=2480), "prod", TOPOLOGY, "etcd-2"
    )
    assert settings(rendered) == {
        "ETCD_NAME": "etcd-2",
        "ETCD_DATA_DIR": "/var/lib/etcd/datalayer",
        "ETCD_LISTEN_PEER_URLS": "http://10.0.0.12:2480",
        "ETCD_INITIAL_ADVERTISE_PEER_URLS": "http://10.0.0.12:2480",
        "ETCD_LISTEN_CLIENT_URLS": "http://10.0.0.12:2479,http://127.0.0.1:2479",
        "ETCD_ADVERTISE_CLIENT_URLS": "http://10.0.0.12:2479",
        "ETCD_INITIAL_CLUSTER": (
            "etcd-1=http://10.0.0.11:2480,etcd-2=http://10.0.0.12:2480,etcd-3=http://10.0.0.13:2480"
        ),
        "ETCD_INITIAL_CLUSTER_STATE": "new",
        "ETCD_INITIAL_CLUSTER_TOKEN": "datalayer-prod",
    }


def test_environment_file_opens_with_the_managed_file_line() -> None:
    rendered = render_environment_file(Etcd(), "prod", TOPOLOGY, "etcd-1")
    assert rendered.startswith("# etcd/etcd.env.j2: ")
    assert "edits are overwritten" in rendered.splitlines()[1]


def test_every_member_renders_the_same_initial_cluster() -> None:
    clusters = {
        settings(render_environment_file(Etcd(), "prod", TOPOLOGY, host.name))[
            "ETCD_INITIAL_CLUSTER"
        ]
        for host in TOPOLOGY.etcd
    }
    assert len(clusters) == 1


def test_a_host_outside_the_etcd_group_is_not_rendered() -> None:
    with pytest.raises(KeyError):
        render_environment_file(Etcd(), "prod", TOPOLOGY, "db-1")


def test_client_endpoints_are_every_members_private_client_url() -> None:
    assert client_endpoints(Etcd(), TOPOLOGY) == [
        "http://10.0.0.11:2379",
        "http://10.0.0.12:2379",
        "http://10.0.0.13:2379",
    ]
