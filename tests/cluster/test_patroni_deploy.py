"""Patroni on etcd behind HAProxy on three sandbox droplets, each in ``timescaledb`` and
``etcd``: the deploy, the ports, a rerun, then the failover proofs of issue 13 in its order of
value (the leader's postmaster killed, the leader's droplet lost, its rejoin, a planned
switchover), each with a writer committing numbered rows through one member's read-write port.

The tests run in file order and share the cluster: each failover starts from the cluster the
one before left. Figures are printed (run with ``-s``): the machine is shared by several
helpers, so they are indications, not measurements.
"""

import json
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

import psycopg
import pytest

from datalayer.cluster.patroni import patroni_config_path
from datalayer.deploy_run import DeployResult
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


@pytest.fixture(scope="module")
def cluster_groups() -> tuple[str, ...]:
    return ("timescaledb", "etcd")


@pytest.fixture(scope="module")
def cluster_prefix() -> str:
    return "patroni"


@pytest.fixture(scope="module")
def first_deploy(cluster_sandbox: ClusterSandbox) -> DeployResult:
    result = cluster_sandbox.deploy()
    assert result.succeeded, result.output
    return result


STOPPED: list[str] = []
"""The droplet the node-loss test froze, until the rejoin test thaws it."""


def members(cluster: ClusterSandbox, exclude: tuple[str, ...] = ()) -> dict[str, dict[str, str]]:
    """``patronictl list`` by member name, asked of the first running droplet not in
    ``exclude``."""
    asked = next(name for name in cluster.names if name not in (*exclude, *STOPPED))
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
    pytest.fail(f"{what}: not after {timeout} s")


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


@pytest.fixture
def probe(cluster_sandbox: ClusterSandbox, first_deploy: DeployResult) -> None:
    """The table the writer fills, made by the superuser on the leader, writable by app."""
    sql_on(
        cluster_sandbox,
        leader(cluster_sandbox),
        f"CREATE TABLE IF NOT EXISTS {PROBE} (n bigint PRIMARY KEY, written_at timestamptz "
        f"NOT NULL DEFAULT clock_timestamp()); GRANT SELECT, INSERT ON {PROBE} TO app",
    )


def healthy(cluster: ClusterSandbox) -> bool:
    """A leader, a synchronous standby and a replica, both streaming: in synchronous mode
    Patroni promotes only a member the DCS names synchronous (``patroni/ha.py:1515-1521`` at
    v4.0.7), so a leader lost before it has named one again is not replaced."""
    roles = sorted(member["Role"] for member in members(cluster).values())
    return roles == ["Leader", "Replica", "Sync Standby"] and streaming_replicas(cluster, 2)


@pytest.fixture
def writer(cluster_sandbox: ClusterSandbox, probe: None) -> Iterator[Writer]:
    """A writer through a replica's HAProxy: a member that survives the leader's loss; started
    once the cluster is whole again after the scenario before."""
    wait_for("a leader, a synchronous standby and a replica", lambda: healthy(cluster_sandbox))
    current = leader(cluster_sandbox)
    via = next(name for name in cluster_sandbox.names if name != current)
    running = Writer(cluster_sandbox, via)
    running.start()
    wait_for("the writer's first commit", lambda: len(running.acknowledged) > 5, timeout=30)
    yield running
    running.stop()


def lost(cluster: ClusterSandbox, writer: Writer, exclude: tuple[str, ...] = ()) -> list[int]:
    """The acknowledged numbers the current leader does not hold."""
    present = {
        int(line)
        for line in sql_on(cluster, leader(cluster, exclude), f"SELECT n FROM {PROBE}").split()
    }
    return sorted(number for number, _ in writer.acknowledged if number not in present)


def figure(name: str, value: float, unit: str = "s") -> None:
    print(f"FIGURE {name}: {value:.2f} {unit}")


def test_one_leader_and_two_streaming_replicas(
    cluster_sandbox: ClusterSandbox, first_deploy: DeployResult
) -> None:
    # Patroni names a synchronous standby in a loop after the replicas stream.
    wait_for("a leader, a synchronous standby and a replica", lambda: healthy(cluster_sandbox))
    assert healthy(cluster_sandbox)


def test_debian_cluster_unit_stays_stopped(
    cluster_sandbox: ClusterSandbox, first_deploy: DeployResult
) -> None:
    states = {
        name: cluster_sandbox.run(
            name, "systemctl is-active postgresql@17-main", check=False
        ).stdout.strip()
        for name in cluster_sandbox.names
    }
    assert set(states.values()) == {"inactive"}


def test_read_write_port_reaches_the_leader_and_writes(
    cluster_sandbox: ClusterSandbox, probe: None
) -> None:
    via = cluster_sandbox.names[0]
    with connect(cluster_sandbox, via, CLUSTER.read_write_port) as session:
        session.execute(f"INSERT INTO {PROBE} (n) VALUES (1) ON CONFLICT DO NOTHING")
        row = session.execute("SELECT pg_is_in_recovery(), count(*) FROM " + PROBE).fetchone()
    assert row is not None and row[0] is False and int(str(row[1])) >= 1


