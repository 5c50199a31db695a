"""Benchmark: bulk COPY of candles into market_data.candles, against the host's practical ceiling.

    .venv/bin/python benchmarks/ingest_candles.py --container datalayer-db-1 [--runs 3]
    .venv/bin/python benchmarks/ingest_candles.py --ssh-config .sandbox/ssh_config --host db-1

Takes a droplet where TimescaleDB is deployed (``deploy/site.py``, whose post-provision hooks
apply the schema), generates the candles as a CSV file on the droplet itself (250 assets, 1m bars,
time-ordered, valid OHLC; 6,000,000 rows by default), then times server-side
``COPY ... FROM 'file'`` of that one file into:

- ``ceiling``: an UNLOGGED table with the same columns and no index or constraint, on the same
  server: the most this host can ingest (no WAL, no index, no check);
- ``candles``: ``market_data.candles`` as the migrations create it (its assets named by the
  integer ``assets.key``, as a loader writes them);
- ``seed_shape``: seed 1's candles (bigserial key, its (asset_id, ts, interval) and (ts,
  asset_id) indexes, create_hypertable's default ts index, a foreign key to assets, the uuid
  asset id), for the record, on the same stock configuration, from a second file holding the
  same bars with the assets' uuids.

With ``--breakdown``, also copies of candles with one thing changed (a foreign key added, the
BRIN index or the checks removed) and a plain logged table, to price each design decision.
With ``--keys``, the alternatives to the primary key and the price types that issue 12 weighs:
a time-leading key, with and without an index for one asset's reads; the key built per chunk
after the load (a backfill); double precision prices, against a ceiling of the same columns.

Each round runs every variant once, each round starting one variant later, after a CHECKPOINT
and with the file just read into the page cache; tables are emptied between runs. Prints rows/s
per run, the median over rounds, and the median ratio to the ceiling of the same round. The
host has two cores and runs other droplets: repeat with ``--runs`` and read the spread.
Needs root on the droplet (docker exec, or ssh as root); PostgreSQL runs as the postgres user.
"""

import argparse
import re
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from datalayer.paths import SQL_DIRECTORY
from datalayer.sandbox.commands import SandboxError, run

DATABASE = "trading"
# Seed 1's candle columns in this schema's names, in the CSV's order; created_at and updated_at
# are left to their defaults in every table. The second column names the asset: candles hold
# assets.key (migration 0009), the seeds' shape holds assets.id.
AssetColumn = Literal["key", "id"]
CANDLE_ASSET_COLUMN: dict[AssetColumn, str] = {"key": "asset_key", "id": "asset_id"}


def columns(asset: AssetColumn = "key") -> str:
    """The COPY column list of a table whose candles name their asset by ``asset``."""
    return (
        f"ts, {CANDLE_ASSET_COLUMN[asset]}, timeframe, open, high, low, close, volume, vwap, "
        "trades_count, source"
    )


COLUMNS = columns()
CSV_DIRECTORY = "/var/tmp/datalayer-bench"
BENCH_SCHEMA = "bench"
COPY_TIMEOUT = 1800.0
Measure = Literal["wall", "cpu"]
_TIME = re.compile(r"^Time: ([0-9.]+) ms", re.MULTILINE)


@dataclass(frozen=True)
class Target:
    """How to run a shell command on the droplet: ``docker exec`` or ``ssh``."""

    prefix: tuple[str, ...]
    description: str

    @classmethod
    def container(cls, name: str) -> "Target":
        return cls(("docker", "exec", "-i", name, "sh", "-c"), f"container {name}")

    @classmethod
    def ssh(cls, ssh_config: Path, host: str) -> "Target":
        return cls(("ssh", "-F", str(ssh_config), host), f"ssh host {host}")

    def sh(self, command: str, *, input: str | None = None, timeout: float = 120) -> str:
        return run([*self.prefix, command], input=input, timeout=timeout)

    def psql(
        self,
        script: str,
        *,
        database: str = DATABASE,
        options: str = "",
        timeout: float = 120,
    ) -> str:
        """Run ``script`` (SQL on stdin) as the postgres superuser; stop at the first error."""
        return self.sh(
            f"runuser -u postgres -- psql -X -q -At -v ON_ERROR_STOP=1 -d {database} {options} "
            "-f -",
            input=script,
            timeout=timeout,
        )


