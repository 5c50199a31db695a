"""Failover figures on the three-droplet cluster sandbox, repeated for a median and a maximum.

    .venv/bin/python -m benchmarks.cluster_failover [--rounds 5] [--keep]

(``-m`` from the repository root: it shares the cluster tests' writer, ``tests/cluster``.)

Each round, with a writer committing numbered rows through a replica's read-write port (as
tests/cluster/test_patroni_deploy.py does once): ``kill -9`` of the leader's postmaster; the
loss of the leader's droplet (cut off the network), then its return and rejoin as a
replica; a planned switchover to the synchronous standby; then the loss of the leader's
droplet again with Patroni's synchronous_mode off (restored afterwards). For each: the seconds
from the event to the first commit acknowledged after the outage, the longest gap between two
acknowledged commits, and the acknowledged commits the leader does not hold afterwards (in
asynchronous mode also their WAL, which maximum_lag_on_failover bounds).
The droplets (``patroni-1`` to ``-3`` and ``patroni-backup``, the deploy tests' own) are made
and deployed if missing, and removed at the end unless ``--keep``. The machine is shared:
indications only.
"""

import argparse
import statistics
import subprocess
import time
from collections.abc import Callable

from datalayer.paths import REPOSITORY_ROOT
from datalayer.sandbox import DropletSpec, Sandbox
from datalayer.spec import load_environment
from datalayer.spec.backup import BACKUP_REPOSITORY_GROUP
from tests.cluster.conftest import ENVIRONMENT, SIZE, ClusterSandbox
from tests.cluster.patroni import (
    CLUSTER,
    LAYOUT,
    PATRONICTL,
    Writer,
    create_probe,
    healthy,
    isolate,
    leader,
    lost,
    lost_wal,
    members,
    set_synchronous_mode,
    started_writer,
    wait_for,
)  # fmt: skip

PREFIX = "patroni"
GROUPS = ("timescaledb", "etcd")
COMMITS_AFTER = 20
"""Commits acknowledged after the last failed one before a round ends: past the outage."""


def cluster_sandbox() -> ClusterSandbox:
    """The deploy tests' three droplets and their secrets, made if missing."""
    sandbox = Sandbox(REPOSITORY_ROOT / ".sandbox" / "tests-cluster")
    resources = load_environment(ENVIRONMENT).timescaledb.resources
    specs = [DropletSpec(f"{PREFIX}-{index}", GROUPS) for index in range(1, SIZE + 1)]
    # The members' shared pgBackRest repository, as the tests' fixture has it.
    specs.append(DropletSpec(f"{PREFIX}-backup", (BACKUP_REPOSITORY_GROUP,)))
    droplets = sandbox.up(
        specs, env=ENVIRONMENT, memory=resources.model_dump()["memory"],
        cpus=float(resources.cpus),
    )  # fmt: skip
    secret_dir = sandbox.paths.directory / f"{PREFIX}-secrets"
    secret_dir.mkdir(mode=0o700, exist_ok=True)
    return ClusterSandbox(sandbox, droplets, secret_dir)


def measured(
    cluster: ClusterSandbox, event: Callable[[], object], synchronous: bool = True
) -> tuple[Writer, float]:
    """A writer run through ``event``, stopped once it is past the outage."""
    writer = started_writer(cluster, synchronous)
    moment = time.monotonic()
    event()
    wait_for(
        "commits after the event",
        lambda: writer.past_an_outage(moment, COMMITS_AFTER),
        timeout=CLUSTER.recovery_time_target * 3,
    )
    writer.stop()
    return writer, moment


def one_round(cluster: ClusterSandbox) -> dict[str, float]:
    figures: dict[str, float] = {}

    killed = leader(cluster)
    writer, moment = measured(
        cluster,
        lambda: cluster.sh(killed, f"kill -9 $(head -1 {LAYOUT.data_directory}/postmaster.pid)"),
    )
    figures["kill -9: first commit after the outage (s)"] = writer.recovery_after(moment)
    figures["kill -9: lost acknowledged commits"] = len(lost(cluster, writer))

    lost_leader = leader(cluster)
    writer, moment = measured(cluster, lambda: isolate(cluster, lost_leader))
    figures["droplet lost: first commit after the outage (s)"] = writer.recovery_after(moment)
    figures["droplet lost: lost acknowledged commits"] = len(lost(cluster, writer, (lost_leader,)))
    figures["old leader: back to streaming (s)"] = rejoined_after_return(cluster, lost_leader)

    def switch_over() -> None:
        current = leader(cluster)
        candidate = next(
            name for name, member in members(cluster).items() if member["Role"] == "Sync Standby"
        )
        cluster.sh(
            current,
            f"{PATRONICTL} switchover {CLUSTER.scope} --leader {current} "
            f"--candidate {candidate} --force",
        )

    writer, moment = measured(cluster, switch_over)
    figures["switchover: longest write gap (s)"] = writer.longest_gap(moment)
    figures["switchover: lost acknowledged commits"] = len(lost(cluster, writer))

    set_synchronous_mode(cluster, False)
    lost_leader = leader(cluster)
    writer, moment = measured(cluster, lambda: isolate(cluster, lost_leader), synchronous=False)
    figures["asynchronous, droplet lost: first commit after the outage (s)"] = (
        writer.recovery_after(moment)
    )
    figures["asynchronous, droplet lost: lost acknowledged commits"] = len(
        lost(cluster, writer, (lost_leader,))
    )
    figures["asynchronous, droplet lost: their WAL (bytes)"] = lost_wal(
        cluster, writer, (lost_leader,)
    )
    rejoined_after_return(cluster, lost_leader)
    set_synchronous_mode(cluster, True)
    wait_for("a leader, a synchronous standby and a replica", lambda: healthy(cluster))
    return figures


def rejoined_after_return(cluster: ClusterSandbox, lost_leader: str) -> float:
    """Seconds from letting the lost old leader's droplet back on the network until it streams
    again."""
    returned = time.monotonic()
    isolate(cluster, lost_leader, cut=False)
    wait_for(
        f"{lost_leader} streaming again",
        lambda: members(cluster).get(lost_leader, {}).get("State") == "streaming",
        timeout=180,
    )
    return time.monotonic() - returned


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the droplets afterwards")
    arguments = parser.parse_args()
    cluster = cluster_sandbox()
    deployed = cluster.deploy()
    if not deployed.succeeded:
        raise SystemExit(deployed.output)
    create_probe(cluster)
    rounds = []
    for number in range(1, arguments.rounds + 1):
        figures = one_round(cluster)
        rounds.append(figures)
        print(f"round {number}: " + "; ".join(f"{k} {v:.2f}" for k, v in figures.items()))
    print(f"\n{arguments.rounds} rounds, on 2 cores shared with other work:")
    for key in rounds[0]:
        values = [figures[key] for figures in rounds]
        print(f"  {key}: median {statistics.median(values):.2f}, max {max(values):.2f}")
    if not arguments.keep:
        cluster.sandbox.down([droplet.name for droplet in cluster.droplets])
        subprocess.run(["rm", "-rf", str(cluster.secret_dir)], check=True)


if __name__ == "__main__":
    main()
