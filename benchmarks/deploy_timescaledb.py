"""Benchmark: first deploy of TimescaleDB to a fresh sandbox droplet, then a no-op deploy.

    .venv/bin/python benchmarks/deploy_timescaledb.py [--runs N]

Prints wall-clock seconds of each deploy, the operations each changed, and whether the
postmaster's start time survived the no-op run (target: under 10 s, zero changes, same start).
The droplet image is built beforehand, so its one-off build time is not counted.
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
from datalayer.spec import load_environment

DROPLET = "bench-1"


def postmaster_started(container: str) -> str:
    command = "runuser -u postgres -- psql -XAtq -c 'SELECT pg_postmaster_start_time()'"
    return subprocess.run(
        ["docker", "exec", container, "sh", "-c", command],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="no-op deploys to time")
    arguments = parser.parse_args()

    spec = load_environment("sandbox").timescaledb
    sandbox = Sandbox(REPOSITORY_ROOT / ".sandbox" / "benchmark")
    sandbox.ensure_image()
    sandbox.down_all()
    (droplet,) = sandbox.up(
        [DropletSpec(DROPLET, ("timescaledb",))],
        memory=spec.resources.model_dump()["memory"],
        cpus=float(spec.resources.cpus),
    )
    with tempfile.TemporaryDirectory() as secret_directory:
        environ = dict(os.environ)
        for role in spec.roles:
            path = Path(secret_directory) / role.password_secret
            path.write_text(secrets.token_urlsafe(24))
            environ[f"{role.password_secret}_FILE"] = str(path)

        first = run_deploy(sandbox.paths.inventory, environ)
        if not first.succeeded:
            print(first.output, file=sys.stderr)
            return 1
        started = postmaster_started(droplet.container)
        print(f"first deploy:  {first.seconds:6.1f} s  {first.changed} operations changed")
        timings = []
        for run in range(1, arguments.runs + 1):
            again = run_deploy(sandbox.paths.inventory, environ)
            same = postmaster_started(droplet.container) == started
            timings.append(again.seconds)
            print(
                f"no-op deploy {run}: {again.seconds:5.1f} s  {again.changed} operations changed, "
                f"postmaster start time {'unchanged' if same else 'CHANGED'}"
            )
            if not again.succeeded or again.changed or not same:
                print(again.output, file=sys.stderr)
                return 1
    print(f"no-op deploy median: {statistics.median(timings):.1f} s over {len(timings)} runs")
    sandbox.down_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