def test_read_only_port_reaches_a_replica(cluster_sandbox: ClusterSandbox, probe: None) -> None:
    via = cluster_sandbox.names[0]
    with connect(cluster_sandbox, via, CLUSTER.read_only_port, "reader") as session:
        row = session.execute("SELECT pg_is_in_recovery()").fetchone()
    assert row == (True,)


def test_reader_cannot_write_through_the_read_only_port(
    cluster_sandbox: ClusterSandbox, probe: None
) -> None:
    via = cluster_sandbox.names[0]
    with (
        connect(cluster_sandbox, via, CLUSTER.read_only_port, "reader") as session,
        pytest.raises(psycopg.errors.ReadOnlySqlTransaction),
    ):
        session.execute("CREATE TEMPORARY TABLE reader_write (n int)")


def test_second_deploy_changes_and_restarts_nothing(
    cluster_sandbox: ClusterSandbox, first_deploy: DeployResult, probe: None
) -> None:
    started = {
        name: sql_on(cluster_sandbox, name, "SELECT pg_postmaster_start_time()")
        for name in cluster_sandbox.names
    }
    result = cluster_sandbox.deploy(verbose=True)
    after = {
        name: sql_on(cluster_sandbox, name, "SELECT pg_postmaster_start_time()")
        for name in cluster_sandbox.names
    }
    assert (result.succeeded, result.changed, after) == (True, 0, started), result.output


def test_killed_postmaster_loses_no_acknowledged_commit(
    cluster_sandbox: ClusterSandbox, writer: Writer
) -> None:
    killed = leader(cluster_sandbox)
    moment = time.monotonic()
    cluster_sandbox.sh(killed, f"kill -9 $(head -1 {LAYOUT.data_directory}/postmaster.pid)")
    wait_for("commits after the kill", lambda: writer.acknowledged_after(moment) > 20)
    writer.stop()
    figure("kill -9: first commit after the outage", writer.recovery_after(moment))
    figure("kill -9: longest write gap", writer.longest_gap(moment))
    print(f"FIGURE kill -9: leader before {killed}, after {leader(cluster_sandbox)}")
    assert lost(cluster_sandbox, writer) == []


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


def test_lost_leader_droplet_loses_no_acknowledged_commit(
    cluster_sandbox: ClusterSandbox, writer: Writer
) -> None:
    lost_leader = leader(cluster_sandbox)
    moment = time.monotonic()
    freeze(cluster_sandbox, lost_leader, "pause")
    STOPPED.append(lost_leader)
    wait_for(
        "commits after the leader's droplet was lost",
        lambda: writer.acknowledged_after(moment) > 20,
        timeout=RECOVERY_TARGET * 3,
    )
    writer.stop()
    figure("droplet lost: first commit after the outage", writer.recovery_after(moment))
    figure("droplet lost: longest write gap", writer.longest_gap(moment))
    print(f"FIGURE droplet lost: leader before {lost_leader}, after {leader(cluster_sandbox)}")
    assert lost(cluster_sandbox, writer, exclude=(lost_leader,)) == []


def test_old_leader_rejoins_as_a_streaming_replica(cluster_sandbox: ClusterSandbox) -> None:
    assert len(STOPPED) == 1, "the node-loss test loses one droplet"
    down = STOPPED[0]
    moment = time.monotonic()
    freeze(cluster_sandbox, down, "unpause")
    STOPPED.pop()
    wait_for(
        f"{down} streaming again",
        lambda: members(cluster_sandbox).get(down, {}).get("State") == "streaming",
        timeout=180,
    )
    figure("old leader: back to streaming", time.monotonic() - moment)
    assert members(cluster_sandbox)[down]["Role"] in ("Replica", "Sync Standby")


def test_planned_switchover_loses_no_acknowledged_commit(
    cluster_sandbox: ClusterSandbox, writer: Writer
) -> None:
    current = leader(cluster_sandbox)
    candidate = next(
        name
        for name, member in members(cluster_sandbox).items()
        if member["Role"] == "Sync Standby"
    )
    moment = time.monotonic()
    cluster_sandbox.sh(
        current,
        f"{PATRONICTL} switchover {CLUSTER.scope} --leader {current} --candidate {candidate} "
        "--force",
    )
    wait_for("commits after the switchover", lambda: writer.acknowledged_after(moment) > 20)
    writer.stop()
    figure("switchover: longest write gap", writer.longest_gap(moment))
    assert (leader(cluster_sandbox), lost(cluster_sandbox, writer)) == (candidate, [])


def test_deploy_after_the_failovers_changes_nothing(cluster_sandbox: ClusterSandbox) -> None:
    wait_for("two streaming replicas", lambda: streaming_replicas(cluster_sandbox, 2))
    result = cluster_sandbox.deploy()
    assert (result.succeeded, result.changed) == (True, 0), result.output


def test_every_members_suites_pass(cluster_sandbox: ClusterSandbox, tmp_path: Path) -> None:
    # python -m datalayer.verify, by group: timescaledb (Patroni's and HAProxy's suites with
    # the server's) and etcd, on every member.
    result = cluster_sandbox.verify(tmp_path)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
