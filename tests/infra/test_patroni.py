"""Verify a cluster member's Patroni against its environment spec.

Runs on the host itself as root (patronictl reads the REST API's password from Patroni's
configuration file, which only postgres and root can read; the suite holds no password):
packages, the units (Patroni's running, postgresql-common's never started), the member's
place in the cluster, the configuration file's owner and mode, TimescaleDB loaded under
Patroni, and the REST API refusing a change without its password. Skipped on an environment
that declares no cluster.
"""

import json
from typing import Any

import pytest

from datalayer.cluster.patroni import patroni_config_path
from datalayer.spec import EnvironmentSpec
from datalayer.spec.cluster import Cluster
from datalayer.timescaledb.config import SHARED_PRELOAD_LIBRARIES
from datalayer.timescaledb.layout import PostgresqlLayout, patroni_layout
from deploy.timescaledb.cluster import CLUSTER_PACKAGES
from tests.infra.postgresql import journal


@pytest.fixture(scope="session")
def cluster(environment: EnvironmentSpec) -> Cluster:
    if environment.timescaledb.cluster is None:
        pytest.skip(f"Pulumi.{environment.name}.yaml declares no timescaledb.cluster")
    return environment.timescaledb.cluster


@pytest.fixture(scope="session")
def layout(environment: EnvironmentSpec, cluster: Cluster) -> PostgresqlLayout:
    return patroni_layout(environment.timescaledb)


def listing(host: Any, layout: PostgresqlLayout) -> dict[str, dict[str, Any]]:
    """``patronictl list`` on the host, by member name."""
    output = host.check_output(f"patronictl -c {patroni_config_path(layout)} list -f json")
    return {member["Member"]: member for member in json.loads(output)}


@pytest.fixture
def member(host: Any, layout: PostgresqlLayout) -> dict[str, Any]:
    """This host in ``patronictl list``: Patroni's member name is the inventory's host name,
    the name testinfra reaches it by."""
    members = listing(host, layout)
    name = host.backend.get_hostname()
    assert name in members, f"{name} is not a member of {sorted(members)}"
    return members[name]


@pytest.mark.parametrize("package", [p for p in CLUSTER_PACKAGES if p != "haproxy"])
def test_package_is_installed(host: Any, cluster: Cluster, package: str) -> None:
    assert host.package(package).is_installed


def test_patroni_unit_is_enabled_and_running(host: Any, layout: PostgresqlLayout) -> None:
    assert layout.service is not None
    service = host.service(layout.service)
    assert (service.is_running, service.is_enabled) == (True, True), journal(host, layout.service)


def test_debian_cluster_unit_never_starts_the_cluster(host: Any, layout: PostgresqlLayout) -> None:
    start_conf = host.file(f"{layout.config_directory}/start.conf").content_string
    unit = f"postgresql@{layout.version}-{layout.cluster}"
    assert (host.service(unit).is_running, start_conf.splitlines()[-1]) == (False, "manual")


def test_member_runs_postgresql(member: dict[str, Any]) -> None:
    assert member["State"] in ("running", "streaming"), member


def test_cluster_has_one_leader(host: Any, layout: PostgresqlLayout, cluster: Cluster) -> None:
    roles = [member["Role"] for member in listing(host, layout).values()]
    assert roles.count("Leader") == 1, roles


def test_configuration_is_readable_by_postgres_only(
    host: Any, layout: PostgresqlLayout, cluster: Cluster
) -> None:
    configuration = host.file(patroni_config_path(layout))
    assert (configuration.user, configuration.group, configuration.mode) == (
        "postgres", "postgres", 0o600,
    )  # fmt: skip


def test_timescaledb_is_preloaded_under_patroni(host: Any, layout: PostgresqlLayout) -> None:
    shown = host.check_output(
        "runuser -u postgres -- psql -XAtq -d postgres -c 'SHOW shared_preload_libraries'"
    )
    assert shown == ",".join(SHARED_PRELOAD_LIBRARIES)


def test_rest_api_refuses_a_restart_without_its_password(
    host: Any, member: dict[str, Any], cluster: Cluster
) -> None:
    url = f"http://{member['Host']}:{cluster.rest_api_port}/restart"
    status = host.check_output(f"curl -s -o /dev/null -w '%{{http_code}}' -X POST {url}")
    assert status == "401"


def test_replication_is_allowed_from_the_members_only(
    host: Any, layout: PostgresqlLayout, cluster: Cluster
) -> None:
    rows = host.check_output(
        "runuser -u postgres -- psql -XAtq -d postgres -c %s",
        "SELECT array_to_string(user_name, ','), address FROM pg_hba_file_rules "
        "WHERE type <> 'local' AND user_name && "
        f"ARRAY['{cluster.replication_role}', '{cluster.rewind_role}']::text[]",
    ).splitlines()
    addresses = {member["Host"] for member in listing(host, layout).values()}
    assert sorted(rows) == sorted(
        f"{role}|{address}"
        for role in (cluster.replication_role, cluster.rewind_role)
        for address in addresses
    )
