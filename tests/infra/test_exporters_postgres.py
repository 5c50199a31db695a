"""Verify a TimescaleDB host's PostgreSQL exporter and the role it logs in as.

Part of the timescaledb group's suite (``datalayer.verify``); skips where the environment
declares no ``monitoring``. The exporter is scraped from the host itself; the role's rights are
read from the catalogue as postgres, and its logins tried from where pytest runs.
"""

from typing import Any

import psycopg
import pytest

from datalayer.hooks.sources import read_sources
from datalayer.monitoring.exporters import POSTGRES
from datalayer.paths import SQL_DIRECTORY
from datalayer.secrets import read_secret
from datalayer.spec import EnvironmentSpec
from datalayer.spec.exporters import Exporters
from datalayer.spec.timescaledb import TimescaleDb
from datalayer.timescaledb.layout import PostgresqlLayout
from tests.infra.conftest import Endpoint
from tests.infra.exporters import exporters_of, listening_addresses, private_address, scrape
from tests.infra.postgresql import connect, journal, query
from tests.infra.redaction import revealed


@pytest.fixture(scope="session")
def exporters(environment: EnvironmentSpec) -> Exporters:
    return exporters_of(environment)


@pytest.fixture(scope="session")
def address(pytestconfig: pytest.Config) -> str:
    return private_address(pytestconfig)


@pytest.fixture(scope="session")
def monitor_password(exporters: Exporters) -> str:
    return revealed(read_secret(exporters.postgres_password_secret).get_secret_value())


def test_postgres_exporter_runs(host: Any, exporters: Exporters) -> None:
    service = host.service(POSTGRES.service)
    assert service.is_running, journal(host, POSTGRES.service)
    assert service.is_enabled, journal(host, POSTGRES.service)


def test_postgres_exporter_listens_on_the_private_address_only(
    host: Any, exporters: Exporters, address: str
) -> None:
    assert listening_addresses(host, exporters.postgres_port) == {address}


def test_postgres_exporter_reaches_postgresql(
    host: Any, exporters: Exporters, address: str
) -> None:
    samples = scrape(host, address, exporters.postgres_port, POSTGRES.service)
    assert samples.get("pg_up") == 1, journal(host, POSTGRES.service)


@pytest.mark.parametrize(
    "series",
    [
        "pg_settings_max_connections",
        "pg_stat_archiver_failed_count",
        "pg_stat_archiver_archived_count",
        "pg_stat_activity_count",
        "pg_stat_activity_max_tx_duration",
        "pg_replication_is_replica",
    ],
)
def test_postgres_exporter_exposes_what_the_rules_read(
    host: Any, exporters: Exporters, address: str, series: str
) -> None:
    samples = scrape(host, address, exporters.postgres_port, POSTGRES.service)
    assert any(name == series or name.startswith(series + "{") for name in samples)


def test_postgres_exporter_file_is_root_only(host: Any) -> None:
    path = host.file(POSTGRES.environment_file)
    assert (path.user, path.group, path.mode) == ("root", "root", 0o600)


def test_monitoring_role_is_a_member_of_pg_monitor_only(
    host: Any, layout: PostgresqlLayout, exporters: Exporters
) -> None:
    memberships = query(
        host, layout,
        "SELECT string_agg(g.rolname, ',' ORDER BY g.rolname) FROM pg_auth_members m "
        "JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles r ON r.oid = m.member "
        f"WHERE r.rolname = '{exporters.postgres_role}'",
    )  # fmt: skip
    assert memberships == "pg_monitor"


def test_monitoring_role_has_no_dangerous_attribute(
    host: Any, layout: PostgresqlLayout, exporters: Exporters
) -> None:
    attributes = query(
        host, layout,
        "SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, "
        f"rolcanlogin, rolconnlimit FROM pg_roles WHERE rolname = '{exporters.postgres_role}'",
    )  # fmt: skip
    limit = exporters.postgres_connection_limit
    assert attributes == f"f|f|f|f|f|t|{limit}"


def test_monitoring_role_cannot_read_the_applications_tables(
    host: Any, layout: PostgresqlLayout, spec: TimescaleDb, exporters: Exporters
) -> None:
    role = exporters.postgres_role
    schemas = ", ".join(f"'{schema}'" for schema in read_sources(SQL_DIRECTORY).schemas)
    readable = query(
        host, layout,
        f"SELECT count(*) FILTER (WHERE has_table_privilege('{role}', c.oid, 'SELECT')) "
        "|| '/' || count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        f"WHERE c.relkind IN ('r', 'p', 'v', 'm') AND n.nspname IN ({schemas})",
        database=spec.database,
    )  # fmt: skip
    readable_tables, tables = readable.split("/")
    assert int(tables) > 0 and readable_tables == "0"


def test_monitoring_role_cannot_connect_to_the_applications_database(
    host: Any, layout: PostgresqlLayout, spec: TimescaleDb, exporters: Exporters
) -> None:
    allowed = query(
        host, layout,
        f"SELECT has_database_privilege('{exporters.postgres_role}', '{spec.database}', "
        "'CONNECT')",
    )  # fmt: skip
    assert allowed == "f"


def test_monitoring_role_is_refused_over_the_network(
    spec: TimescaleDb, endpoint: Endpoint, exporters: Exporters, monitor_password: str
) -> None:
    with pytest.raises(psycopg.OperationalError, match=r"pg_hba\.conf rejects"):
        connect(spec, endpoint, exporters.postgres_role, monitor_password, dbname="postgres")
