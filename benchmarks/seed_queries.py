"""Benchmark: every query the seeds run, on this schema and on the seeds' own, over the same rows.

    .venv/bin/python benchmarks/seed_queries.py --container datalayer-db-1 [--repeat 15]

Takes a droplet where the deploy's hooks applied the schema (``ingest_candles.py`` says how),
loads the ingest benchmark's candles (6,000,000 1m bars of 250 assets by default, the same bars
into both shapes), derives indicators and signals from them, then times each query of seed 1
(latest candles for an asset, latest indicators, active signals, latest signal per asset, price
statistics by asset, recent price changes) and seed 2 (latest price for a symbol, daily
aggregates with time_bucket, gap detection):

- ``ours``: the query as a reader writes it against ``market_data``/``derived`` (assets named by
  uuid or symbol, candles joined through ``assets.key``);
- ``seeds``: the seed's query as written, on seed 1's tables (``ingest_candles.SEED_SHAPE`` for
  candles, seed 1's indicators and signals with their bigserial keys and indexes) in schema
  ``bench``; seed 2's queries name ``symbol``, which seed 1's tables reach through assets;
- ``rollup``: where ``market_data.candles_daily`` answers the query (Community edition only:
  the hooks created and materialized it), the query against the rollup.

The seeds ask for 1d bars and for "the last 7/30 days"; the bars here are 1m from 2024-01-01,
so every query asks for ``1m`` and reads "now" as the end of the data (a literal, as NOW() is a
constant to the planner), so that each reads the rows it would read on a live database. Each
query runs once to warm the cache, then ``--repeat`` times in one session; psql's \\timing
gives each run's milliseconds (median and p95 printed). ``EXPLAIN (ANALYZE, BUFFERS)`` of
every query on every side is written to ``--explain-dir``; the slowest ones' plans are
printed. The host is shared: read the spread.
"""

import argparse
import math
import re
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

from ingest_candles import (
    BENCH_SCHEMA,
    COPY_TIMEOUT,
    SEED_SHAPE,
    Target,
    columns,
    generate_csv,
    require_schema,
)

from datalayer.sandbox.commands import SandboxError

_TIME = re.compile(r"^Time: ([0-9.]+) ms", re.MULTILINE)
# "Now" in the seeds' queries (NOW(), CURRENT_DATE) is a constant to the planner; here it is the
# end of the generated data, read once and written into every query as a literal, so that "the
# last 7 days" holds rows and neither side pays for finding it.
NOW = "{now}::timestamptz"
SYMBOL = "BENCH0042"


@dataclass(frozen=True)
class Query:
    """One seed query: on this schema, on the seeds' schema, and on the rollup if it answers."""

    name: str
    seed: str
    ours: str
    seeds: str
    rollup: str = ""