# --- The schema ------------------------------------------------------------------------------


def require_schema(target: Target) -> None:
    """Stop unless the deploy's post-provision hooks applied every migration of this checkout.

    The benchmark measures the schema as the hooks leave it, so it never applies SQL itself.
    """
    recorded = target.psql(
        "SELECT CASE WHEN to_regclass('datalayer.schema_migrations') IS NULL THEN 0 "
        "ELSE (SELECT count(*) FROM datalayer.schema_migrations) END;"
    ).strip()
    expected = len(list((SQL_DIRECTORY / "migrations").glob("*.sql")))
    if recorded != str(expected):
        raise SandboxError(
            f"{target.description}: {recorded} of this checkout's {expected} migrations are "
            "applied; deploy first (pyinfra -y INVENTORY deploy/site.py runs the hooks)"
        )


# The seeds' conditions on a candle (seed 2's CHECKs), each with a row that breaks it.
SEED_VIOLATIONS = {
    "open > 0": "0, 2, 0.5, 1, 1",
    "high > 0": "1, 0, 0, 0, 1",
    "low > 0": "1, 2, 0, 1, 1",
    "close > 0": "1, 2, 0.5, 0, 1",
    "volume >= 0": "1, 2, 0.5, 1, -1",
    "high >= low": "1, 0.5, 2, 1, 1",
    "high >= open": "3, 2, 0.5, 1, 1",
    "high >= close": "1, 2, 0.5, 3, 1",
    "low <= open": "1, 2, 1.5, 1.8, 1",
    "low <= close": "1.8, 2, 1.5, 1, 1",
}


def check_seed_conditions(target: Target) -> None:
    """Every one of the seeds' candle conditions is refused by market_data.candles.

    The migration enforces them through four constraints that imply all nine; this proves the
    implication on the real server: each row below breaks a seed condition (the zero and
    negative prices break the orderings too, as they must), and each must fail with a
    check_violation. Nothing is kept (the transaction is rolled back).
    """
    attempts = "\n".join(
        f"""
        BEGIN
            INSERT INTO market_data.candles
                (ts, asset_key, timeframe, open, high, low, close, volume, source)
            VALUES (now(), 0, '1m', {values}, 'check');
            RAISE EXCEPTION 'accepted a row breaking {condition}';
        EXCEPTION WHEN check_violation THEN
            NULL;
        END;"""
        for condition, values in SEED_VIOLATIONS.items()
    )
    target.psql(f"BEGIN;\nDO $$\nBEGIN{attempts}\nEND;\n$$;\nROLLBACK;\n")
    print(
        f"schema: candles refuse each of the seeds' {len(SEED_VIOLATIONS)} conditions",
        file=sys.stderr,
    )


# --- The data --------------------------------------------------------------------------------


