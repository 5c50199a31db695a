"""Benchmark: first deploy to fresh sandbox droplets, then no-op redeploys, per host and together.

    .venv/bin/python benchmarks/deploy_sandbox.py [--rounds N] [--compare CHECKOUT] [--breakdown]

Brings up three TimescaleDB droplets and one Redis droplet, deploys them once (timed), then
times no-op deploys over ``--rounds`` rounds: one TimescaleDB host, one Redis host, and the
three TimescaleDB hosts in one run. It prints the median of each and the ratio of three hosts
to one (issue 12's goals: at most 2 s per host, three hosts at most 1.5 times one). Every no-op
must change nothing and restart nothing (PostgreSQL's postmaster start time and redis-server's
PID are compared), or the benchmark stops with the deploy's output.

``--compare CHECKOUT`` times another checkout of this repository (with its own ``.venv``, e.g.
``git worktree add --detach /tmp/before main``) on the same droplets, alternating with this one
in every round, so that both see the same noise of a shared machine. ``--breakdown`` counts the
commands (one SSH round trip each) that every operation of a no-op deploy runs on one
TimescaleDB host, from pyinfra's ``-vv`` output.

InfluxDB 2 cannot run on these machines (README), so its role is not in the sandbox. The
droplet image is built beforehand, so its one-off build time is not counted.
"""

import argparse
import hashlib
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from datalayer.deploy_run import DeployResult, run_deploy
from datalayer.paths import REPOSITORY_ROOT
from datalayer.sandbox import DropletSpec, Sandbox
from datalayer.secrets import secret_variables
from datalayer.spec import load_environment

# Container names are machine-wide: one prefix per checkout keeps two checkouts' runs apart.
PREFIX = "bench-" + hashlib.sha256(str(REPOSITORY_ROOT).encode()).hexdigest()[:6]
DATABASES = tuple(DropletSpec(f"{PREFIX}-db-{number}", ("timescaledb",)) for number in (1, 2, 3))
CACHE = DropletSpec(f"{PREFIX}-cache", ("redis",))
# What must not change across a no-op deploy: the postmaster's start and redis-server's PID.
DATABASE_IDENTITY = "runuser -u postgres -- psql -XAtq -c 'SELECT pg_postmaster_start_time()'"
CACHE_IDENTITY = "systemctl show --property MainPID --value redis-server"


@dataclass(frozen=True)
class Scenario:
    """A no-op deploy to time: its label and the hosts it deploys."""

    label: str
    hosts: tuple[str, ...]


SCENARIOS = (
    Scenario("one TimescaleDB host", (DATABASES[0].name,)),
    Scenario("one Redis host", (CACHE.name,)),
    Scenario("three TimescaleDB hosts", tuple(spec.name for spec in DATABASES)),
)
_STARTING = re.compile(r"^--> Starting operation: (.+?)\s*$")
_COMMAND = re.compile(r"^\s*\[[^]]+\]\s+>>> ")


def server_identities() -> dict[str, str]:
    commands = {spec.container: DATABASE_IDENTITY for spec in DATABASES}
    commands[CACHE.container] = CACHE_IDENTITY
    return {
        container: subprocess.run(
            ["docker", "exec", container, "sh", "-c", command],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for container, command in commands.items()
    }


def commands_per_operation(output: str) -> Counter[str]:
    """How many commands each operation ran, read from a one-host ``pyinfra -vv`` output: the
    facts' commands and the operation's own, each printed as ``[host] >>> ...``."""
    counts: Counter[str] = Counter()
    operation = "(before the first operation)"
    for line in output.splitlines():
        if started := _STARTING.match(line):
            operation = started.group(1)
        elif _COMMAND.match(line):
            counts[operation] += 1
    return counts


class NoopError(Exception):
    """A no-op deploy failed, changed something or restarted a server."""


def noop(
    inventory: Path,
    environ: Mapping[str, str],
    hosts: Sequence[str],
    checkout: Path | None,
    before: dict[str, str],
    *,
    verbose: bool = False,
) -> DeployResult:
    result = run_deploy(inventory, environ, limit=hosts, checkout=checkout, verbose=verbose)
    if not result.succeeded or result.changed or server_identities() != before:
        raise NoopError(result.output)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds of no-op deploys to time")
    parser.add_argument("--compare", type=Path, help="another checkout to time alongside")
    parser.add_argument(
        "--breakdown", action="store_true", help="commands per operation of a no-op deploy"
    )
    arguments = parser.parse_args()
    checkouts: dict[str, Path | None] = {"this checkout": None}
    if arguments.compare is not None:
        checkouts[f"{arguments.compare}"] = arguments.compare.resolve()

    environment = load_environment("sandbox")
    sandbox = Sandbox(REPOSITORY_ROOT / ".sandbox" / "benchmark")
    sandbox.ensure_image()
    sandbox.down_all()
    sandbox.up([*DATABASES, CACHE])
    inventory = sandbox.paths.inventory
    with tempfile.TemporaryDirectory() as secret_directory:
        environ = dict(os.environ)
        for variable in secret_variables(environment):
            path = Path(secret_directory) / variable
            path.write_text(secrets.token_urlsafe(24))
            path.chmod(0o600)
            environ[f"{variable}_FILE"] = str(path)

        first = run_deploy(inventory, environ)
        if not first.succeeded:
            print(first.output, file=sys.stderr)
            return 1
        print(f"first deploy of all four hosts: {first.seconds:5.1f} s, {first.changed} changed")
        for label, checkout in checkouts.items():
            # Untimed: the other checkout's deploy may have its own once-only work on hosts
            # this one deployed (an older deploy's apt.packages runs apt-get update when it
            # finds no stamp of its cache_time), which no no-op round should count.
            settled = run_deploy(inventory, environ, checkout=checkout)
            if not settled.succeeded:
                print(settled.output, file=sys.stderr)
                return 1
            print(f"settling deploy, {label}: {settled.changed} changed")
        before = server_identities()
        timings: dict[tuple[str, str], list[float]] = {}
        try:
            for number in range(1, arguments.rounds + 1):
                for scenario in SCENARIOS:
                    for label, checkout in checkouts.items():
                        result = noop(inventory, environ, scenario.hosts, checkout, before)
                        timings.setdefault((scenario.label, label), []).append(result.seconds)
                        print(
                            f"round {number}: {scenario.label:24} {label:24} "
                            f"{result.seconds:5.2f} s, nothing changed or restarted"
                        )
            if arguments.breakdown:
                for label, checkout in checkouts.items():
                    verbose = noop(
                        inventory, environ, SCENARIOS[0].hosts, checkout, before, verbose=True
                    )
                    counts = commands_per_operation(verbose.output)
                    print(f"\ncommands of a no-op deploy to one TimescaleDB host, {label}:")
                    for operation, count in counts.most_common():
                        print(f"  {count:3d}  {operation}")
                    print(f"  {sum(counts.values()):3d}  in all")
        except NoopError as failure:
            print(failure.args[0], file=sys.stderr)
            return 1
    print(f"\nno-op deploy, median of {arguments.rounds} rounds (seconds):")
    for label in checkouts:
        medians = {
            scenario.label: statistics.median(timings[(scenario.label, label)])
            for scenario in SCENARIOS
        }
        ratio = medians[SCENARIOS[2].label] / medians[SCENARIOS[0].label]
        print(
            f"  {label:24} "
            + "  ".join(f"{scenario}: {seconds:4.2f}" for scenario, seconds in medians.items())
            + f"  three/one: {ratio:4.2f}"
        )
    sandbox.down_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
