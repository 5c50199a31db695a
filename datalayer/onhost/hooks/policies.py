"""TimescaleDB policies: chunk intervals, compression, retention, continuous aggregates.

Each is compared with what the server holds (``timescaledb_information``) and changed in place:
a policy whose value changed is removed and added again, never added twice. Compression,
retention and continuous aggregates need the Community edition (``timescaledb.license =
timescale``); on the Apache edition a policy marked optional is skipped with a warning, and one
not marked stops the hooks before any change (:func:`check_edition`).
"""

import itertools

import psycopg
from psycopg import sql

from datalayer.onhost.hooks.context import Connection, Context, Statement, qualified
from datalayer.onhost.hooks.migrations import AGGREGATE_LEDGER_TABLE, HISTORY_COLUMN, LEDGER_SCHEMA
from datalayer.onhost.hooks.plan import (
    CompressionPlan,
    ContinuousAggregatePlan,
    HookPlan,
    HypertablePlan,
    RetentionPlan,
)
from datalayer.onhost.hooks.report import HookError, Status

COMMUNITY_LICENSE = "timescale"
AGGREGATE_LEDGER = sql.Identifier(LEDGER_SCHEMA, AGGREGATE_LEDGER_TABLE)


def edition(connection: Connection) -> str:
    """``timescaledb.license`` of the server: 'timescale' (Community) or 'apache'.

    The setting exists only once the extension is loaded in a database, so it is read inside a
    transaction that creates the extension and is rolled back: nothing changes.
    """
    try:
        with connection.transaction(force_rollback=True):
            connection.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
            row = connection.execute(
                "SELECT current_setting('timescaledb.license', true)"
            ).fetchone()
    except psycopg.Error as error:
        raise HookError(
            f"cannot load the timescaledb extension ({str(error).strip().splitlines()[0]}); "
            "is timescaledb in shared_preload_libraries?"
        ) from None
    if row is None or not row[0]:
        raise HookError("timescaledb.license is not set even with the extension loaded")
    return str(row[0])


def _features(plan: HookPlan) -> list[tuple[str, str, bool]]:
    """(feature, table or view, optional) of everything the plan asks of the Community edition."""
    wanted: list[tuple[str, str, bool]] = []
    for table in plan.hypertables:
        if table.compression is not None:
            wanted.append(("compression", table.table, table.compression.optional))
        if table.retention is not None:
            wanted.append(("retention policy", table.table, table.retention.optional))
    for view in plan.continuous_aggregates:
        wanted.append(("continuous aggregate", view.view, view.optional))
    return wanted


def check_edition(plan: HookPlan, license_name: str) -> None:
    """Stop, before any change, if the plan needs what this edition lacks and is not optional."""
    if license_name == COMMUNITY_LICENSE:
        return
    missing = [
        f"{feature} on {name}" for feature, name, optional in _features(plan) if not optional
    ]
    if missing:
        raise HookError(
            f"the server runs TimescaleDB's {license_name} edition (timescaledb.license = "
            f"{license_name}), which lacks {'; '.join(missing)}; install the Community edition "
            "(timescaledb.package_source: timescale) or mark these policies optional: true"
        )


def converge_hypertables(context: Context, connection: Connection, license_name: str) -> None:
    """Chunk interval, compression and retention of every hypertable in the plan."""
    for table in context.plan.hypertables:
        _converge_chunk_interval(context, connection, table)
        if license_name != COMMUNITY_LICENSE:
            for feature, policy in (
                ("compression", table.compression),
                ("retention", table.retention),
            ):
                if policy is not None:
                    context.tell(
                        Status.SKIPPED,
                        feature,
                        table.table,
                        f"WARNING: the {license_name} edition lacks it (marked optional)",
                    )
            continue
        _converge_compression(context, connection, table.table, table.compression)
        _converge_retention(context, connection, table.table, table.retention)


def _schema_and_name(qualified: str) -> tuple[str, str]:
    """A hypertable's or continuous aggregate's ``schema.name`` (the spec's form) as the two
    columns timescaledb_information's views hold it in."""
    schema, name = qualified.split(".")
    return schema, name