def generate_csv(target: Target, rows: int, assets: int, asset: AssetColumn = "key") -> str:
    """Write ``rows`` candles for ``assets`` assets to a CSV file on the droplet; return its path.

    One bar per asset per minute from 2024-01-01 UTC, ordered by time then asset as a live feed
    or a vendor's daily file arrives. Prices follow smooth per-asset curves, so open, high, low
    and close always satisfy the checks. Each bar names its asset by ``asset``: assets.key, as
    a loader writes market_data.candles, or assets.id, as the seeds' shape holds it; the two
    files hold the same bars. Deterministic: the same arguments and assets give the same file,
    which is reused when it is already there.
    """
    if rows % assets:
        raise SystemExit(f"--rows ({rows}) must be a multiple of --assets ({assets})")
    target.psql(
        "INSERT INTO market_data.assets (symbol, name, asset_type, exchange) "
        f"SELECT format('BENCH%s', lpad(k::text, 4, '0')), 'benchmark asset', 'crypto', 'bench' "
        f"FROM generate_series(1, {assets}) AS k "
        "ON CONFLICT (symbol, exchange) DO NOTHING;"
    )
    # The file names the assets' keys it was made for: a schema applied again gives the assets
    # new keys, and a file holding the old ones would break the variants with a foreign key.
    fingerprint = target.psql(
        f"SELECT left(md5(string_agg({asset}::text, ',' ORDER BY symbol)), 12) "
        f"FROM market_data.assets WHERE exchange = 'bench' AND symbol <= 'BENCH{assets:04d}';"
    ).strip()
    path = f"{CSV_DIRECTORY}/candles-{rows}-{assets}-{asset}-{fingerprint}.csv"
    if target.sh(f"test -s {path} && echo present || echo missing").strip() == "present":
        print(f"data: reusing {path}", file=sys.stderr)
        return path
    target.sh(f"install -d -o postgres -g postgres -m 0700 {CSV_DIRECTORY}")
    target.psql(
        f"""
        COPY (
            WITH ids AS (
                SELECT array_agg({asset} ORDER BY symbol) AS ids
                FROM market_data.assets WHERE exchange = 'bench' AND symbol <= 'BENCH{assets:04d}'
            ),
            bar AS (
                SELECT n / {assets} AS minute, n % {assets} AS k
                FROM generate_series(0, {rows} - 1) AS n
            ),
            price AS (
                SELECT minute, k,
                    round((base * (1 + 0.05 * sin(minute / 1440.0 + k)
                                    + 0.01 * sin(minute / 60.0 + 2 * k)))::numeric, 4) AS open,
                    round((base * (1 + 0.05 * sin((minute + 1) / 1440.0 + k)
                                    + 0.01 * sin((minute + 1) / 60.0 + 2 * k)))::numeric, 4)
                        AS close,
                    (0.001 * (1 + sin(minute * 0.7 + k)))::numeric AS wiggle
                FROM bar, LATERAL (SELECT 10 + (k * 37 % 1000) AS base) AS b
            ),
            ohlc AS (
                SELECT minute, k, open, close,
                    round(greatest(open, close) * (1 + wiggle), 4) AS high,
                    round(least(open, close) * (1 - wiggle), 4) AS low
                FROM price
            )
            SELECT timestamptz '2024-01-01 00:00:00+00' + minute * interval '1 minute',
                ids.ids[k + 1], '1m', open, high, low, close,
                round((abs(sin(minute * 1.3 + k)) * 1000)::numeric, 4),
                round((high + low) / 2, 4),
                (abs(sin(minute * 0.9 + k)) * 500)::int,
                'bench'
            FROM ohlc, ids
        ) TO '{path}.partial' WITH (FORMAT csv);
        """,
        timeout=COPY_TIMEOUT,
    )
    # Only a complete file gets the name that is reused.
    target.sh(f"mv {path}.partial {path}")
    size = target.sh(f"du -h {path} | cut -f1").strip()
    print(f"data: wrote {path} ({size})", file=sys.stderr)
    return path