QUERIES = (
    Query(
        "latest candles for an asset",
        "seed 1",
        "SELECT c.ts, c.open, c.high, c.low, c.close, c.volume FROM market_data.candles c "
        "WHERE c.asset_key = (SELECT key FROM market_data.assets WHERE id = {asset_id}) "
        "AND c.timeframe = '1m' ORDER BY c.ts DESC LIMIT 30",
        "SELECT ts, open, high, low, close, volume FROM bench.seed_candles "
        "WHERE asset_id = {asset_id} AND timeframe = '1m' ORDER BY ts DESC LIMIT 30",
    ),
    Query(
        "latest indicators",
        "seed 1",
        "SELECT a.symbol, i.name, i.value, i.ts FROM derived.indicators i "
        "JOIN market_data.assets a ON a.id = i.asset_id "
        f"WHERE i.ts >= {NOW} - INTERVAL '7 days' ORDER BY a.symbol, i.ts DESC",
        "SELECT a.symbol, i.name, i.value, i.ts FROM bench.seed_indicators i "
        "JOIN market_data.assets a ON a.id = i.asset_id "
        f"WHERE i.ts >= {NOW} - INTERVAL '7 days' ORDER BY a.symbol, i.ts DESC",
    ),
    Query(
        "active signals",
        "seed 1",
        "SELECT a.symbol, s.signal_type, s.strength, s.confidence, s.rationale, s.ts "
        "FROM derived.signals s JOIN market_data.assets a ON a.id = s.asset_id "
        "WHERE s.is_active ORDER BY s.ts DESC",
        "SELECT a.symbol, s.signal_type, s.strength, s.confidence, s.rationale, s.ts "
        "FROM bench.seed_signals s JOIN market_data.assets a ON a.id = s.asset_id "
        "WHERE s.is_active = 'true' ORDER BY s.ts DESC",
    ),
    Query(
        "latest signal per asset",
        "seed 1",
        "WITH ranked_signals AS (SELECT s.*, a.symbol, ROW_NUMBER() OVER (PARTITION BY "
        "s.asset_id ORDER BY s.ts DESC) AS rn FROM derived.signals s "
        "JOIN market_data.assets a ON a.id = s.asset_id WHERE s.is_active) "
        "SELECT symbol, signal_type, strength, confidence, rationale, ts FROM ranked_signals "
        "WHERE rn = 1 ORDER BY ts DESC",
        "WITH ranked_signals AS (SELECT s.*, a.symbol, ROW_NUMBER() OVER (PARTITION BY "
        "s.asset_id ORDER BY s.ts DESC) AS rn FROM bench.seed_signals s "
        "JOIN market_data.assets a ON a.id = s.asset_id WHERE s.is_active = 'true') "
        "SELECT symbol, signal_type, strength, confidence, rationale, ts FROM ranked_signals "
        "WHERE rn = 1 ORDER BY ts DESC",
    ),
    Query(
        "price statistics by asset",
        "seed 1",
        "SELECT a.symbol, COUNT(*) AS candle_count, MIN(c.ts) AS first_date, "
        "MAX(c.ts) AS last_date, MIN(c.low) AS all_time_low, MAX(c.high) AS all_time_high, "
        "AVG(c.close) AS avg_price FROM market_data.candles c "
        "JOIN market_data.assets a ON a.key = c.asset_key WHERE c.timeframe = '1m' "
        "GROUP BY a.symbol ORDER BY a.symbol",
        "SELECT a.symbol, COUNT(*) AS candle_count, MIN(c.ts) AS first_date, "
        "MAX(c.ts) AS last_date, MIN(c.low) AS all_time_low, MAX(c.high) AS all_time_high, "
        "AVG(c.close) AS avg_price FROM bench.seed_candles c "
        "JOIN market_data.assets a ON a.id = c.asset_id WHERE c.timeframe = '1m' "
        "GROUP BY a.symbol ORDER BY a.symbol",
    ),
    Query(
        "recent price changes",
        "seed 1",
        "WITH latest_prices AS (SELECT DISTINCT ON (asset_key) asset_key, close AS "
        "current_price, ts AS current_date FROM market_data.candles WHERE timeframe = '1m' "
        "ORDER BY asset_key, ts DESC), previous_prices AS (SELECT DISTINCT ON (c.asset_key) "
        "c.asset_key, c.close AS previous_price FROM market_data.candles c JOIN latest_prices lp "
        "ON lp.asset_key = c.asset_key WHERE c.timeframe = '1m' AND c.ts < lp.current_date "
        "ORDER BY c.asset_key, c.ts DESC) SELECT a.symbol, lp.current_price, pp.previous_price, "
        "ROUND(((lp.current_price - pp.previous_price) / pp.previous_price * 100)::numeric, 2) "
        "AS pct_change FROM latest_prices lp JOIN previous_prices pp "
        "ON pp.asset_key = lp.asset_key JOIN market_data.assets a ON a.key = lp.asset_key "
        "ORDER BY pct_change DESC",
        "WITH latest_prices AS (SELECT DISTINCT ON (asset_id) asset_id, close AS "
        "current_price, ts AS current_date FROM bench.seed_candles WHERE timeframe = '1m' "
        "ORDER BY asset_id, ts DESC), previous_prices AS (SELECT DISTINCT ON (c.asset_id) "
        "c.asset_id, c.close AS previous_price FROM bench.seed_candles c JOIN latest_prices lp "
        "ON lp.asset_id = c.asset_id WHERE c.timeframe = '1m' AND c.ts < lp.current_date "
        "ORDER BY c.asset_id, c.ts DESC) SELECT a.symbol, lp.current_price, pp.previous_price, "
        "ROUND(((lp.current_price - pp.previous_price) / pp.previous_price * 100)::numeric, 2) "
        "AS pct_change FROM latest_prices lp JOIN previous_prices pp "
        "ON pp.asset_id = lp.asset_id JOIN market_data.assets a ON a.id = lp.asset_id "
        "ORDER BY pct_change DESC",
    ),
    Query(
        "latest price for a symbol",
        "seed 2",
        "SELECT c.* FROM market_data.candles c WHERE c.asset_key = (SELECT key FROM "
        f"market_data.assets WHERE symbol = '{SYMBOL}' AND exchange = 'bench') "
        "AND c.timeframe = '1m' ORDER BY c.ts DESC LIMIT 1",
        "SELECT c.* FROM bench.seed_candles c WHERE c.asset_id = (SELECT id FROM "
        f"market_data.assets WHERE symbol = '{SYMBOL}' AND exchange = 'bench') "
        "ORDER BY c.ts DESC LIMIT 1",
    ),
    Query(
        "daily aggregates with time_bucket",
        "seed 2",
        "SELECT time_bucket('1 day', c.ts) AS day, a.symbol, first(c.open, c.ts) AS open, "
        "max(c.high) AS high, min(c.low) AS low, last(c.close, c.ts) AS close, "
        "sum(c.volume) AS volume FROM market_data.candles c "
        "JOIN market_data.assets a ON a.key = c.asset_key "
        f"WHERE c.timeframe = '1m' AND c.ts >= {NOW} - INTERVAL '30 days' "
        "GROUP BY day, a.symbol ORDER BY day DESC",
        "SELECT time_bucket('1 day', c.ts) AS day, a.symbol, first(c.open, c.ts) AS open, "
        "max(c.high) AS high, min(c.low) AS low, last(c.close, c.ts) AS close, "
        "sum(c.volume) AS volume FROM bench.seed_candles c "
        "JOIN market_data.assets a ON a.id = c.asset_id "
        f"WHERE c.ts >= {NOW} - INTERVAL '30 days' GROUP BY day, a.symbol ORDER BY day DESC",
        "SELECT d.day, a.symbol, d.open, d.high, d.low, d.close, d.volume "
        "FROM market_data.candles_daily d JOIN market_data.assets a ON a.key = d.asset_key "
        f"WHERE d.timeframe = '1m' AND d.day >= {NOW} - INTERVAL '30 days' ORDER BY d.day DESC",
    ),
    Query(
        "gap detection",
        "seed 2",
        "WITH date_series AS (SELECT generate_series(DATE '2024-01-01', "
        f"{NOW}::date, INTERVAL '1 day')::date AS trading_date), existing_data AS ("
        "SELECT DISTINCT DATE(c.ts) AS data_date FROM market_data.candles c "
        "WHERE c.asset_key = (SELECT key FROM market_data.assets "
        f"WHERE symbol = '{SYMBOL}' AND exchange = 'bench') AND c.timeframe = '1m') "
        "SELECT trading_date FROM date_series LEFT JOIN existing_data "
        "ON trading_date = data_date WHERE data_date IS NULL "
        "AND EXTRACT(DOW FROM trading_date) NOT IN (0, 6)",
        "WITH date_series AS (SELECT generate_series(DATE '2024-01-01', "
        f"{NOW}::date, INTERVAL '1 day')::date AS trading_date), existing_data AS ("
        "SELECT DISTINCT DATE(c.ts) AS data_date FROM bench.seed_candles c "
        "WHERE c.asset_id = (SELECT id FROM market_data.assets "
        f"WHERE symbol = '{SYMBOL}' AND exchange = 'bench')) "
        "SELECT trading_date FROM date_series LEFT JOIN existing_data "
        "ON trading_date = data_date WHERE data_date IS NULL "
        "AND EXTRACT(DOW FROM trading_date) NOT IN (0, 6)",
        "WITH date_series AS (SELECT generate_series(DATE '2024-01-01', "
        f"{NOW}::date, INTERVAL '1 day')::date AS trading_date), existing_data AS ("
        "SELECT d.day::date AS data_date FROM market_data.candles_daily d "
        "WHERE d.asset_key = (SELECT key FROM market_data.assets "
        f"WHERE symbol = '{SYMBOL}' AND exchange = 'bench') AND d.timeframe = '1m') "
        "SELECT trading_date FROM date_series LEFT JOIN existing_data "
        "ON trading_date = data_date WHERE data_date IS NULL "
        "AND EXTRACT(DOW FROM trading_date) NOT IN (0, 6)",
    ),
)

