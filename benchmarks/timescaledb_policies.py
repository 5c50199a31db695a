"""Benchmark: the Community edition's work on the ingest benchmark's candles.

    .venv/bin/python benchmarks/timescaledb_policies.py --container datalayer-db-1

Takes a droplet where TimescaleDB's Community edition runs and the deploy's hooks applied the
schema, loads the ingest benchmark's candles into ``market_data.candles`` (the same generated
file, 6,000,000 1m bars by default), then times:

- ``history``: the hooks creating ``market_data.candles_daily`` again over those rows, with the
  complete first materialization (the view and its ledger row are dropped first, as a database
  restored from a dump would have them), and a second hooks run with nothing to do;
- ``compression``: every compression job of ``market_data.candles`` run in a session as its
  owner (background jobs of hand-built Community editions fail on Debian 13's PostgreSQL 17.12
  with 'cannot drop portal "" while it is being set up'), with the hypertable's size before and
  after (``hypertable_compression_stats``).

On the Apache edition it stops, saying so. The candles it loaded are left in place (compressed);
run it on a sandbox droplet, never on a database that matters.
"""

import argparse
import sys
import time

from ingest_candles import COLUMNS, COPY_TIMEOUT, Target, generate_csv, require_schema

from datalayer.sandbox.commands import SandboxError
from deploy.timescaledb.hooks import remote_command

VIEW = "market_data.candles_daily"
TABLE = "market_data.candles"


def hooks_apply(target: Target) -> tuple[float, list[str]]:
    """The deployed hooks, applied on the droplet: wall-clock seconds and the report's lines."""
    started = time.perf_counter()
    output = target.sh(remote_command("apply", 5432), input="{}", timeout=COPY_TIMEOUT)
    return time.perf_counter() - started, output.strip().splitlines()


def load_candles(target: Target, rows: int, assets: int) -> None:
    path = generate_csv(target, rows, assets)
    target.psql(
        f"TRUNCATE {TABLE}; COPY {TABLE} ({COLUMNS}) FROM '{path}' WITH (FORMAT csv);",
        timeout=COPY_TIMEOUT,
    )


def sizes(target: Target) -> str:
    """Table, index and total bytes of the hypertable, and bytes per row."""
    return target.psql(
        f"SELECT format('%s table + %s indexes = %s, %s bytes/row', "
        f"pg_size_pretty(table_bytes + coalesce(toast_bytes, 0)), pg_size_pretty(index_bytes), "
        f"pg_size_pretty(total_bytes), "
        f"round(total_bytes::numeric / (SELECT count(*) FROM {TABLE}))) "
        f"FROM hypertable_detailed_size('{TABLE}');"
    ).strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--container", required=True, help="the droplet's container")
    parser.add_argument("--rows", type=int, default=6_000_000, help="candles to load")
    parser.add_argument("--assets", type=int, default=250, help="assets the candles spread over")
    arguments = parser.parse_args()
    target = Target.container(arguments.container)
    try:
        require_schema(target)
        license_name = target.psql("SHOW timescaledb.license;").strip()
        if license_name != "timescale":
            print(f"error: needs the Community edition; {target.description} runs {license_name}")
            return 1
        load_candles(target, arguments.rows, arguments.assets)
        print(f"{arguments.rows:,} candles loaded: {sizes(target)}")

        target.psql(
            f"DROP MATERIALIZED VIEW IF EXISTS {VIEW}; "
            f"DELETE FROM datalayer.continuous_aggregates WHERE view = '{VIEW}';"
        )
        seconds, lines = hooks_apply(target)
        history = [line for line in lines if line.startswith(f"created history {VIEW}")]
        daily = target.psql(f"SELECT count(*) FROM {VIEW};").strip()
        print(f"history: {seconds:.1f} s for the hooks run that created {VIEW} ({daily} rows)")
        print(f"  {history[0] if history else 'no history line: ' + lines[-1]}")
        seconds, lines = hooks_apply(target)
        print(f"  the next hooks run: {seconds:.2f} s, {lines[-1]}")

        owner = target.psql(
            "SELECT owner FROM timescaledb_information.jobs WHERE proc_name = "
            "'policy_compression' AND hypertable_schema = 'market_data' "
            "AND hypertable_name = 'candles';"
        ).split()
        jobs = target.psql(
            "SELECT job_id FROM timescaledb_information.jobs WHERE proc_name = "
            "'policy_compression' AND hypertable_schema = 'market_data' "
            "AND hypertable_name = 'candles';"
        ).split()
        if not jobs:
            print(f"error: {TABLE} has no compression job; does the spec declare compression?")
            return 1
        started = time.perf_counter()
        for job, role in zip(jobs, owner, strict=True):
            target.sh(
                f"runuser -u postgres -- psql -XAtq -v ON_ERROR_STOP=1 -d trading "
                f"-c 'SET ROLE {role}' -c 'CALL run_job({job})'",
                timeout=COPY_TIMEOUT,
            )
        seconds = time.perf_counter() - started
        stats = target.psql(
            "SELECT format('%s of %s chunks compressed: %s before, %s after (%s x smaller)', "
            "number_compressed_chunks, total_chunks, "
            "pg_size_pretty(before_compression_total_bytes), "
            "pg_size_pretty(after_compression_total_bytes), "
            "round(before_compression_total_bytes::numeric "
            "/ nullif(after_compression_total_bytes, 0), 1)) "
            f"FROM hypertable_compression_stats('{TABLE}');"
        ).strip()
        print(f"compression: {seconds:.1f} s for job(s) {', '.join(jobs)} as {owner[0]}")
        print(f"  {stats}")
        print(f"  now: {sizes(target)}")
    except SandboxError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