# --- The tables ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    """A table to COPY into: how to create it once, and its name.

    + ceiling: the variant whose time in the same round this one's ratio is taken against (the
      ceiling of the same columns)
    + finish: SQL run right after the COPY and timed with it (an index built after the load)
    + reset: SQL run, untimed, each time the table is emptied (undoing ``finish``)
    + sized: whether its sizes are reported (hypertables, not the plain reference tables)
    """

    name: str
    table: str
    meaning: str
    create: str = ""
    asset: AssetColumn = "key"
    ceiling: str = "ceiling"
    finish: str = ""
    reset: str = ""
    sized: bool = True


def _copy_of_candles(name: str, change: str, chunk_interval: str = "7 days") -> str:
    """DDL for a hypertable like market_data.candles (columns, checks, key, indexes), changed."""
    table = f"{BENCH_SCHEMA}.{name}"
    return (
        f"CREATE TABLE {table} (LIKE market_data.candles INCLUDING ALL);\n"
        f"SELECT create_hypertable('{table}', by_range('ts', INTERVAL '{chunk_interval}'), "
        "create_default_indexes => false);\n" + change
    )


def _drop_checks(table: str) -> str:
    return (
        "SELECT format('ALTER TABLE %s DROP CONSTRAINT %I;', conrelid::regclass, conname) "
        f"FROM pg_constraint WHERE conrelid = '{table}'::regclass AND contype = 'c' \\gexec\n"
    )


def _drop_brin(table: str) -> str:
    return (
        "SELECT format('DROP INDEX %s;', indexrelid::regclass) FROM pg_index "
        "JOIN pg_class ON pg_class.oid = indexrelid JOIN pg_am ON pg_am.oid = relam "
        f"WHERE indrelid = '{table}'::regclass AND amname = 'brin' \\gexec\n"
    )


def _drop_primary_key(table: str) -> str:
    return (
        "SELECT format('ALTER TABLE %s DROP CONSTRAINT %I;', conrelid::regclass, conname) "
        f"FROM pg_constraint WHERE conrelid = '{table}'::regclass AND contype = 'p' \\gexec\n"
    )


# Prices and volume as double precision, to price numeric's parsing and comparisons (issue 12
# names them as a cost). Not a candidate as it stands: a double holds 15 to 17 significant
# digits, numeric(20, 8) (the seeds' type) 20, exactly.
_DOUBLE_PRICES = ", ".join(
    f"ALTER COLUMN {column} TYPE double precision"
    for column in ("open", "high", "low", "close", "volume", "vwap")
)


def _ceiling(name: str, change: str = "") -> str:
    """DDL for an UNLOGGED table with market_data.candles's columns and nothing else, changed."""
    table = f"{BENCH_SCHEMA}.{name}"
    # LIKE copies NOT NULL; dropped too, so that nothing is checked at all.
    return (
        f"CREATE UNLOGGED TABLE {table} (LIKE market_data.candles INCLUDING DEFAULTS);\n"
        f"SELECT format('ALTER TABLE {table} ALTER COLUMN %I DROP NOT NULL;', attname) "
        f"FROM pg_attribute WHERE attrelid = '{table}'::regclass AND attnum > 0 "
        "AND attnotnull \\gexec\n" + change
    )


CEILING = Variant(
    "ceiling",
    f"{BENCH_SCHEMA}.ceiling",
    "UNLOGGED, same columns, no index, no constraint",
    _ceiling("ceiling"),
    sized=False,
)
CANDLES = Variant(
    "candles", "market_data.candles", "the migrated table: key, checks, BRIN(ts); no FK"
)


def _candles_before_0009() -> str:
    """DDL for market_data.candles as migration 0003 created it (keyed by the asset's uuid),
    read from that file, in schema bench: the "before" of migration 0009, timed in the same run."""
    text = (SQL_DIRECTORY / "migrations" / "0003_market_data_candles.sql").read_text()
    start = text.index("CREATE TABLE market_data.candles (")
    table = text[start : text.index("\n);\n", start) + 4]
    return (
        table.replace("market_data.candles", f"{BENCH_SCHEMA}.candles_uuid_keyed")
        + f"SELECT create_hypertable('{BENCH_SCHEMA}.candles_uuid_keyed', "
        "by_range('ts', INTERVAL '7 days'), create_default_indexes => false);\n"
        f"CREATE INDEX ON {BENCH_SCHEMA}.candles_uuid_keyed USING brin (ts);\n"
    )