# Seed 1's indicators and signals (002, "Time-Series Tables"): bigserial keys, its indexes.
SEED_TABLES = f"""
CREATE TABLE {BENCH_SCHEMA}.seed_indicators (
    id bigserial PRIMARY KEY,
    asset_id uuid NOT NULL REFERENCES market_data.assets (id),
    ts timestamptz NOT NULL,
    timeframe market_data.timeframe NOT NULL,
    indicator_type derived.indicator_type NOT NULL,
    name text NOT NULL,
    value double precision NOT NULL,
    value2 double precision,
    value3 double precision,
    parameters jsonb,
    computed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON {BENCH_SCHEMA}.seed_indicators (asset_id, indicator_type, ts);
CREATE INDEX ON {BENCH_SCHEMA}.seed_indicators (asset_id, name, ts);
CREATE TABLE {BENCH_SCHEMA}.seed_signals (
    id bigserial PRIMARY KEY,
    asset_id uuid NOT NULL REFERENCES market_data.assets (id),
    ts timestamptz NOT NULL,
    timeframe market_data.timeframe NOT NULL,
    signal_type derived.signal_type NOT NULL,
    strength double precision,
    confidence double precision,
    price numeric(20, 8),
    target_price numeric(20, 8),
    stop_loss numeric(20, 8),
    strategy text,
    rationale text,
    indicators_used jsonb,
    is_active boolean NOT NULL DEFAULT true,
    generated_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz
);
CREATE INDEX ON {BENCH_SCHEMA}.seed_signals (asset_id, ts);
CREATE INDEX ON {BENCH_SCHEMA}.seed_signals (asset_id, signal_type, ts);
CREATE INDEX ON {BENCH_SCHEMA}.seed_signals (is_active, ts);
"""

