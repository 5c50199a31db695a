"""Benchmark: the post-provision hooks on an empty database, then with nothing to do.

    .venv/bin/python benchmarks/hooks.py [--runs N]

Brings up a sandbox droplet, deploys TimescaleDB to it, then times the droplet's hooks runtime
(the one the deploy uploads) against fresh databases: each run applies the whole plan to a new,
empty database (database, extension, privileges, every migration, policies), then re-applies it
with nothing to do. Targets: under 5 s and under 1 s. Times are wall-clock on this machine and
include ``docker exec`` and the Python start on the droplet (about 0.1 s); the login roles exist
already, created by the deploy, as they would on any re-run.
"""

import argparse
import dataclasses
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from datalayer.deploy_run import run_deploy
from datalayer.hooks.build import build_plan
from datalayer.onhost.hooks.plan import HookPlan
from datalayer.paths import REPOSITORY_ROOT
from datalayer.quickstart import secret_files
from datalayer.sandbox import DropletSpec, Sandbox
from datalayer.spec import load_environment
from deploy.timescaledb.hooks import PLAN_FILE, remote_command

DATABASE = DropletSpec("bench-hooks", ("timescaledb",))
BENCH_PLAN = "/tmp/datalayer-bench-plan.json"


def run_hooks(container: str, plan: HookPlan) -> tuple[float, str]:
    """Upload ``plan``, apply it on the droplet; wall-clock seconds of the apply and its report."""
    subprocess.run(
        ["docker", "exec", "-i", container, "sh", "-c", f"cat > {BENCH_PLAN}"],
        input=plan.to_json(), text=True, check=True,
    )  # fmt: skip
    command = remote_command("apply", 5432).replace(PLAN_FILE, BENCH_PLAN)
    started = time.perf_counter()
    completed = subprocess.run(
        ["docker", "exec", "-i", container, "sh", "-c", command],
        input="{}", capture_output=True, text=True, check=False,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(completed.stdout + completed.stderr)
    return elapsed, completed.stdout.strip().splitlines()[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="fresh databases to time")
    arguments = parser.parse_args()

    environment = load_environment("sandbox")
    sandbox = Sandbox(REPOSITORY_ROOT / ".sandbox" / "benchmark-hooks")
    sandbox.ensure_image()
    sandbox.down_all()
    sandbox.up([DATABASE])
    with tempfile.TemporaryDirectory() as secret_directory:
        environ = {**os.environ, **secret_files(environment, Path(secret_directory))}
        deployed = run_deploy(sandbox.paths.inventory, environ)
        if not deployed.succeeded:
            print(deployed.output, file=sys.stderr)
            return 1
    plan = build_plan(environment)
    empty, again = [], []
    for run in range(1, arguments.runs + 1):
        fresh = dataclasses.replace(plan, database=f"bench_hooks_{run}")
        seconds, summary = run_hooks(DATABASE.container, fresh)
        empty.append(seconds)
        print(f"empty database {run}: {seconds:5.2f} s  {summary}")
        seconds, summary = run_hooks(DATABASE.container, fresh)
        again.append(seconds)
        print(f"re-apply {run}:       {seconds:5.2f} s  {summary}")
    print(
        f"median: empty database {statistics.median(empty):.2f} s (target < 5 s), "
        f"re-apply {statistics.median(again):.2f} s (target < 1 s), {len(empty)} runs, "
        f"{len(plan.migrations)} migrations"
    )
    sandbox.down_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