CANDLES_UUID_KEYED = Variant(
    "candles_uuid_key",
    f"{BENCH_SCHEMA}.candles_uuid_keyed",
    "candles before 0009: primary key (asset_id uuid, timeframe, ts)",
    _candles_before_0009(),
    asset="id",
)
SEED_SHAPE = Variant(
    "seed_shape",
    f"{BENCH_SCHEMA}.seed_candles",
    "seed 1: bigserial, 2 indexes + default ts index, FK",
    f"""
    CREATE TABLE {BENCH_SCHEMA}.seed_candles (
        id bigserial NOT NULL,
        asset_id uuid NOT NULL REFERENCES market_data.assets (id),
        ts timestamptz NOT NULL,
        timeframe market_data.timeframe NOT NULL,
        open numeric(20, 8) NOT NULL,
        high numeric(20, 8) NOT NULL,
        low numeric(20, 8) NOT NULL,
        close numeric(20, 8) NOT NULL,
        volume numeric(28, 8) NOT NULL,
        trades_count integer,
        vwap numeric(20, 8),
        source text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (id, ts)
    );
    -- Seed 1's call, which also creates the default (ts DESC) index.
    SELECT create_hypertable('{BENCH_SCHEMA}.seed_candles', 'ts',
        chunk_time_interval => INTERVAL '7 days');
    CREATE INDEX ON {BENCH_SCHEMA}.seed_candles (asset_id, ts, timeframe);
    CREATE INDEX ON {BENCH_SCHEMA}.seed_candles (ts, asset_id);
    """,
    asset="id",
)
BREAKDOWN = (
    Variant(
        "candles_copy",
        f"{BENCH_SCHEMA}.candles_copy",
        "candles rebuilt by LIKE ... INCLUDING ALL: the control for the copies below",
        _copy_of_candles("candles_copy", ""),
    ),
    Variant(
        "logged_heap",
        f"{BENCH_SCHEMA}.logged_heap",
        "logged plain table, no index, no constraint (WAL alone)",
        f"CREATE TABLE {BENCH_SCHEMA}.logged_heap "
        f"(LIKE {BENCH_SCHEMA}.ceiling INCLUDING DEFAULTS);",
        sized=False,
    ),
    Variant(
        "candles_bare",
        f"{BENCH_SCHEMA}.candles_bare",
        "candles with no index and no check: the hypertable alone",
        _copy_of_candles(
            "candles_bare",
            _drop_checks("bench.candles_bare")
            + "ALTER TABLE bench.candles_bare DROP CONSTRAINT candles_bare_pkey;\n"
            "SELECT format('DROP INDEX %s;', indexrelid::regclass) FROM pg_index "
            "WHERE indrelid = 'bench.candles_bare'::regclass \\gexec\n",
        ),
    ),
    Variant(
        "candles_1d_chunks",
        f"{BENCH_SCHEMA}.candles_1d_chunks",
        "candles with 1-day chunks instead of 7",
        _copy_of_candles("candles_1d_chunks", "", chunk_interval="1 day"),
    ),
    Variant(
        "candles_fk",
        f"{BENCH_SCHEMA}.candles_fk",
        "candles + FOREIGN KEY (asset_key) to assets (key)",
        _copy_of_candles(
            "candles_fk",
            f"ALTER TABLE {BENCH_SCHEMA}.candles_fk ADD FOREIGN KEY (asset_key) "
            "REFERENCES market_data.assets (key);\n",
        ),
    ),
    Variant(
        "candles_no_brin",
        f"{BENCH_SCHEMA}.candles_no_brin",
        "candles without the BRIN(ts) index",
        _copy_of_candles("candles_no_brin", _drop_brin("bench.candles_no_brin")),
    ),
    Variant(
        "candles_nine_checks",
        f"{BENCH_SCHEMA}.candles_nine_checks",
        "candles with the seeds' nine checks as written, not the four that imply them",
        _copy_of_candles(
            "candles_nine_checks",
            _drop_checks("bench.candles_nine_checks")
            + "ALTER TABLE bench.candles_nine_checks ADD CHECK (open > 0), ADD CHECK (high > 0), "
            "ADD CHECK (low > 0), ADD CHECK (close > 0), ADD CHECK (volume >= 0), "
            "ADD CHECK (high >= low), ADD CHECK (high >= open AND high >= close), "
            "ADD CHECK (low <= open AND low <= close);\n",
        ),
    ),
    Variant(
        "candles_no_checks",
        f"{BENCH_SCHEMA}.candles_no_checks",
        "candles without its CHECK constraints",
        _copy_of_candles("candles_no_checks", _drop_checks("bench.candles_no_checks")),
    ),
)


def _time_keyed(name: str, change: str = "") -> str:
    """DDL for a copy of candles keyed (ts, asset_key, timeframe), without the BRIN index, which
    such a key makes redundant (it serves time ranges across all assets itself)."""
    table = f"{BENCH_SCHEMA}.{name}"
    return _copy_of_candles(
        name,
        _drop_primary_key(table)
        + _drop_brin(table)
        + f"ALTER TABLE {table} ADD PRIMARY KEY (ts, asset_key, timeframe);\n"
        + change,
    )


