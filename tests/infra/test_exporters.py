"""Verify a host's node exporter: running, on the private address alone, answering.

Every group's suite (``datalayer.verify``); skips where the environment declares no
``monitoring``. Checked from the host itself, where Prometheus's network reaches it.
"""

import secrets
from typing import Any

import pytest

from datalayer.monitoring.exporters import NODE, TEXTFILE_DIRECTORY
from datalayer.spec import EnvironmentSpec
from datalayer.spec.exporters import Exporters
from tests.infra.exporters import exporters_of, listening_addresses, private_address, scrape
from tests.infra.postgresql import journal


@pytest.fixture(scope="session")
def exporters(environment: EnvironmentSpec) -> Exporters:
    return exporters_of(environment)


@pytest.fixture(scope="session")
def address(pytestconfig: pytest.Config) -> str:
    return private_address(pytestconfig)


def test_node_exporter_runs(host: Any, exporters: Exporters) -> None:
    service = host.service(NODE.service)
    assert service.is_running, journal(host, NODE.service)
    assert service.is_enabled, journal(host, NODE.service)


def test_node_exporter_listens_on_the_private_address_only(
    host: Any, exporters: Exporters, address: str
) -> None:
    assert listening_addresses(host, exporters.node_port) == {address}


def test_node_exporter_answers_with_the_hosts_filesystems(
    host: Any, exporters: Exporters, address: str
) -> None:
    samples = scrape(host, address, exporters.node_port, NODE.service)
    assert any(series.startswith("node_filesystem_avail_bytes{") for series in samples)


def test_node_exporter_exports_a_file_of_the_textfile_directory(
    host: Any, exporters: Exporters, address: str
) -> None:
    # Where the restore drill writes its last success: every *.prom file there is read at each
    # scrape (node_exporter v1.9.0 collector/textfile.go:208-253).
    probe = f"{TEXTFILE_DIRECTORY}/datalayer_verify_probe.prom"
    value = secrets.randbelow(10**6)
    host.check_output(
        "printf %s %s > %s.tmp && mv %s.tmp %s",
        "%s\n", f"datalayer_verify_probe {value}", probe, probe, probe,
    )  # fmt: skip
    try:
        samples = scrape(host, address, exporters.node_port, NODE.service)
    finally:
        host.check_output("rm -f %s", probe)
    assert samples.get("datalayer_verify_probe") == value
    assert samples.get("node_textfile_scrape_error") == 0