# Hourly RSI and SMA per asset from the 1m closes, and a signal every 4 hours per asset (one in
# ten still active): the same rows into both shapes.
DERIVED_ROWS = f"""
INSERT INTO strategies.strategies (name) VALUES ('bench-strategy') ON CONFLICT (name) DO NOTHING;
CREATE TEMPORARY TABLE hourly AS
SELECT a.id AS asset_id, time_bucket('1 hour', c.ts) AS ts, avg(c.close) AS value
FROM market_data.candles c JOIN market_data.assets a ON a.key = c.asset_key
WHERE c.timeframe = '1m' GROUP BY 1, 2;
TRUNCATE derived.indicators, derived.signals, {BENCH_SCHEMA}.seed_indicators,
    {BENCH_SCHEMA}.seed_signals;
INSERT INTO derived.indicators (ts, asset_id, timeframe, indicator_type, value, name)
SELECT ts, asset_id, '1h', kind::derived.indicator_type, value, kind || '_14'
FROM hourly, unnest(ARRAY['rsi', 'sma']) AS kind;
INSERT INTO {BENCH_SCHEMA}.seed_indicators (ts, asset_id, timeframe, indicator_type, value, name)
SELECT ts, asset_id, '1h', kind::derived.indicator_type, value, kind || '_14'
FROM hourly, unnest(ARRAY['rsi', 'sma']) AS kind;
INSERT INTO derived.signals (ts, asset_id, timeframe, strategy_id, signal_type, is_active,
    strength, confidence, rationale)
SELECT h.ts, h.asset_id, '1h', s.id, 'buy', extract(hour FROM h.ts) = 0
    AND extract(day FROM h.ts)::int % 10 = 0, 0.5, 0.5, 'bench'
FROM hourly h, strategies.strategies s
WHERE s.name = 'bench-strategy' AND extract(hour FROM h.ts)::int % 4 = 0;
INSERT INTO {BENCH_SCHEMA}.seed_signals (ts, asset_id, timeframe, strategy, signal_type,
    is_active, strength, confidence, rationale)
SELECT ts, asset_id, timeframe, 'bench-strategy', signal_type, is_active, strength,
    confidence, rationale FROM derived.signals;
ANALYZE derived.indicators;
ANALYZE derived.signals;
ANALYZE {BENCH_SCHEMA}.seed_indicators;
ANALYZE {BENCH_SCHEMA}.seed_signals;
"""