KEY_AFTER_LOAD = f"{BENCH_SCHEMA}.candles_key_after_load"
DOUBLE_CEILING = Variant(
    "double_ceiling",
    f"{BENCH_SCHEMA}.double_ceiling",
    "the ceiling with double precision prices and volume; ratio: against the numeric ceiling",
    _ceiling("double_ceiling", f"ALTER TABLE {BENCH_SCHEMA}.double_ceiling {_DOUBLE_PRICES};\n"),
    sized=False,
)
KEYS = (
    Variant(
        "time_key",
        f"{BENCH_SCHEMA}.candles_time_key",
        "primary key (ts, asset_key, timeframe), no BRIN: a time-ordered load appends to the key",
        _time_keyed("candles_time_key"),
    ),
    Variant(
        "time_key_no_checks",
        f"{BENCH_SCHEMA}.candles_time_key_no_checks",
        "time_key without the CHECK constraints: what the key alone costs over the hypertable",
        _time_keyed("candles_time_key_no_checks", _drop_checks("bench.candles_time_key_no_checks")),
    ),
    Variant(
        "time_key_asset_index",
        f"{BENCH_SCHEMA}.candles_time_key_asset_index",
        "time_key + index (asset_key, timeframe, ts) for one asset's reads",
        _time_keyed(
            "candles_time_key_asset_index",
            f"CREATE INDEX ON {BENCH_SCHEMA}.candles_time_key_asset_index "
            "(asset_key, timeframe, ts);\n",
        ),
    ),
    Variant(
        "key_after_load",
        KEY_AFTER_LOAD,
        "candles with no index during the COPY; its key and BRIN built per chunk after it, timed",
        _copy_of_candles("candles_key_after_load", ""),
        finish=f"ALTER TABLE {KEY_AFTER_LOAD} ADD PRIMARY KEY (asset_key, timeframe, ts);\n"
        f"CREATE INDEX ON {KEY_AFTER_LOAD} USING brin (ts);\n",
        reset=_drop_primary_key(KEY_AFTER_LOAD) + _drop_brin(KEY_AFTER_LOAD),
    ),
    DOUBLE_CEILING,
    Variant(
        "double_prices",
        f"{BENCH_SCHEMA}.candles_double_prices",
        "candles with double precision prices and volume; ratio: against double_ceiling",
        _copy_of_candles(
            "candles_double_prices",
            f"ALTER TABLE {BENCH_SCHEMA}.candles_double_prices {_DOUBLE_PRICES};\n",
        ),
        ceiling=DOUBLE_CEILING.name,
    ),
)


def create_variants(target: Target, variants: Sequence[Variant]) -> None:
    """(Re)create the benchmark's own tables in schema bench; market_data.candles is as is."""
    target.psql(
        f"DROP SCHEMA IF EXISTS {BENCH_SCHEMA} CASCADE;\nCREATE SCHEMA {BENCH_SCHEMA};\n"
        + CEILING.create
    )
    for variant in variants:
        if variant.create and variant is not CEILING:
            target.psql(variant.create)


def empty(target: Target, variant: Variant) -> None:
    target.psql(f"TRUNCATE {variant.table};")


def reset(target: Target, variant: Variant) -> None:
    """Empty the table and undo what ``finish`` built, for the next COPY."""
    target.psql(f"TRUNCATE {variant.table};\n{variant.reset}")


# --- Timing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """One COPY: the server's wall-clock seconds, and the CPU seconds of its backend process
    (which other droplets competing for the host's two cores inflate far less)."""

    wall: float
    cpu: float

    def seconds(self, measure: Measure) -> float:
        return self.wall if measure == "wall" else self.cpu


@dataclass
class Measurements:
    timings: dict[str, list[Timing]] = field(default_factory=dict)

    def add(self, name: str, timing: Timing) -> None:
        self.timings.setdefault(name, []).append(timing)

    def median(self, name: str, measure: Measure) -> float:
        return statistics.median(timing.seconds(measure) for timing in self.timings[name])

    def median_ratio(self, variant: Variant, measure: Measure) -> float:
        """Median over rounds of the variant's ceiling's time over its own, in the same round."""
        return statistics.median(
            ceiling.seconds(measure) / timing.seconds(measure)
            for ceiling, timing in zip(
                self.timings[variant.ceiling], self.timings[variant.name], strict=True
            )
        )


def _cpu_ticks(stat: str) -> int:
    """utime + stime from a /proc/PID/stat line (fields 14 and 15, after the command name)."""
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])


