"""Versioned SQL files, applied in order, each in its own transaction, as the owner role.

The ledger (``datalayer.schema_migrations``, readable by superusers only) records each applied
file's version, name and SHA-256. A file changed after it was applied, or a version in the
ledger that no file has, stops the hooks before any change: the database and the checkout
disagree, and only a person can say which is right.
"""

import psycopg
from psycopg import sql

from datalayer.onhost.hooks.context import Connection, Context
from datalayer.onhost.hooks.report import HookError, Status

LEDGER_SCHEMA = "datalayer"
LEDGER_TABLE = "schema_migrations"
AGGREGATE_LEDGER_TABLE = "continuous_aggregates"
HISTORY_COLUMN = "history_materialized_at"
"""When the hooks finished materializing a continuous aggregate's history; NULL until then."""
_LEDGER = sql.Identifier(LEDGER_SCHEMA, LEDGER_TABLE)


def applied_migrations(connection: Connection) -> dict[str, tuple[str, str]]:
    """Version -> (checksum, applied at) of every recorded migration; empty without a ledger."""
    if not _exists(connection, f"{LEDGER_SCHEMA}.{LEDGER_TABLE}"):
        return {}
    rows = connection.execute(
        sql.SQL("SELECT version, checksum, applied_at::text FROM {}").format(_LEDGER)
    ).fetchall()
    return {str(version): (str(checksum), str(at)) for version, checksum, at in rows}


def check_ledger(context: Context, connection: Connection) -> None:
    """Refuse a ledger that the migration files contradict (before any change)."""
    files = {migration.version: migration for migration in context.plan.migrations}
    for version, (checksum, applied_at) in sorted(applied_migrations(connection).items()):
        migration = files.get(version)
        if migration is None:
            raise HookError(
                f"migration {version} was applied on {applied_at} but sql/migrations has no "
                "file with that version: this checkout is older than the database"
            )
        if migration.checksum != checksum:
            raise HookError(
                f"{migration.source} was changed after it was applied on {applied_at} "
                f"(checksum {checksum[:12]} in the ledger, {migration.checksum[:12]} now): "
                "restore the file and put the change in a new migration"
            )


def converge_migrations(context: Context, connection: Connection) -> None:
    """Apply every migration the ledger does not hold, in version order."""
    _converge_ledger(context, connection)
    applied = applied_migrations(connection)
    for migration in context.plan.migrations:
        label = f"{migration.version}_{migration.name}"
        if migration.version in applied:
            context.tell(Status.UNCHANGED, "migration", label)
            continue
        record = sql.SQL("INSERT INTO {} (version, name, checksum) VALUES ({}, {}, {})").format(
            _LEDGER,
            sql.Literal(migration.version),
            sql.Literal(migration.name),
            sql.Literal(migration.checksum),
        )
        try:
            context.converge(
                connection,
                Status.CREATED,
                "migration",
                label,
                f"applied {migration.source}",
                [
                    # The file is trusted repository SQL, run as written (several statements).
                    sql.SQL(migration.sql),
                    sql.SQL("RESET ROLE"),
                    record,
                ],
                as_owner=True,
            )
        except psycopg.Error as error:
            raise HookError(
                f"{migration.source}{_line_of(error, migration.sql)}: {_message(error)}; "
                "the migration was rolled back, the database is as it was before it"
            ) from None


def _converge_ledger(context: Context, connection: Connection) -> None:
    """The ledger schema: applied migrations, and the definitions continuous aggregates were
    created from with when their history was materialized. Superusers only: PUBLIC and the
    login roles cannot even see into it."""
    missing = [
        table
        for table in (LEDGER_TABLE, AGGREGATE_LEDGER_TABLE)
        if not _exists(connection, f"{LEDGER_SCHEMA}.{table}")
    ]
    aggregates = sql.Identifier(LEDGER_SCHEMA, AGGREGATE_LEDGER_TABLE)
    if not missing:
        _converge_history_column(context, connection, aggregates)
        return
    context.converge(
        connection,
        Status.CREATED,
        "ledger",
        LEDGER_SCHEMA,
        ", ".join(missing),
        [
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(LEDGER_SCHEMA)),
            sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(sql.Identifier(LEDGER_SCHEMA)),
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (version text PRIMARY KEY, name text NOT NULL, "
                "checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(), "
                "applied_by text NOT NULL DEFAULT session_user)"
            ).format(_LEDGER),
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (view text PRIMARY KEY, checksum text NOT NULL, "
                "created_at timestamptz NOT NULL DEFAULT now(), {} timestamptz)"
            ).format(aggregates, sql.Identifier(HISTORY_COLUMN)),
        ],
    )


def _converge_history_column(
    context: Context, connection: Connection, aggregates: sql.Identifier
) -> None:
    """Ledgers written before history was materialized lack the column: add it, empty, so that
    the views they list get their history on this run."""
    row = connection.execute(
        "SELECT 1 FROM pg_attribute WHERE attrelid = %s::regclass AND attname = %s "
        "AND NOT attisdropped",
        (f"{LEDGER_SCHEMA}.{AGGREGATE_LEDGER_TABLE}", HISTORY_COLUMN),
    ).fetchone()
    if row is not None:
        return
    context.converge(
        connection,
        Status.CHANGED,
        "ledger",
        LEDGER_SCHEMA,
        f"{AGGREGATE_LEDGER_TABLE}.{HISTORY_COLUMN} added",
        [
            sql.SQL("ALTER TABLE {} ADD COLUMN {} timestamptz").format(
                aggregates, sql.Identifier(HISTORY_COLUMN)
            )
        ],
    )


def _exists(connection: Connection, table: str) -> bool:
    row = connection.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()
    return row is not None and bool(row[0])


def _message(error: psycopg.Error) -> str:
    return error.diag.message_primary or str(error).splitlines()[0]


def _line_of(error: psycopg.Error, text: str) -> str:
    """``, line N`` where the server says the error is, for a syntax error; else nothing."""
    position = error.diag.statement_position
    if not position:
        return ""
    return f", line {text[: int(position) - 1].count(chr(10)) + 1}"