def load(target: Target, rows: int, assets: int) -> None:
    """The same candles into market_data.candles and seed 1's shape, then indicators and
    signals derived from them into both; reused when both already hold ``rows`` candles."""
    loaded = target.psql(
        f"SELECT to_regclass('{SEED_SHAPE.table}') IS NOT NULL "
        f"AND to_regclass('{BENCH_SCHEMA}.seed_signals') IS NOT NULL;"
    ).strip()
    counts = (
        target.psql(
            "SELECT count(*) FROM market_data.candles UNION ALL "
            f"SELECT count(*) FROM {SEED_SHAPE.table};"
        ).split()
        if loaded == "t"
        else []
    )
    if counts == [str(rows), str(rows)]:
        print(f"data: reusing the {rows:,} candles already loaded", file=sys.stderr)
        return
    ours = generate_csv(target, rows, assets, "key")
    seeds = generate_csv(target, rows, assets, "id")
    target.psql(
        f"DROP SCHEMA IF EXISTS {BENCH_SCHEMA} CASCADE;\nCREATE SCHEMA {BENCH_SCHEMA};\n"
        + SEED_SHAPE.create
        + SEED_TABLES
    )
    target.psql(
        f"TRUNCATE market_data.candles;\n"
        f"COPY market_data.candles ({columns('key')}) FROM '{ours}' WITH (FORMAT csv);\n"
        f"COPY {SEED_SHAPE.table} ({columns('id')}) FROM '{seeds}' WITH (FORMAT csv);\n"
        f"ANALYZE market_data.candles;\nANALYZE {SEED_SHAPE.table};\n" + DERIVED_ROWS,
        timeout=COPY_TIMEOUT,
    )
    print(f"data: loaded {rows:,} candles into both shapes", file=sys.stderr)


# The generated bars start on 2024-01-01: a retention policy (the sandbox spec drops candles
# after 2 years, indicators after 1) would drop them while the queries run. Its jobs are paused
# for the run and resumed after.
RETENTION_JOBS = (
    "SELECT job_id FROM timescaledb_information.jobs WHERE proc_name = 'policy_retention' "
    "AND hypertable_schema IN ('market_data', 'derived')"
)


def pause_retention(target: Target, scheduled: bool) -> None:
    """Pause (``scheduled`` false) or resume the retention jobs of the tables the queries read;
    none exist on the Apache edition."""
    target.psql(
        f"SELECT alter_job(job_id, scheduled => {str(scheduled).lower()}) FROM ({RETENTION_JOBS}) "
        "AS jobs;"
    )


def rollup_ready(target: Target) -> bool:
    """Whether market_data.candles_daily exists (Community edition); refreshed over every row."""
    if target.psql("SELECT to_regclass('market_data.candles_daily') IS NOT NULL;").strip() != "t":
        return False
    target.psql("CALL refresh_continuous_aggregate('market_data.candles_daily', NULL, NULL);")
    return True