def copy_timing(target: Target, variant: Variant, path: str, ticks_per_second: int) -> Timing:
    """Time ``COPY table FROM 'path'`` (a file naming assets as the variant does) and the
    variant's ``finish``: psql's \\timing of each statement, summed, and the backend's own CPU
    time, which it reads from /proc/self/stat before and after (pg_read_file: superuser)."""
    reset(target, variant)
    # The file is read from the page cache in every run, and no checkpoint owed by the previous
    # run lands in this one.
    target.sh(f"cat {path} > /dev/null")
    target.psql("CHECKPOINT;")
    output = target.psql(
        "SELECT 'stat ' || pg_read_file('/proc/self/stat');\n"
        f"\\timing on\nCOPY {variant.table} ({columns(variant.asset)}) FROM '{path}' "
        f"WITH (FORMAT csv);\n{variant.finish}"
        "\\timing off\nSELECT 'stat ' || pg_read_file('/proc/self/stat');\n",
        timeout=COPY_TIMEOUT,
    )
    walls = _TIME.findall(output)
    stats = [line[len("stat ") :] for line in output.splitlines() if line.startswith("stat ")]
    if not walls or len(stats) != 2:
        raise SandboxError(f"no timing in psql's output:\n{output}")
    ticks = _cpu_ticks(stats[1]) - _cpu_ticks(stats[0])
    return Timing(sum(float(wall) for wall in walls) / 1000, ticks / ticks_per_second)


def describe_server(target: Target) -> str:
    return target.psql(
        "SELECT format('PostgreSQL %s, TimescaleDB %s (%s edition)', "
        "current_setting('server_version'), extversion, current_setting('timescaledb.license')) "
        "FROM pg_extension WHERE extname = 'timescaledb';\n"
        "SELECT string_agg(name || '=' || current_setting(name), ' ' ORDER BY name) "
        "FROM pg_settings WHERE name IN ('shared_buffers', 'max_wal_size', 'wal_level', "
        "'synchronous_commit', 'full_page_writes', 'wal_compression', 'wal_buffers', "
        "'checkpoint_timeout', 'maintenance_work_mem');"
    ).strip()


def describe_sizes(target: Target, table: str) -> str:
    """Chunks, sizes and bytes per row (heap and TOAST, then every index) of hypertable
    ``table`` after its last load."""
    return target.psql(
        "SELECT format('%s chunks; table %s + indexes %s = %s bytes/row', "
        f"(SELECT count(*) FROM show_chunks('{table}')), "
        "pg_size_pretty(s.table_bytes + s.toast_bytes), pg_size_pretty(s.index_bytes), "
        f"round(s.total_bytes::numeric / nullif((SELECT count(*) FROM {table}), 0))) "
        f"FROM hypertable_detailed_size('{table}') AS s;"
    ).strip()


def main() -> int:
    parser, arguments = _arguments()
    target = (
        Target.container(arguments.container)
        if arguments.container
        else Target.ssh(arguments.ssh_config, arguments.host)
    )
    variants = _variants(parser, arguments)
    try:
        require_schema(target)
        check_seed_conditions(target)
        paths = {
            asset: generate_csv(target, arguments.rows, arguments.assets, asset)
            for asset in dict.fromkeys(variant.asset for variant in variants)
        }
        create_variants(target, variants)
        print(f"{target.description}: {describe_server(target)}")
        print(
            f"{arguments.rows:,} rows, {arguments.assets} assets, 1m bars, from "
            f"{', '.join(paths.values())}"
        )
        measurements = _rounds(target, variants, paths, arguments)
    except SandboxError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    _print_medians(measurements, variants, arguments)
    if not arguments.keep:
        target.psql(f"DROP SCHEMA {BENCH_SCHEMA} CASCADE;")
    return 0


