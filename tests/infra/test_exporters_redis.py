"""Verify a Redis host's exporter and the ACL user it logs in as.

Part of the redis group's suite (``datalayer.verify``); skips where the environment declares
no ``monitoring``. The exporter is scraped from the host itself; the user's rights are tried
from where pytest runs, as a client meets them (``--redis-endpoint``).
"""

from collections.abc import Iterator
from typing import Any, cast
from urllib.parse import urlencode

import pytest
import redis

from datalayer.monitoring.exporters import REDIS, sentinel_target
from datalayer.redis.passwords import MONITOR_USER
from datalayer.secrets import read_secret
from datalayer.spec import EnvironmentSpec
from datalayer.spec.exporters import Exporters
from datalayer.spec.redis import Redis
from tests.infra.conftest import endpoint_of
from tests.infra.exporters import exporters_of, listening_addresses, private_address, scrape
from tests.infra.postgresql import journal
from tests.infra.redaction import revealed


@pytest.fixture(scope="session")
def exporters(environment: EnvironmentSpec) -> Exporters:
    return exporters_of(environment)


@pytest.fixture(scope="session")
def address(pytestconfig: pytest.Config) -> str:
    return private_address(pytestconfig)


@pytest.fixture
def monitor(
    pytestconfig: pytest.Config, host: Any, redis_spec: Redis, exporters: Exporters
) -> Iterator[redis.Redis]:
    """A client logged in as the exporter's user, from where pytest runs."""
    endpoint = endpoint_of(pytestconfig, "--redis-endpoint", host, redis_spec.port)
    password = revealed(read_secret(exporters.redis_password_secret).get_secret_value())
    client = redis.Redis(
        host=endpoint.address, port=endpoint.port, username=MONITOR_USER, password=password,
        ssl=redis_spec.tls.enabled, ssl_cert_reqs="none", socket_timeout=10,
        decode_responses=True,
    )  # fmt: skip
    yield client
    client.close()


def test_redis_exporter_runs(host: Any, exporters: Exporters) -> None:
    service = host.service(REDIS.service)
    assert service.is_running, journal(host, REDIS.service)
    assert service.is_enabled, journal(host, REDIS.service)


def test_redis_exporter_listens_on_the_private_address_only(
    host: Any, exporters: Exporters, address: str
) -> None:
    assert listening_addresses(host, exporters.redis_port) == {address}


def test_redis_exporter_reaches_redis(host: Any, exporters: Exporters, address: str) -> None:
    samples = scrape(host, address, exporters.redis_port, REDIS.service)
    assert samples.get("redis_up") == 1, journal(host, REDIS.service)


@pytest.mark.parametrize(
    "series",
    ["redis_memory_used_bytes", "redis_memory_max_bytes", "redis_rejected_connections_total",
     "redis_connected_clients", "redis_instance_info"],
)  # fmt: skip
def test_redis_exporter_exposes_what_the_rules_read(
    host: Any, exporters: Exporters, address: str, series: str
) -> None:
    samples = scrape(host, address, exporters.redis_port, REDIS.service)
    assert any(name == series or name.startswith(series + "{") for name in samples)


def test_redis_exporter_scrapes_the_sentinel_beside_it(
    host: Any, redis_spec: Redis, exporters: Exporters, address: str
) -> None:
    target = sentinel_target(redis_spec)
    if target is None:
        pytest.skip("no Sentinel declared (redis.sentinel)")
    path = "/scrape?" + urlencode({"target": target})
    samples = scrape(host, address, exporters.redis_port, REDIS.service, path)
    assert (samples.get("redis_up"), samples.get("redis_sentinel_masters")) == (1, 1)


def test_redis_exporter_file_is_root_only(host: Any) -> None:
    path = host.file(REDIS.environment_file)
    assert (path.user, path.group, path.mode) == ("root", "root", 0o600)


def test_monitoring_user_reads_info(monitor: redis.Redis) -> None:
    assert "used_memory" in cast(dict[str, Any], monitor.info("memory"))


def test_monitoring_user_cannot_get(monitor: redis.Redis) -> None:
    with pytest.raises(redis.exceptions.NoPermissionError):
        monitor.get("datalayer:probe:monitor")


def test_monitoring_user_cannot_set(monitor: redis.Redis) -> None:
    with pytest.raises(redis.exceptions.NoPermissionError):
        monitor.set("datalayer:probe:monitor", "1")


def test_monitoring_user_cannot_read_the_configuration(monitor: redis.Redis) -> None:
    with pytest.raises(redis.exceptions.NoPermissionError):
        monitor.config_get("masterauth")
