"""Benchmark: Redis Sentinel failovers on three sandbox droplets, repeated.

    .venv/bin/python benchmarks/redis_failover.py [--rounds N] [--keep]

Brings up (or reuses) three droplets of ``Pulumi.sandbox-cluster.yaml``'s redis group, deploys
them, then N times: a writer writes numbered keys through the master, counting those ``WAIT 1``
says a replica has; the master's redis-server is killed (``kill -9``, systemd's restart of it
lifted); a client that finds the master through Sentinel (redis-py) writes until a write is
acknowledged. Reported per round and as median and max: the seconds from the kill to that
write, and the acknowledged writes missing on the new master. Between rounds the killed server
is started again and waits to be a replica, so each round starts from a whole group.

Times are wall-clock on this machine, whose cores other work shares; Sentinel's down-after
(``down_after_milliseconds``, 3 s in the sandbox's stack) is most of each.
"""

import argparse
import secrets
import statistics
from pathlib import Path
from typing import cast

from datalayer.deploy_run import run_deploy
from datalayer.paths import REPOSITORY_ROOT
from datalayer.redis.passwords import user_secrets
from datalayer.sandbox import DropletSpec, Sandbox
from datalayer.sandbox.sentinel import SentinelGroup
from datalayer.spec import load_environment

ENVIRONMENT = "sandbox-cluster"
STATE = REPOSITORY_ROOT / ".sandbox" / "bench-sentinel"
DROPLETS = tuple(DropletSpec(f"sentinel-bench-{number}", ("redis",)) for number in (1, 2, 3))


def secret_files(variables: list[str]) -> dict[str, Path]:
    """One password file per variable (0600), made once and kept with the sandbox's state."""
    directory = STATE / "secrets"
    directory.mkdir(parents=True, exist_ok=True)
    files = {}
    for variable in variables:
        path = directory / variable
        if not path.exists():
            path.write_text(secrets.token_urlsafe(24))
            path.chmod(0o600)
        files[variable] = path
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="leave the droplets running")
    arguments = parser.parse_args()
    spec = load_environment(ENVIRONMENT).redis
    assert spec is not None and spec.sentinel is not None
    secrets_of = user_secrets(spec)
    files = secret_files(list(secrets_of.values()))
    sandbox = Sandbox(STATE)
    droplets = sandbox.up(list(DROPLETS), env=ENVIRONMENT)
    deployed = run_deploy(
        sandbox.paths.inventory, {f"{name}_FILE": str(path) for name, path in files.items()}
    )
    assert deployed.succeeded, deployed.output
    group = SentinelGroup(
        droplets, spec, {user: files[name].read_text() for user, name in secrets_of.items()}
    )
    for droplet in droplets:
        if droplet != group.master():
            group.wait_until_replicating(droplet)
    seconds, promoted, lost, acknowledged = [], [], [], []
    for round_number in range(1, arguments.rounds + 1):
        failover = group.fail_over(f"price:bench:{round_number}")
        values = cast(
            list[str | None], group.master_client("app").mget(failover.writes.acknowledged)
        )
        missing = sum(value is None for value in values)
        seconds.append(failover.seconds)
        promoted.append(failover.promoted_seconds)
        acknowledged.append(len(failover.writes.acknowledged))
        lost.append(missing)
        print(
            f"round {round_number}: {failover.old_master} -> {failover.new_master}: Sentinel "
            f"names it after {failover.promoted_seconds:.2f} s, a write through Sentinel after "
            f"{failover.seconds:.2f} s; {len(failover.writes.acknowledged)} acknowledged "
            f"writes, {missing} missing",
            flush=True,
        )
        killed = group.by_name(failover.old_master)
        group.start_killed_server(killed)
        group.wait_until_replicating(killed)
    print(
        f"over {len(seconds)} rounds: first write through Sentinel median "
        f"{statistics.median(seconds):.2f} s, max {max(seconds):.2f} s; new master named median "
        f"{statistics.median(promoted):.2f} s, max {max(promoted):.2f} s; acknowledged writes "
        f"lost: {sum(lost)} of {sum(acknowledged)}"
    )
    if not arguments.keep:
        sandbox.down([droplet.name for droplet in DROPLETS])


if __name__ == "__main__":
    main()
