"""Options and fixtures for verifying provisioned hosts with testinfra.

    pytest tests/infra --hosts=ssh://db-1 --ssh-config=FILE --env=prod [--pg-endpoint=ADDR:PORT]

Commands on the host run as root (connect as root, or add ``--sudo``). Logins are tried from
where pytest runs, through ``--pg-endpoint`` (default: the host's name and the spec's port), with
the passwords from the same secrets the deploy used.
"""

from dataclasses import dataclass
from typing import Any

import pytest

from datalayer.spec import EnvironmentSpec, load_environment
from datalayer.spec.redis import Redis
from datalayer.spec.timescaledb import TimescaleDb
from datalayer.timescaledb.layout import PostgresqlLayout, debian_layout, patroni_layout
from tests.infra.redaction import pytest_runtest_makereport

__all__ = ["pytest_runtest_makereport"]  # a hook of every suite here: secrets out of reports


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("datalayer")
    group.addoption(
        "--env", default=None, help="environment the hosts belong to (Pulumi.<env>.yaml)"
    )
    group.addoption(
        "--pg-endpoint",
        default=None,
        help="ADDRESS:PORT where this machine reaches PostgreSQL on the host under test",
    )
    group.addoption(
        "--pg-cluster",
        default=None,
        help="postgresql-common cluster on the host to check instead of the spec's "
        "debian_cluster (a restore drill's copy: restore-drill)",
    )
    group.addoption(
        "--redis-endpoint",
        default=None,
        help="ADDRESS:PORT where this machine reaches Redis on the host under test",
    )
    group.addoption(
        "--etcd-endpoint",
        default=None,
        help="ADDRESS:PORT of the etcd member under test on its private network, checked from "
        "the host itself",
    )
    group.addoption(
        "--sentinel-endpoint",
        default=None,
        help="ADDRESS:PORT where this machine reaches Redis Sentinel on the host under test",
    )
    group.addoption(
        "--private-address",
        default=None,
        help="the host's private address, where its exporters listen (monitoring declared)",
    )
    group.addoption(
        "--influxdb-endpoint",
        default=None,
        help="ADDRESS:PORT where this machine reaches InfluxDB's API on the host under test",
    )


def _environment(config: pytest.Config) -> EnvironmentSpec:
    name = config.getoption("--env")
    if not name:
        raise pytest.UsageError("tests/infra needs --env=<environment> (e.g. --env=prod)")
    return load_environment(str(name))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per tuned setting, hypertable and login role, so that one wrong value does not
    hide the others."""
    if "tuned_setting" in metafunc.fixturenames:
        settings = _environment(metafunc.config).timescaledb.tuned_settings()
        metafunc.parametrize("tuned_setting", sorted(settings.items()), ids=sorted(settings))
    if "hypertable" in metafunc.fixturenames:
        tables = sorted(_environment(metafunc.config).timescaledb.hypertables)
        metafunc.parametrize("hypertable", tables, ids=tables)
    if "login_role_spec" in metafunc.fixturenames:
        roles = _environment(metafunc.config).timescaledb.roles
        metafunc.parametrize("login_role_spec", roles, ids=[role.name for role in roles])


@pytest.fixture(scope="session")
def environment(pytestconfig: pytest.Config) -> EnvironmentSpec:
    return _environment(pytestconfig)


@pytest.fixture(scope="session")
def spec(environment: EnvironmentSpec) -> TimescaleDb:
    return environment.timescaledb


@pytest.fixture(scope="session")
def redis_spec(environment: EnvironmentSpec) -> Redis:
    """The environment's Redis section, which the redis group's suites need."""
    if environment.redis is None:
        pytest.fail(f"Pulumi.{environment.name}.yaml has no datalayer:redis section")
    return environment.redis


@pytest.fixture(scope="session")
def layout(pytestconfig: pytest.Config, spec: TimescaleDb) -> PostgresqlLayout:
    """postgresql-common's layout; a cluster member's runs under Patroni's unit; with
    ``--pg-cluster``, that cluster's (a restore drill's copy)."""
    cluster = pytestconfig.getoption("--pg-cluster")
    if cluster:
        return debian_layout(spec.model_copy(update={"debian_cluster": cluster}))
    return debian_layout(spec) if spec.cluster is None else patroni_layout(spec)


@pytest.fixture
def writable_server(host: Any, layout: PostgresqlLayout) -> None:
    """Skips the test on a cluster's replica, which replication keeps read-only: what needs
    writes is checked where the suite runs on the leader."""
    in_recovery = host.check_output(
        "runuser -u postgres -- psql --cluster %s -XAtq -d postgres -c %s",
        layout.cluster_name,
        "SELECT pg_is_in_recovery()",
    )
    if in_recovery == "t":
        pytest.skip("a replica of the cluster: writes are checked on its leader")


@dataclass(frozen=True)
class Endpoint:
    address: str
    port: int


def endpoint_of(config: pytest.Config, option: str, host: Any, port: int) -> Endpoint:
    """The ``ADDRESS:PORT`` given in ``option``, else the SSH host's address and ``port``."""
    given = config.getoption(option)
    if given:
        address, _, given_port = str(given).rpartition(":")
        return Endpoint(address, int(given_port))
    return Endpoint(host.backend.get_hostname(), port)


@pytest.fixture
def endpoint(pytestconfig: pytest.Config, host: Any, spec: TimescaleDb) -> Endpoint:
    """Where this machine reaches the PostgreSQL of the host under test."""
    return endpoint_of(pytestconfig, "--pg-endpoint", host, spec.port)
