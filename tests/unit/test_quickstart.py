"""What ``./run up`` prints to connect: each port it names is the one that serves that role."""

import pytest

from datalayer.quickstart import client_lines
from datalayer.sandbox import SERVICE_PORTS, Droplet
from datalayer.spec import load_environment


def _member(groups: tuple[str, ...]) -> Droplet:
    """A droplet whose every service port is published at 40000 plus that port."""
    return Droplet(
        name="node-1", groups=groups, env="sandbox-cluster", container="datalayer-node-1",
        container_id="0", image="datalayer-droplet", ssh_port=2222,
        published_ports={port: 40000 + port for port in SERVICE_PORTS},
        private_address="172.30.57.2",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("environment", "role", "port"),
    [
        ("sandbox", "app", 5432),
        ("sandbox", "reader", 5432),
        # A cluster's app writes through HAProxy's read-write port, its reader reads through the
        # read-only one (Pulumi.sandbox-cluster.yaml: timescaledb.cluster's defaults).
        ("sandbox-cluster", "app", 5000),
        ("sandbox-cluster", "reader", 5001),
    ],
)
def test_each_role_is_shown_the_port_that_serves_it(environment: str, role: str, port: int) -> None:
    lines = client_lines(load_environment(environment), _member(("timescaledb",)), {})
    (line,) = [line for line in lines if f"user={role} " in line]
    assert f"port={40000 + port} " in line


def test_a_sentinel_host_is_shown_how_to_find_the_master() -> None:
    lines = client_lines(load_environment("sandbox-cluster"), _member(("redis",)), {})
    assert lines[-1].endswith(
        f"-p {40000 + 26379} --user app --askpass SENTINEL get-master-addr-by-name trading"
    )


@pytest.mark.parametrize("environment", ["sandbox", "sandbox-cluster"])
def test_the_prometheus_host_is_shown_its_published_port(environment: str) -> None:
    lines = client_lines(load_environment(environment), _member(("redis", "prometheus")), {})
    assert lines[-1].startswith(f"http://127.0.0.1:{40000 + 9090}/alerts ")
