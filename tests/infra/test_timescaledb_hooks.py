"""Verify what the post-provision hooks left on a TimescaleDB host: schema, ledger, ownership,
privileges as each login role meets them, and the TimescaleDB policies of the spec.

Catalog questions are asked as postgres over the host's socket; privilege questions as the login
roles themselves, over the network, the way the application and the dashboards connect.
"""

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from datalayer.hooks.build import build_plan
from datalayer.onhost.hooks.plan import HookPlan
from datalayer.render import postgresql_boolean
from datalayer.spec import EnvironmentSpec
from datalayer.spec.timescaledb import Access, LoginRole, TimescaleDb
from datalayer.timescaledb.layout import PostgresqlLayout
from tests.infra.conftest import Endpoint
from tests.infra.postgresql import connect, query, role_password

COMMUNITY_ONLY = "needs TimescaleDB's Community edition; this host runs the {} edition"


@pytest.fixture(scope="module")
def plan(environment: EnvironmentSpec) -> HookPlan:
    return build_plan(environment)


@pytest.fixture(scope="module")
def license_name(host: Any, layout: PostgresqlLayout, spec: TimescaleDb) -> str:
    return query(host, layout, "SHOW timescaledb.license", spec.database)


@pytest.fixture(scope="module")
def data_tables(
    host: Any, layout: PostgresqlLayout, spec: TimescaleDb, plan: HookPlan
) -> list[str]:
    schemas = ",".join(f"'{schema}'" for schema in plan.schemas)
    tables = query(
        host,
        layout,
        "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        f"WHERE c.relkind IN ('r', 'p') AND n.nspname IN ({schemas}) ORDER BY 1",
        spec.database,
    ).split()
    assert tables, f"no table in the data schemas {plan.schemas}"
    return tables


def _role_of(spec: TimescaleDb, access: Access) -> LoginRole:
    for role in spec.roles:
        if role.access is access:
            return role
    pytest.skip(f"the spec declares no {access.value} role")


@pytest.fixture
def reader(
    spec: TimescaleDb, endpoint: Endpoint, writable_server: None
) -> Iterator[psycopg.Connection[Any]]:
    role = _role_of(spec, Access.READ_ONLY)
    with connect(spec, endpoint, role.name, role_password(spec, role.name), autocommit=True) as c:
        # A read-only default is a guard rail, not a privilege: lift it so that the tests below
        # meet the privilege checks themselves.
        c.execute("SET default_transaction_read_only = off")
        yield c


@pytest.fixture
def writer(
    spec: TimescaleDb, endpoint: Endpoint, writable_server: None
) -> Iterator[psycopg.Connection[Any]]:
    role = _role_of(spec, Access.READ_WRITE)
    with connect(spec, endpoint, role.name, role_password(spec, role.name), autocommit=True) as c:
        yield c


def _refused(connection: psycopg.Connection[Any], statements: list[str]) -> list[str]:
    """The statements that were NOT refused with insufficient privilege (each rolled back)."""
    allowed = []
    for statement in statements:
        try:
            with connection.transaction(force_rollback=True):
                connection.execute(statement.encode())
            allowed.append(statement)
        except psycopg.errors.InsufficientPrivilege:
            continue
    return allowed


# --- Schema and ledger -----------------------------------------------------------------------


def test_every_migration_is_recorded_with_its_checksum(
    host: Any, layout: PostgresqlLayout, spec: TimescaleDb, plan: HookPlan
) -> None:
    recorded = query(
        host, layout, "SELECT version || ' ' || checksum FROM datalayer.schema_migrations "
        "ORDER BY version", spec.database,
    ).splitlines()  # fmt: skip
    assert recorded == [f"{m.version} {m.checksum}" for m in plan.migrations]


def test_data_schemas_exist_and_belong_to_the_owner(
    host: Any, layout: PostgresqlLayout, spec: TimescaleDb, plan: HookPlan
) -> None:
    owners = query(
        host, layout, "SELECT nspname || ' ' || pg_get_userbyid(nspowner) FROM pg_namespace "
        f"WHERE nspname IN ({','.join(repr(s) for s in plan.schemas)}) ORDER BY 1", spec.database,
    ).splitlines()  # fmt: skip
    assert owners == sorted(f"{schema} {spec.owner}" for schema in plan.schemas)