def time_query(target: Target, sql: str, repeat: int) -> list[float]:
    """Milliseconds of ``repeat`` runs of ``sql`` in one session, after one warming run."""
    runs = "\n".join([f"{sql};"] * repeat)
    output = target.psql(f"\\o /dev/null\n{sql};\n\\timing on\n{runs}\n", timeout=COPY_TIMEOUT)
    times = [float(match) for match in _TIME.findall(output)]
    if len(times) != repeat:
        raise SandboxError(f"expected {repeat} timings from psql, got {len(times)}:\n{output}")
    return times


def explain(target: Target, sql: str) -> str:
    return target.psql(f"EXPLAIN (ANALYZE, BUFFERS) {sql};", timeout=COPY_TIMEOUT)


def p95(times: list[float]) -> float:
    """The nearest-rank 95th percentile."""
    ordered = sorted(times)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--container", required=True, help="the droplet's container")
    parser.add_argument("--rows", type=int, default=6_000_000, help="candles to load")
    parser.add_argument("--assets", type=int, default=250, help="assets the candles spread over")
    parser.add_argument("--repeat", type=int, default=15, help="timed runs of each query")
    parser.add_argument("--slowest", type=int, default=3, help="plans printed, slowest first")
    parser.add_argument(
        "--only", nargs="+", metavar="QUERY", help="time only these queries (names as printed)"
    )
    parser.add_argument(
        "--explain-dir",
        type=Path,
        default=Path("reports/seed_queries"),
        help="where EXPLAIN (ANALYZE, BUFFERS) of every query is written",
    )
    arguments = parser.parse_args()
    target = Target.container(arguments.container)
    queries = [query for query in QUERIES if not arguments.only or query.name in arguments.only]
    unknown = sorted(set(arguments.only or ()) - {query.name for query in QUERIES})
    if unknown:
        parser.error(
            f"no query {', '.join(unknown)}; there are {', '.join(query.name for query in QUERIES)}"
        )
    try:
        require_schema(target)
        pause_retention(target, scheduled=False)
        load(target, arguments.rows, arguments.assets)
        with_rollup = rollup_ready(target)
        asset_id = target.psql(
            f"SELECT quote_literal(id) FROM market_data.assets WHERE symbol = '{SYMBOL}' "
            "AND exchange = 'bench';"
        ).strip()
        now = target.psql("SELECT quote_literal(max(ts)) FROM market_data.candles;").strip()
        arguments.explain_dir.mkdir(parents=True, exist_ok=True)
        load_average = target.sh("cut -d' ' -f1-3 /proc/loadavg").strip()
        print(
            f"{target.description}: {arguments.rows:,} candles; {arguments.repeat} runs each "
            f"(host load average {load_average}); milliseconds, median / p95"
        )
        print(f"  {'query':36} {'ours':>17} {'seeds':>17} {'rollup':>17}")
        medians: list[tuple[float, str, Path]] = []
        for query in queries:
            cells = []
            sides = [("ours", query.ours), ("seeds", query.seeds)]
            if with_rollup and query.rollup:
                sides.append(("rollup", query.rollup))
            for side, text in sides:
                sql = text.format(asset_id=asset_id, now=now)
                times = time_query(target, sql, arguments.repeat)
                median = statistics.median(times)
                plan = arguments.explain_dir / f"{query.name.replace(' ', '_')}.{side}.txt"
                plan.write_text(f"{sql}\n\n{explain(target, sql)}")
                medians.append((median, f"{query.name} ({side})", plan))
                cells.append(f"{median:8.1f} / {p95(times):6.1f}")
            print(f"  {query.name:36} " + " ".join(f"{cell:>17}" for cell in cells), flush=True)
    except SandboxError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        pause_retention(target, scheduled=True)
    for median, label, plan in sorted(medians, reverse=True)[: arguments.slowest]:
        print(f"\n--- slowest: {label}, median {median:.1f} ms ({plan}) ---")
        print(plan.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
