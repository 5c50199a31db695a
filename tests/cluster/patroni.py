"""What the cluster tests and the failover benchmark share: patronictl's view of the members,
a writer that records acknowledged commits through a member's read-write port, and the checks
on what the leader holds afterwards."""

import json
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise

import psycopg

from datalayer.cluster.patroni import patroni_config_path
from datalayer.spec import load_environment
from datalayer.spec.cluster import Cluster
from datalayer.timescaledb.layout import patroni_layout
from tests.cluster.conftest import ENVIRONMENT, ClusterSandbox

_spec = load_environment(ENVIRONMENT).timescaledb
assert isinstance(_spec.cluster, Cluster)
CLUSTER: Cluster = _spec.cluster
LAYOUT = patroni_layout(_spec)
PATRONICTL = f"patronictl -c {patroni_config_path(LAYOUT)}"
PROBE = "public.failover_probe"
RECOVERY_TARGET = CLUSTER.recovery_time_target


FROZEN: list[str] = []
"""The droplets a node-loss scenario froze, until it is thawed: asked nothing meanwhile."""


def members(cluster: ClusterSandbox, exclude: tuple[str, ...] = ()) -> dict[str, dict[str, str]]:
    """``patronictl list`` by member name, asked of the first running droplet not in
    ``exclude``."""
    asked = next(name for name in cluster.names if name not in (*exclude, *FROZEN))
    listing = json.loads(cluster.sh(asked, f"{PATRONICTL} list -f json"))
    return {member["Member"]: member for member in listing}


def leader(cluster: ClusterSandbox, exclude: tuple[str, ...] = ()) -> str:
    return next(
        name for name, member in members(cluster, exclude).items() if member["Role"] == "Leader"
    )


def wait_for(what: str, check: Callable[[], bool], timeout: float = 120) -> float:
    """Seconds until ``check()`` is true; fails naming ``what`` after ``timeout``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if check():
                return time.monotonic() - started
        except (StopIteration, KeyError, json.JSONDecodeError, subprocess.CalledProcessError):
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{what}: not after {timeout} s")


def streaming_replicas(cluster: ClusterSandbox, count: int, exclude: tuple[str, ...] = ()) -> bool:
    found = members(cluster, exclude).values()
    return sum(member["State"] == "streaming" for member in found) == count


def connect(
    cluster: ClusterSandbox, via: str, port: int, role: str = "app"
) -> psycopg.Connection[tuple[object, ...]]:
    """A session through droplet ``via``'s HAProxy ``port`` (published on 127.0.0.1)."""
    password = cluster.passwords[f"DATALAYER_{role.upper()}_PASSWORD"]
    return psycopg.connect(
        host="127.0.0.1", port=cluster.droplet(via).published_ports[port], dbname="trading",
        user=role, password=password, sslmode="require", connect_timeout=3, autocommit=True,
    )  # fmt: skip


def sql_on(cluster: ClusterSandbox, name: str, query: str) -> str:
    return cluster.sh(name, f'runuser -u postgres -- psql -XAtq -d trading -c "{query}"')