def test_every_object_in_the_data_schemas_belongs_to_the_owner(
    host: Any, layout: PostgresqlLayout, spec: TimescaleDb, plan: HookPlan
) -> None:
    others = query(
        host, layout, "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN "
        f"({','.join(repr(s) for s in plan.schemas)}) AND pg_get_userbyid(c.relowner) <> "
        f"'{spec.owner}'", spec.database,
    )  # fmt: skip
    assert others == ""


def test_owner_role_can_run_background_jobs_but_has_no_password(
    host: Any, layout: PostgresqlLayout, spec: TimescaleDb
) -> None:
    # TimescaleDB's job workers connect as the job's owner: it needs LOGIN and CONNECT.
    assert query(
        host, layout, f"SELECT rolcanlogin, rolpassword IS NULL, "
        f"has_database_privilege(rolname, '{spec.database}', 'CONNECT') "
        f"FROM pg_authid WHERE rolname = '{spec.owner}'",
    ) == "t|t|t"  # fmt: skip


def test_nobody_can_log_in_as_the_owner_over_the_network(
    spec: TimescaleDb, endpoint: Endpoint
) -> None:
    with pytest.raises(psycopg.OperationalError, match=r"pg_hba\.conf rejects connection"):
        connect(spec, endpoint, spec.owner, "any password").close()


def test_nobody_can_log_in_as_the_owner_over_the_socket(
    host: Any, layout: PostgresqlLayout, spec: TimescaleDb
) -> None:
    # As root over the socket: the rejects come before any peer or password rule.
    result = host.run(
        "psql --cluster %s -XAtq -U %s -d %s -c 'SELECT 1'",
        layout.cluster_name, spec.owner, spec.database,
    )  # fmt: skip
    assert result.rc != 0
    assert "pg_hba.conf rejects connection" in result.stderr


def test_hypertable_has_the_declared_chunk_interval(
    host: Any, layout: PostgresqlLayout, spec: TimescaleDb, hypertable: str
) -> None:
    schema, name = hypertable.split(".")
    same = query(
        host, layout, "SELECT time_interval = "
        f"'{spec.hypertables[hypertable].chunk_interval}'::interval FROM "
        f"timescaledb_information.dimensions WHERE hypertable_schema = '{schema}' "
        f"AND hypertable_name = '{name}' AND dimension_number = 1", spec.database,
    )  # fmt: skip
    assert same == "t", f"{hypertable} is not a hypertable with the declared chunk interval"


# PostgreSQL packs a B-tree leaf that receives ascending inserts within one group of a composite
# key (one asset's bars arriving in time order) only when an index tuple holds at most two int8s'
# worth of key: _bt_afternewitemoff in src/backend/access/nbtree/nbtsplitloc.c (postgres/postgres
# 091bd6be, "Avoid applying optimization when tuples are wider than a tuple consisting of two
# non-NULL int8/int64 attributes"). A wider key splits every leaf in half for good.
PACKED_KEY_BYTES = 16


def test_candles_primary_key_is_narrow_enough_to_be_packed(
    host: Any, layout: PostgresqlLayout, spec: TimescaleDb
) -> None:
    width = query(
        host, layout, "SELECT sum(a.attlen) FROM pg_index i JOIN pg_attribute a "
        "ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) "
        "WHERE i.indexrelid = 'market_data.candles_pkey'::regclass", spec.database,
    )  # fmt: skip
    assert int(width) <= PACKED_KEY_BYTES


def test_login_role_has_its_declared_attributes(
    host: Any, layout: PostgresqlLayout, login_role_spec: LoginRole
) -> None:
    attributes = query(
        host, layout, "SELECT rolcanlogin, rolsuper OR rolcreaterole OR rolcreatedb OR "
        "rolreplication OR rolbypassrls, rolconnlimit FROM pg_roles WHERE rolname = "
        f"'{login_role_spec.name}'",
    )  # fmt: skip
    assert attributes == f"t|f|{login_role_spec.connection_limit}"


