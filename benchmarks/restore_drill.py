"""Benchmark: the restore drill's time for the ingest benchmark's candles, and the data's age.

    .venv/bin/python benchmarks/restore_drill.py --inventory INVENTORY --env ENV \\
        --ssh-config SSH_CONFIG --source drill-db --target drill-scratch [--rows 6000000]

Takes a source where TimescaleDB is deployed with an s3 or sftp repository and a scratch host of
the same inventory; loads ``--rows`` candles into ``market_data.candles`` on the source as the
ingest benchmark generates them (``benchmarks/ingest_candles.py``: 250 assets, 1m bars, one
server-side COPY; the table is emptied first), takes a full backup with the deploy's own unit,
then runs ``python -m datalayer.restore drill`` once and prints its report: the restore time
(pgBackRest's restore, then recovery until promotion), the data's age at the restore point, and
the counts it compared. The whole drill's wall time (the scratch host's deploy and the source's
archive wait included) is printed beside it. The host runs other droplets and other work: a
single run, so read it as an order of magnitude.

Secrets come from the environment, as for a deploy (``NAME`` or ``NAME_FILE``).
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

from ingest_candles import CANDLES, Target, columns, generate_csv, require_schema

from datalayer.paths import REPOSITORY_ROOT
from datalayer.sandbox.commands import SandboxError
from datalayer.spec import load_environment
from datalayer.timescaledb.backup.layout import backup_units

LOAD_TIMEOUT = 3600.0


def load_candles(target: Target, rows: int, assets: int) -> None:
    """Empty market_data.candles and COPY the ingest benchmark's file into it."""
    require_schema(target)
    path = generate_csv(target, rows, assets)
    target.psql(
        f"TRUNCATE {CANDLES.table};\n"
        f"COPY {CANDLES.table} ({columns()}) FROM '{path}' WITH (FORMAT csv);",
        timeout=LOAD_TIMEOUT,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--inventory", type=Path, required=True)
    parser.add_argument("--env", required=True, help="the source's environment")
    parser.add_argument("--ssh-config", type=Path, required=True, help="reaches --source")
    parser.add_argument("--source", required=True, help="the source's host in --ssh-config")
    parser.add_argument("--target", required=True, help="the scratch host of the inventory")
    parser.add_argument("--rows", type=int, default=6_000_000, help="candles to load")
    parser.add_argument("--assets", type=int, default=250, help="assets the candles spread over")
    arguments = parser.parse_args()
    source = Target.ssh(arguments.ssh_config, arguments.source)
    backup = load_environment(arguments.env).timescaledb.backup
    try:
        started = time.monotonic()
        load_candles(source, arguments.rows, arguments.assets)
        loaded = time.monotonic()
        source.sh(f"systemctl start {backup_units(backup)[0].service}", timeout=LOAD_TIMEOUT)
        backed_up = time.monotonic()
    except SandboxError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(
        f"{arguments.rows:,} candles loaded in {loaded - started:.0f} s, full backup in "
        f"{backed_up - loaded:.0f} s",
        flush=True,
    )
    drill = subprocess.run(
        [sys.executable, "-m", "datalayer.restore", "drill", "--env", arguments.env,
         str(arguments.inventory), "--target", arguments.target],
        cwd=REPOSITORY_ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    print(drill.stdout, end="")
    print(f"the whole drill: {time.monotonic() - backed_up:.0f} s (deploy and archive wait too)")
    return drill.returncode


if __name__ == "__main__":
    sys.exit(main())