def _converge_chunk_interval(
    context: Context, connection: Connection, table: HypertablePlan
) -> None:
    row = connection.execute(
        "SELECT time_interval::text, time_interval = %s::interval "
        "FROM timescaledb_information.dimensions WHERE hypertable_schema = %s "
        "AND hypertable_name = %s AND dimension_number = 1",
        (table.chunk_interval, *_schema_and_name(table.table)),
    ).fetchone()
    if row is None:
        raise HookError(
            f"{table.table} is not a hypertable, but the spec sets its chunk_interval; "
            "the migrations that create it have not made it one"
        )
    current, same = row
    if same:
        context.tell(Status.UNCHANGED, "chunk_interval", table.table, table.chunk_interval)
        return
    context.converge(
        connection,
        Status.CHANGED,
        "chunk_interval",
        table.table,
        f"{current} -> {table.chunk_interval} (chunks created from now on)",
        [
            sql.SQL("SELECT set_chunk_time_interval({}, {}::interval)").format(
                sql.Literal(table.table), sql.Literal(table.chunk_interval)
            )
        ],
        as_owner=True,
    )


def _job(connection: Connection, procedure: str, table: str, key: str, value: str) -> bool | None:
    """Whether the table's job running ``procedure`` has ``config->>key`` equal to ``value``
    as an interval; None when there is no such job."""
    row = connection.execute(
        "SELECT (config->>%s)::interval = %s::interval FROM timescaledb_information.jobs "
        "WHERE proc_name = %s AND hypertable_schema = %s AND hypertable_name = %s",
        (key, value, procedure, *_schema_and_name(table)),
    ).fetchone()
    return None if row is None else bool(row[0])


def _converge_compression(
    context: Context, connection: Connection, table: str, compression: CompressionPlan | None
) -> None:
    target = qualified(table)
    if compression is None:
        if _job(connection, "policy_compression", table, "compress_after", "0") is None:
            return
        context.converge(
            connection,
            Status.CHANGED,
            "compression",
            table,
            "policy removed (compressed chunks stay compressed)",
            [sql.SQL("SELECT remove_compression_policy({})").format(sql.Literal(table))],
            as_owner=True,
        )
        return
    statements: list[Statement] = []
    changes: list[str] = []
    row = connection.execute(
        "SELECT coalesce(array_to_string(segmentby, ','), ''), "
        "coalesce((SELECT string_agg(o || CASE WHEN d THEN ' DESC' ELSE '' END, ',') "
        "FROM unnest(orderby, orderby_desc) AS u(o, d)), '') "
        "FROM _timescaledb_catalog.compression_settings WHERE relid = %s::regclass",
        (table,),
    ).fetchone()
    segment_by = ",".join(compression.segment_by)
    order_by = ",".join(compression.order_by)
    if row is None or (row[0], row[1]) != (segment_by, order_by):
        statements.append(
            sql.SQL(
                "ALTER TABLE {} SET (timescaledb.compress, timescaledb.compress_segmentby = {}, "
                "timescaledb.compress_orderby = {})"
            ).format(target, sql.Literal(segment_by), sql.Literal(order_by))
        )
        changes.append(f"segment_by [{segment_by}], order_by [{order_by}]")
    same = _job(
        connection, "policy_compression", table, "compress_after", compression.compress_after
    )
    if not same:
        if same is False:
            statements.append(
                sql.SQL("SELECT remove_compression_policy({})").format(sql.Literal(table))
            )
        statements.append(
            sql.SQL("SELECT add_compression_policy({}, compress_after => {}::interval)").format(
                sql.Literal(table), sql.Literal(compression.compress_after)
            )
        )
        changes.append(f"compress_after {compression.compress_after}")
    _report(context, connection, "compression", table, row is None, changes, statements)