def test_login_role_has_its_declared_settings(
    spec: TimescaleDb, endpoint: Endpoint, login_role_spec: LoginRole
) -> None:
    password = role_password(spec, login_role_spec.name)
    with connect(spec, endpoint, login_role_spec.name, password) as connection:
        in_force = {
            name: connection.execute("SELECT current_setting(%s)", (name,)).fetchone()
            for name in login_role_spec.settings
        }
        declared = {}
        for name, value in login_role_spec.settings.items():
            # The server's own spelling of the declared value ('60s' is shown as '1min').
            text = postgresql_boolean(value) if isinstance(value, bool) else str(value)
            with connection.transaction(force_rollback=True):
                connection.execute("SELECT set_config(%s, %s, true)", (name, text))
                declared[name] = connection.execute(
                    "SELECT current_setting(%s)", (name,)
                ).fetchone()
    assert in_force == declared


# --- Privileges as the roles meet them ------------------------------------------------------


def test_reader_can_select_every_table(
    reader: psycopg.Connection[Any], data_tables: list[str]
) -> None:
    refused = []
    for table in data_tables:
        try:
            reader.execute(f"SELECT * FROM {table} LIMIT 1".encode())
        except psycopg.errors.InsufficientPrivilege:
            refused.append(table)
    assert refused == []


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO {} DEFAULT VALUES",
        "UPDATE {} SET {} = {} WHERE false",
        "DELETE FROM {} WHERE false",
    ],
    ids=["insert", "update", "delete"],
)
def test_reader_cannot_change_rows(
    reader: psycopg.Connection[Any], data_tables: list[str], statement: str, host: Any,
    layout: PostgresqlLayout, spec: TimescaleDb,
) -> None:  # fmt: skip
    statements = []
    for table in data_tables:
        column = _first_column(host, layout, spec, table)
        statements.append(statement.format(table, column, column))
    assert _refused(reader, statements) == []


def _first_column(host: Any, layout: PostgresqlLayout, spec: TimescaleDb, table: str) -> str:
    return query(
        host, layout, f"SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = "
        f"'{table}'::regclass AND attnum = 1", spec.database,
    )  # fmt: skip


def _creations(plan: HookPlan) -> list[str]:
    statements = [f"CREATE TABLE {schema}.datalayer_probe (x int)" for schema in plan.schemas]
    return [*statements, "CREATE TABLE public.datalayer_probe (x int)", "CREATE SCHEMA probe"]


def test_reader_cannot_create_in_any_schema(
    reader: psycopg.Connection[Any], plan: HookPlan
) -> None:
    assert _refused(reader, _creations(plan)) == []


def test_writer_cannot_create_in_any_schema(
    writer: psycopg.Connection[Any], plan: HookPlan
) -> None:
    assert _refused(writer, _creations(plan)) == []


@pytest.mark.parametrize(
    "statement",
    ["DROP TABLE {}", "TRUNCATE {}", "ALTER TABLE {} ADD COLUMN datalayer_probe int"],
    ids=["drop", "truncate", "alter"],
)
def test_writer_cannot_change_the_schema(
    writer: psycopg.Connection[Any], data_tables: list[str], statement: str
) -> None:
    statements = [statement.format(table) for table in data_tables]
    # DROP and ALTER need ownership: PostgreSQL answers "must be owner", also SQLSTATE 42501.
    assert _refused(writer, statements) == []


def test_writer_may_write_every_table(
    writer: psycopg.Connection[Any], data_tables: list[str]
) -> None:
    lacking = []
    for table in data_tables:
        row = writer.execute(
            "SELECT has_table_privilege(%s, 'SELECT, INSERT, UPDATE, DELETE')", (table,)
        ).fetchone()
        if row != (True,):
            lacking.append(table)
    assert lacking == []