@dataclass
class Writer:
    """Commits numbered rows through one member's read-write port, several per second, and
    records each acknowledged commit. A failed attempt's number is never used again: a commit
    whose acknowledgement was lost may still be in the table, and must not collide."""

    cluster: ClusterSandbox
    via: str
    acknowledged: list[tuple[int, float]] = field(default_factory=list)
    failures: list[float] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(timeout=30)

    def _run(self) -> None:
        number = int(time.time() * 1000) * 1000  # unique across runs against kept droplets
        session = None
        while not self._stop.is_set():
            number += 1
            try:
                if session is None:
                    session = connect(self.cluster, self.via, CLUSTER.read_write_port)
                session.execute(f"INSERT INTO {PROBE} (n) VALUES (%s)", (number,))
                self.acknowledged.append((number, time.monotonic()))
            except psycopg.Error:
                self.failures.append(time.monotonic())
                if session is not None:
                    session.close()
                session = None
                time.sleep(0.2)
            time.sleep(0.05)
        if session is not None:
            session.close()

    def acknowledged_after(self, moment: float) -> int:
        return sum(at > moment for _, at in self.acknowledged)

    def past_an_outage(self, moment: float, commits: int = 20) -> bool:
        """A commit failed after ``moment``, and ``commits`` were acknowledged since the last
        failure: the writer is through the outage (counting from ``moment`` alone would end
        a switchover's round before its outage, while patronictl still waits)."""
        failed = [at for at in self.failures if at > moment]
        return bool(failed) and self.acknowledged_after(failed[-1]) > commits

    def recovery_after(self, moment: float) -> float:
        """Seconds from ``moment`` to the first commit acknowledged after the first failure
        that followed it (0 when no commit failed)."""
        failed = [at for at in self.failures if at > moment]
        if not failed:
            return 0.0
        return min(at for _, at in self.acknowledged if at > failed[0]) - moment

    def longest_gap(self, moment: float) -> float:
        """The longest time between two acknowledged commits around ``moment``."""
        times = [at for _, at in self.acknowledged if at > moment - 5]
        return max((later - earlier for earlier, later in pairwise(times)), default=0.0)


def healthy(cluster: ClusterSandbox) -> bool:
    """A leader, a synchronous standby and a replica, both streaming: in synchronous mode
    Patroni promotes only a member the DCS names synchronous (``patroni/ha.py:1515-1521`` at
    v4.0.7), so a leader lost before it has named one again is not replaced."""
    roles = sorted(member["Role"] for member in members(cluster).values())
    return roles == ["Leader", "Replica", "Sync Standby"] and streaming_replicas(cluster, 2)


def lost(cluster: ClusterSandbox, writer: Writer, exclude: tuple[str, ...] = ()) -> list[int]:
    """The acknowledged numbers the current leader does not hold."""
    present = {
        int(line)
        for line in sql_on(cluster, leader(cluster, exclude), f"SELECT n FROM {PROBE}").split()
    }
    return sorted(number for number, _ in writer.acknowledged if number not in present)


def figure(name: str, value: float, unit: str = "s") -> None:
    print(f"FIGURE {name}: {value:.2f} {unit}")


def freeze(cluster: ClusterSandbox, name: str, action: str) -> None:
    """``docker pause`` (or ``unpause``) droplet ``name``: every process of the droplet stops
    at once, and its peers' packets go unanswered, as when a droplet is lost. Not ``docker
    stop``: a stopped droplet shuts down in order (Patroni hands the leader key over itself,
    which is a switchover, not a loss), and a stopped container gives up its address on the
    sandbox network, which it may not get back (the sandbox does not pin addresses, and other
    droplets start meanwhile), whereas the cluster's configuration names it."""
    subprocess.run(
        ["docker", action, cluster.droplet(name).container], check=True, capture_output=True
    )


def create_probe(cluster: ClusterSandbox) -> None:
    """The table the writer fills, made by the superuser on the leader, writable by app."""
    sql_on(
        cluster,
        leader(cluster),
        f"CREATE TABLE IF NOT EXISTS {PROBE} (n bigint PRIMARY KEY, written_at timestamptz "
        f"NOT NULL DEFAULT clock_timestamp()); GRANT SELECT, INSERT ON {PROBE} TO app",
    )


def started_writer(cluster: ClusterSandbox) -> Writer:
    """A writer through a replica's HAProxy (a member that survives the leader's loss), started
    once the cluster is whole again after the scenario before, and committing."""
    wait_for("a leader, a synchronous standby and a replica", lambda: healthy(cluster))
    current = leader(cluster)
    running = Writer(cluster, next(name for name in cluster.names if name != current))
    running.start()
    wait_for("the writer's first commits", lambda: len(running.acknowledged) > 5, timeout=30)
    return running
