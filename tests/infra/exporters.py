"""What the exporters' suites share: the host's exporters spec, its private address, and a
scrape of an exporter from the host itself (its port is not published beyond the host's
private network)."""

import ipaddress
from typing import Any

import pytest

from datalayer.spec import EnvironmentSpec
from datalayer.spec.exporters import Exporters
from tests.infra.postgresql import journal

_SCRAPE = (
    "import sys, urllib.request; "
    "print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())"
)


def exporters_of(environment: EnvironmentSpec) -> Exporters:
    """The environment's exporters; the suite skips where ``monitoring`` is not declared."""
    if environment.monitoring is None:
        pytest.skip(f"Pulumi.{environment.name}.yaml declares no monitoring: no exporter runs")
    return environment.monitoring.exporters


def private_address(config: pytest.Config) -> str:
    """``--private-address``, which ``datalayer.verify`` passes from the inventory."""
    given = config.getoption("--private-address")
    if not given:
        raise pytest.UsageError("the exporters' suites need --private-address=ADDRESS")
    return str(ipaddress.ip_address(given))


def listening_addresses(host: Any, port: int) -> set[str]:
    """Every address a TCP socket listens on at ``port`` on the host."""
    return {
        ipaddress.ip_address(socket.split("://")[1].rsplit(":", 1)[0].strip("[]")).compressed
        for socket in host.socket.get_listening_sockets()
        if socket.startswith("tcp") and socket.rsplit(":", 1)[1] == str(port)
    }


def scrape(
    host: Any, address: str, port: int, service: str, path: str = "/metrics"
) -> dict[str, float]:
    """The exporter's samples, by series as exposed (``name{labels}``), scraped on the host."""
    authority = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
    url = f"http://{authority}{path}"
    result = host.run("python3 -c %s %s", _SCRAPE, url)
    assert result.rc == 0, f"{url}: {result.stderr}\n{journal(host, service)}"
    samples = {}
    for line in result.stdout.splitlines():
        if line and not line.startswith("#"):
            series, _, value = line.rpartition(" ")
            samples[series] = float(value)
    return samples