# sql/README.md's re-ingest statement, cut to one column: a loader resolves its asset to
# assets.key, and a bar loaded again updates the row its natural key names.
_UPSERT_CANDLE = (
    "INSERT INTO market_data.candles AS c "
    "(ts, asset_key, timeframe, open, high, low, close, volume, source) "
    "SELECT '2024-01-01 00:00+00', key, '1m', 1, 2, 1, %s, 5, 'probe' FROM market_data.assets "
    "WHERE symbol = 'DATALAYER_PROBE' AND exchange = 'probe' "
    "ON CONFLICT (asset_key, timeframe, ts) DO UPDATE SET close = EXCLUDED.close, "
    "updated_at = now()"
)


def test_re_ingesting_a_candle_updates_it_instead_of_duplicating_it(
    writer: psycopg.Connection[Any],
) -> None:
    with writer.transaction(force_rollback=True):
        writer.execute(
            "INSERT INTO market_data.assets (symbol, asset_type, exchange) "
            "VALUES ('DATALAYER_PROBE', 'stock', 'probe')"
        )
        writer.execute(_UPSERT_CANDLE, (Decimal("1.5"),))
        writer.execute(_UPSERT_CANDLE, (Decimal("1.8"),))
        closes = writer.execute(
            "SELECT c.close FROM market_data.candles c JOIN market_data.assets a "
            "ON a.key = c.asset_key WHERE a.symbol = 'DATALAYER_PROBE'"
        ).fetchall()
    assert closes == [(Decimal("1.8"),)]


def test_login_roles_cannot_read_the_ledger(reader: psycopg.Connection[Any]) -> None:
    assert _refused(reader, ["SELECT * FROM datalayer.schema_migrations"]) == []


# --- TimescaleDB policies ---------------------------------------------------------------------


def _job_matches(
    host: Any, layout: PostgresqlLayout, spec: TimescaleDb, procedure: str, table: str,
    key: str, value: str,
) -> str:  # fmt: skip
    schema, name = table.split(".")
    return query(
        host, layout, f"SELECT (config->>'{key}')::interval = '{value}'::interval FROM "
        f"timescaledb_information.jobs WHERE proc_name = '{procedure}' AND hypertable_schema = "
        f"'{schema}' AND hypertable_name = '{name}'", spec.database,
    )  # fmt: skip


def test_compression_is_as_declared(
    host: Any, layout: PostgresqlLayout, spec: TimescaleDb, hypertable: str, license_name: str
) -> None:
    compression = spec.hypertables[hypertable].compression
    if compression is None:
        pytest.skip(f"the spec declares no compression for {hypertable}")
    if license_name != "timescale":
        pytest.skip(f"compression on {hypertable} {COMMUNITY_ONLY.format(license_name)}")
    assert _job_matches(
        host, layout, spec, "policy_compression", hypertable, "compress_after",
        compression.compress_after,
    ) == "t"  # fmt: skip


def test_retention_is_as_declared(
    host: Any, layout: PostgresqlLayout, spec: TimescaleDb, hypertable: str, license_name: str
) -> None:
    retention = spec.hypertables[hypertable].retention
    if retention is None:
        pytest.skip(f"the spec declares no retention for {hypertable}")
    if license_name != "timescale":
        pytest.skip(f"retention on {hypertable} {COMMUNITY_ONLY.format(license_name)}")
    assert _job_matches(
        host, layout, spec, "policy_retention", hypertable, "drop_after", retention.drop_after
    ) == "t"  # fmt: skip


def test_continuous_aggregates_exist_and_the_reader_can_read_them(
    spec: TimescaleDb, reader: psycopg.Connection[Any], license_name: str
) -> None:
    if not spec.continuous_aggregates:
        pytest.skip("the spec declares no continuous aggregate")
    if license_name != "timescale":
        views = ", ".join(spec.continuous_aggregates)
        pytest.skip(f"continuous aggregates ({views}) {COMMUNITY_ONLY.format(license_name)}")
    for view in spec.continuous_aggregates:
        reader.execute(f"SELECT * FROM {view} LIMIT 1".encode())