def _converge_retention(
    context: Context, connection: Connection, table: str, retention: RetentionPlan | None
) -> None:
    same = _job(
        connection,
        "policy_retention",
        table,
        "drop_after",
        "0" if retention is None else retention.drop_after,
    )
    if retention is None:
        if same is not None:
            context.converge(
                connection,
                Status.CHANGED,
                "retention",
                table,
                "policy removed (chunks are kept)",
                [sql.SQL("SELECT remove_retention_policy({})").format(sql.Literal(table))],
                as_owner=True,
            )
        return
    statements: list[Statement] = []
    if same is False:
        statements.append(sql.SQL("SELECT remove_retention_policy({})").format(sql.Literal(table)))
    if not same:
        statements.append(
            sql.SQL("SELECT add_retention_policy({}, drop_after => {}::interval)").format(
                sql.Literal(table), sql.Literal(retention.drop_after)
            )
        )
    changes = [f"drop_after {retention.drop_after}"] if statements else []
    _report(context, connection, "retention", table, same is None, changes, statements)


def _report(
    context: Context,
    connection: Connection,
    kind: str,
    name: str,
    created: bool,
    changes: list[str],
    statements: list[Statement],
) -> None:
    if not statements:
        context.tell(Status.UNCHANGED, kind, name)
        return
    status = Status.CREATED if created else Status.CHANGED
    context.converge(connection, status, kind, name, ", ".join(changes), statements, as_owner=True)


def converge_continuous_aggregates(
    context: Context, connection: Connection, license_name: str
) -> None:
    """Create each continuous aggregate of the plan if missing, set whether it aggregates in real
    time, materialize its history once, then add its refresh policy."""
    for view in context.plan.unlisted_aggregates:
        context.tell(Status.SKIPPED, "continuous aggregate", view, "not in the spec")
    for aggregate in context.plan.continuous_aggregates:
        if license_name != COMMUNITY_LICENSE:
            context.tell(
                Status.SKIPPED,
                "continuous aggregate",
                aggregate.view,
                f"WARNING: the {license_name} edition lacks it (marked optional)",
            )
            continue
        _converge_aggregate(context, connection, aggregate)
        _converge_materialized_only(context, connection, aggregate)
        _converge_history(context, connection, aggregate)
        _converge_refresh_policy(context, connection, aggregate)


def _converge_aggregate(
    context: Context, connection: Connection, aggregate: ContinuousAggregatePlan
) -> None:
    exists = _materialized_only(connection, aggregate.view)
    recorded = connection.execute(
        sql.SQL("SELECT checksum FROM {} WHERE view = %s").format(AGGREGATE_LEDGER),
        (aggregate.view,),
    ).fetchone()
    if exists is not None:
        if recorded is not None and recorded[0] != aggregate.checksum:
            if context.check and _migrations_pending(context):
                # Apply runs the pending migrations first, and one of them may drop the view
                # (the way to change its definition); only apply can tell which.
                context.tell(
                    Status.CHANGED,
                    "continuous aggregate",
                    aggregate.view,
                    f"{aggregate.source} changed; a pending migration may drop the view",
                )
                return
            raise HookError(
                f"{aggregate.source} changed after {aggregate.view} was created from it: drop the "
                "view in a new migration, and the hooks create it again from the new definition"
            )
        context.tell(Status.UNCHANGED, "continuous aggregate", aggregate.view)
        return
    # A view created again (a migration dropped it) has no history yet: the column is cleared.
    record = sql.SQL(
        "INSERT INTO {} (view, checksum) VALUES ({}, {}) "
        "ON CONFLICT (view) DO UPDATE SET checksum = excluded.checksum, {} = NULL"
    ).format(
        AGGREGATE_LEDGER,
        sql.Literal(aggregate.view),
        sql.Literal(aggregate.checksum),
        sql.Identifier(HISTORY_COLUMN),
    )
    context.converge(
        connection,
        Status.CREATED,
        "continuous aggregate",
        aggregate.view,
        f"from {aggregate.source}",
        [sql.SQL(aggregate.sql), sql.SQL("RESET ROLE"), record],
        as_owner=True,
    )


def _migrations_pending(context: Context) -> bool:
    """Whether this run found a migration to apply (in check mode: one that would be)."""
    return any(
        outcome.kind == "migration" and outcome.status is Status.CREATED
        for outcome in context.outcomes
    )


