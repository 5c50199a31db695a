"""Benchmark: first deploy to fresh sandbox droplets (one per role that runs here), then no-ops.

    .venv/bin/python benchmarks/deploy_sandbox.py [--runs N]

Prints wall-clock seconds of the first deploy and of each no-op deploy, the operations each
changed, and whether PostgreSQL's postmaster and redis-server kept running through the no-op runs
(targets: TimescaleDB alone under 10 s; all roles under 15 s; zero changes; nothing restarted).
InfluxDB 2 cannot run on these machines (README), so its role is not in the sandbox. The droplet
image is built beforehand, so its one-off build time is not counted.
"""

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from datalayer.deploy_run import run_deploy
from datalayer.paths import REPOSITORY_ROOT
from datalayer.sandbox import DropletSpec, Sandbox
from datalayer.secrets import secret_variables
from datalayer.spec import load_environment

DATABASE = DropletSpec("bench-db", ("timescaledb",))
CACHE = DropletSpec("bench-cache", ("redis",))
# What must not change across a no-op deploy: the postmaster's start and redis-server's PID.
SERVER_IDENTITY = {
    DATABASE.container: "runuser -u postgres -- psql -XAtq -c 'SELECT pg_postmaster_start_time()'",
    CACHE.container: "systemctl show --property MainPID --value redis-server",
}


def server_identities() -> dict[str, str]:
    return {
        container: subprocess.run(
            ["docker", "exec", container, "sh", "-c", command],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for container, command in SERVER_IDENTITY.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="no-op deploys to time")
    arguments = parser.parse_args()

    environment = load_environment("sandbox")
    sandbox = Sandbox(REPOSITORY_ROOT / ".sandbox" / "benchmark")
    sandbox.ensure_image()
    sandbox.down_all()
    sandbox.up([DATABASE, CACHE])
    with tempfile.TemporaryDirectory() as secret_directory:
        environ = dict(os.environ)
        for variable in secret_variables(environment):
            path = Path(secret_directory) / variable
            path.write_text(secrets.token_urlsafe(24))
            environ[f"{variable}_FILE"] = str(path)

        first = run_deploy(sandbox.paths.inventory, environ)
        if not first.succeeded:
            print(first.output, file=sys.stderr)
            return 1
        before = server_identities()
        print(f"first deploy:     {first.seconds:5.1f} s  {first.changed} operations changed")
        timings = []
        for run in range(1, arguments.runs + 1):
            again = run_deploy(sandbox.paths.inventory, environ)
            kept = server_identities() == before
            timings.append(again.seconds)
            print(
                f"no-op deploy {run}: {again.seconds:5.1f} s  {again.changed} operations changed, "
                f"servers {'kept running' if kept else 'RESTARTED'}"
            )
            if not again.succeeded or again.changed or not kept:
                print(again.output, file=sys.stderr)
                return 1
    print(f"no-op deploy median: {statistics.median(timings):.1f} s over {len(timings)} runs")
    sandbox.down_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