def _arguments() -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--container", help="the droplet's container (docker exec)")
    where.add_argument("--host", help="the droplet's name in --ssh-config (ssh, as root)")
    parser.add_argument("--ssh-config", type=Path, help="ssh_config for --host")
    parser.add_argument("--rows", type=int, default=6_000_000, help="candles to load")
    parser.add_argument("--assets", type=int, default=250, help="assets the candles spread over")
    parser.add_argument("--runs", type=int, default=3, help="rounds over every variant")
    parser.add_argument(
        "--breakdown", action="store_true", help="also price a FK, the BRIN index, the checks"
    )
    parser.add_argument(
        "--keys",
        action="store_true",
        help="also the alternative keys, the key built after the load, double precision prices",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="VARIANT",
        help="run only these variants (and the ceilings they are compared with)",
    )
    parser.add_argument("--keep", action="store_true", help="leave the loaded tables in place")
    arguments = parser.parse_args()
    if arguments.host and arguments.ssh_config is None:
        parser.error("--host needs --ssh-config")
    return parser, arguments


def _variants(parser: argparse.ArgumentParser, arguments: argparse.Namespace) -> list[Variant]:
    """The ceiling first, then the variants asked for (all but the breakdown's and the keys' by
    default), each with the ceiling it is compared with."""
    everything = {
        variant.name: variant
        for variant in (CEILING, CANDLES, CANDLES_UUID_KEYED, SEED_SHAPE, *BREAKDOWN, *KEYS)
    }
    if not arguments.only:
        chosen = [
            CANDLES,
            CANDLES_UUID_KEYED,
            SEED_SHAPE,
            *(BREAKDOWN if arguments.breakdown else ()),
            *(KEYS if arguments.keys else ()),
        ]
    else:
        unknown = sorted(set(arguments.only) - set(everything))
        if unknown:
            parser.error(f"no variant {', '.join(unknown)}; there are {', '.join(everything)}")
        chosen = [everything[name] for name in arguments.only]
    ceilings = [everything[variant.ceiling] for variant in chosen]
    return list(dict.fromkeys([CEILING, *ceilings, *chosen]))


def _rounds(
    target: Target,
    variants: list[Variant],
    paths: dict[AssetColumn, str],
    arguments: argparse.Namespace,
) -> Measurements:
    """Every variant loaded once per round, each round starting one variant later, so that no
    variant always runs first (after the file was generated) or last (after the most data was
    written)."""
    ticks_per_second = int(target.sh("getconf CLK_TCK"))
    measurements = Measurements()
    for round_number in range(1, arguments.runs + 1):
        load = target.sh("cut -d' ' -f1-3 /proc/loadavg").strip()
        print(f"round {round_number} (host load average {load}):")
        shift = (round_number - 1) % len(variants)
        for variant in variants[shift:] + variants[:shift]:
            timing = copy_timing(target, variant, paths[variant.asset], ticks_per_second)
            measurements.add(variant.name, timing)
            print(
                f"  {variant.name:20} {timing.wall:6.1f} s {arguments.rows / timing.wall:9,.0f}"
                f" rows/s   backend CPU {timing.cpu:6.1f} s",
                flush=True,
            )
            if variant.sized and round_number == arguments.runs:
                print(f"  ({describe_sizes(target, variant.table)})")
            if not arguments.keep or round_number < arguments.runs:
                empty(target, variant)
    return measurements


def _print_medians(
    measurements: Measurements, variants: list[Variant], arguments: argparse.Namespace
) -> None:
    print(
        f"median over {arguments.runs} round(s); ratio = the ceiling's time / the variant's time "
        "in the same round"
    )
    print(f"  {'':20} {'rows/s':>9}  ratio  {'CPU rows/s':>10}  ratio")
    for variant in variants:
        wall = measurements.median(variant.name, "wall")
        cpu = measurements.median(variant.name, "cpu")
        print(
            f"  {variant.name:20} {arguments.rows / wall:9,.0f}  "
            f"{measurements.median_ratio(variant, 'wall'):5.2f}  "
            f"{arguments.rows / cpu:10,.0f}  {measurements.median_ratio(variant, 'cpu'):5.2f}"
            f"  {variant.meaning}"
        )


if __name__ == "__main__":
    sys.exit(main())