def _converge_refresh_policy(
    context: Context, connection: Connection, aggregate: ContinuousAggregatePlan
) -> None:
    schema, name = _schema_and_name(aggregate.view)
    row = connection.execute(
        "SELECT (j.config->>'start_offset')::interval IS NOT DISTINCT FROM %s::interval "
        "AND (j.config->>'end_offset')::interval = %s::interval "
        "AND j.schedule_interval = %s::interval "
        "FROM timescaledb_information.jobs j JOIN timescaledb_information.continuous_aggregates c "
        "ON (j.hypertable_schema, j.hypertable_name) IN ((c.view_schema, c.view_name), "
        "(c.materialization_hypertable_schema, c.materialization_hypertable_name)) "
        "WHERE j.proc_name = 'policy_refresh_continuous_aggregate' "
        "AND c.view_schema = %s AND c.view_name = %s",
        (aggregate.start_offset, aggregate.end_offset, aggregate.schedule_interval, schema, name),
    ).fetchone()
    if row is not None and row[0]:
        context.tell(Status.UNCHANGED, "refresh policy", aggregate.view)
        return
    statements: list[Statement] = []
    if row is not None:
        statements.append(
            sql.SQL("SELECT remove_continuous_aggregate_policy({})").format(
                sql.Literal(aggregate.view)
            )
        )
    statements.append(
        sql.SQL(
            "SELECT add_continuous_aggregate_policy({}, start_offset => {}::interval, "
            "end_offset => {}::interval, schedule_interval => {}::interval)"
        ).format(
            sql.Literal(aggregate.view),
            sql.Literal(aggregate.start_offset),
            sql.Literal(aggregate.end_offset),
            sql.Literal(aggregate.schedule_interval),
        )
    )
    detail = (
        f"start_offset {aggregate.start_offset or 'none'}, end_offset {aggregate.end_offset}, "
        f"every {aggregate.schedule_interval}"
    )
    status = Status.CREATED if row is None else Status.CHANGED
    context.converge(
        connection, status, "refresh policy", aggregate.view, detail, statements, as_owner=True
    )


def _materialized_only(connection: Connection, view: str) -> bool | None:
    """The continuous aggregate's ``materialized_only``; None when there is no such view."""
    row = connection.execute(
        "SELECT materialized_only FROM timescaledb_information.continuous_aggregates "
        "WHERE view_schema = %s AND view_name = %s",
        _schema_and_name(view),
    ).fetchone()
    return None if row is None else bool(row[0])


def _converge_materialized_only(
    context: Context, connection: Connection, aggregate: ContinuousAggregatePlan
) -> None:
    current = _materialized_only(connection, aggregate.view)
    wanted = aggregate.materialized_only
    # In check mode a view that would be created is not there to read: it would be set too.
    if current == wanted:
        context.tell(Status.UNCHANGED, "materialized_only", aggregate.view, str(wanted).lower())
        return
    before = "(new view)" if current is None else str(current).lower()
    context.converge(
        connection,
        Status.CHANGED,
        "materialized_only",
        aggregate.view,
        f"{before} -> {str(wanted).lower()}"
        + ("" if wanted else " (real-time aggregation of rows newer than the last refresh)"),
        [
            sql.SQL("ALTER MATERIALIZED VIEW {} SET (timescaledb.materialized_only = {})").format(
                qualified(aggregate.view), sql.SQL("true" if wanted else "false")
            )
        ],
        as_owner=True,
    )


def _converge_history(
    context: Context, connection: Connection, aggregate: ContinuousAggregatePlan
) -> None:
    """Materialize, once, every row the view's hypertable already holds, up to ``end_offset``.

    The refresh policy only ever recomputes ``start_offset`` back from now, so without this a
    view created over loaded history would show none of it. Each refresh covers
    ``history_window``, with boundaries aligned by ``time_bucket`` on that width; a refresh
    materializes only the buckets wholly inside its window (``compute_inscribed_bucketed_
    refresh_window``, tsl/src/continuous_aggs/refresh.c, 2.19.3), so a last refresh from the
    start of time to ``now() - end_offset`` takes what the boundaries cut: the invalidation log
    holds only those ranges by then, so it is small. Its end stays bounded, like the policy's:
    an open end would materialize today's unfinished bucket and move the watermark past now,
    and real-time aggregation would then miss today's new rows until the next refresh.
    ``refresh_continuous_aggregate`` cannot run inside a transaction block
    (PreventInTransactionBlock, same file), so none of this runs in one; an interrupted run
    leaves the ledger's mark unset, and the next run starts again.
    """
    if not aggregate.materialize_history:
        return
    if _history_materialized(connection, aggregate.view):
        context.tell(Status.UNCHANGED, "history", aggregate.view, "materialized")
        return
    statements, detail = _history_refreshes(aggregate, _history_boundaries(connection, aggregate))
    try:
        context.converge(
            connection, Status.CREATED, "history", aggregate.view, detail, statements,
            transaction=False,
        )  # fmt: skip
    except psycopg.errors.InvalidParameterValue as error:
        raise HookError(
            f"continuous_aggregates.{aggregate.view}.history_window {aggregate.history_window!r}: "
            f"{error.diag.message_primary} ({error.diag.message_detail}); raise it to a multiple "
            "of the view's bucket"
        ) from None
    if not context.check:
        connection.execute(
            sql.SQL("UPDATE {} SET {} = now() WHERE view = %s").format(
                AGGREGATE_LEDGER, sql.Identifier(HISTORY_COLUMN)
            ),
            (aggregate.view,),
        )


def _history_refreshes(
    aggregate: ContinuousAggregatePlan, boundaries: list[object]
) -> tuple[list[Statement], str]:
    """The refreshes that materialize the history between ``boundaries`` (one per window), then
    the rest up to ``end_offset`` ago, and the line that says so."""
    windows = list(itertools.pairwise(boundaries))
    view = sql.Literal(aggregate.view)
    statements: list[Statement] = [
        sql.SQL("CALL refresh_continuous_aggregate({}, {}, {})").format(
            view, sql.Literal(start), sql.Literal(end)
        )
        for start, end in windows
    ]
    statements.append(
        sql.SQL("CALL refresh_continuous_aggregate({}, NULL, now() - {}::interval)").format(
            view, sql.Literal(aggregate.end_offset)
        )
    )
    detail = (
        f"{len(windows)} refreshes of {aggregate.history_window} from {boundaries[0]:%Y-%m-%d}, "
        f"then the rest up to {aggregate.end_offset} ago"
        if windows
        else f"no full window of data; one refresh up to {aggregate.end_offset} ago"
    )
    return statements, detail


def _history_materialized(connection: Connection, view: str) -> bool:
    """Whether the ledger says the view's history was materialized."""
    # Through to_jsonb: a ledger from before this column has none until the apply adds it, and
    # ``check`` must read such a ledger too (as not materialized).
    row = connection.execute(
        sql.SQL("SELECT to_jsonb(ledger) ->> %s IS NOT NULL FROM {} ledger WHERE view = %s").format(
            AGGREGATE_LEDGER
        ),
        (HISTORY_COLUMN, view),
    ).fetchone()
    return row is not None and bool(row[0])


def _history_boundaries(connection: Connection, aggregate: ContinuousAggregatePlan) -> list[object]:
    """Window boundaries over the view's hypertable's chunks, ``history_window`` apart and
    aligned by ``time_bucket`` on that width, up to ``end_offset`` ago; none without chunks."""
    schema, name = _schema_and_name(aggregate.view)
    rows = connection.execute(
        "SELECT generate_series(time_bucket(%(window)s::interval, min(ch.range_start)), "
        "least(max(ch.range_end), now() - %(end_offset)s::interval), %(window)s::interval) "
        "FROM timescaledb_information.chunks ch "
        "JOIN timescaledb_information.continuous_aggregates c "
        "ON (ch.hypertable_schema, ch.hypertable_name) = (c.hypertable_schema, c.hypertable_name) "
        "WHERE c.view_schema = %(schema)s AND c.view_name = %(name)s",
        {
            "window": aggregate.history_window,
            "end_offset": aggregate.end_offset,
            "schema": schema,
            "name": name,
        },
    ).fetchall()
    return [row[0] for row in rows]
