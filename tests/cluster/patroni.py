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
STANZA = _spec.backup.stanza


ISOLATED: list[str] = []
"""The droplets a node-loss scenario cut off the network, until they are let back: asked
nothing meanwhile."""


def members(cluster: ClusterSandbox, exclude: tuple[str, ...] = ()) -> dict[str, dict[str, str]]:
    """``patronictl list`` by member name, asked of the first running droplet not in
    ``exclude``."""
    asked = next(name for name in cluster.names if name not in (*exclude, *ISOLATED))
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
    positions: dict[int, int] = field(default_factory=dict)
    """Each acknowledged number's WAL position on the leader that took it (bytes): where its
    row was inserted, just short of its commit record."""
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
                row = session.execute(
                    f"INSERT INTO {PROBE} (n) VALUES (%s) "
                    "RETURNING (pg_current_wal_insert_lsn() - '0/0')::bigint",
                    (number,),
                ).fetchone()
                self.acknowledged.append((number, time.monotonic()))
                assert row is not None
                self.positions[number] = int(str(row[0]))
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


def healthy(cluster: ClusterSandbox, synchronous: bool = True) -> bool:
    """A leader and two streaming replicas, one of them a synchronous standby in synchronous
    mode: there Patroni promotes only a member the DCS names synchronous
    (``patroni/ha.py:1515-1521`` at v4.0.7), so a leader lost before it has named one again is
    not replaced."""
    roles = sorted(member["Role"] for member in members(cluster).values())
    wanted = ["Leader", "Replica", "Sync Standby" if synchronous else "Replica"]
    return roles == sorted(wanted) and streaming_replicas(cluster, 2)


def lost(cluster: ClusterSandbox, writer: Writer, exclude: tuple[str, ...] = ()) -> list[int]:
    """The acknowledged numbers the current leader does not hold."""
    present = {
        int(line)
        for line in sql_on(cluster, leader(cluster, exclude), f"SELECT n FROM {PROBE}").split()
    }
    return sorted(number for number, _ in writer.acknowledged if number not in present)


def lsn_bytes(lsn: str) -> int:
    """A PostgreSQL LSN (``'0/63ABB10'``) as a byte position."""
    high, low = lsn.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def switchpoint(cluster: ClusterSandbox, name: str) -> int:
    """Where the timeline member ``name`` (the new leader) runs on forked off the one before
    (bytes): the last line of its timeline history file, ``PARENT\tLSN\tREASON``; the current
    timeline is the first 8 digits of its WAL file name (as ``patroni/postgresql/rewind.py``
    reads it at v4.0.7)."""
    history = sql_on(
        cluster,
        name,
        "SELECT pg_read_file('pg_wal/' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)"
        " || '.history')",
    )
    return lsn_bytes(history.splitlines()[-1].split("\t")[1])


def lost_wal(cluster: ClusterSandbox, writer: Writer, exclude: tuple[str, ...] = ()) -> int:
    """Bytes of the old leader's WAL, up to its last acknowledged commit that the current
    leader does not hold, beyond the point where the current leader's timeline forked off:
    the acknowledged WAL a failover gave up (0 when none was lost)."""
    missing = lost(cluster, writer, exclude)
    if not missing:
        return 0
    fork = switchpoint(cluster, leader(cluster, exclude))
    return max(0, max(writer.positions[number] for number in missing) - fork)


def set_synchronous_mode(cluster: ClusterSandbox, enabled: bool) -> None:
    """Patroni's ``synchronous_mode`` changed in the DCS (``patronictl edit-config``), which
    every member reads in its next loop, asked of a droplet that runs."""
    asked = next(name for name in cluster.names if name not in ISOLATED)
    value = "true" if enabled else "false"
    cluster.sh(
        asked,
        f"{PATRONICTL} edit-config {CLUSTER.scope} --set synchronous_mode={value} --force",
    )


def figure(name: str, value: float, unit: str = "s") -> None:
    print(f"FIGURE {name}: {value:.2f} {unit}")


ISOLATION_RULES = (("INPUT", "-i"), ("OUTPUT", "-o"))
"""iptables chains, and the option naming their interface, whose packets a lost droplet drops
(all but the loopback's, on which its own processes still reach each other)."""


def isolate(cluster: ClusterSandbox, name: str, cut: bool = True) -> None:
    """Cut droplet ``name`` off the network (``cut``), or let it back: iptables, in the
    droplet's network namespace, drops every packet but the loopback's, so that its peers'
    packets go unanswered and it reaches none of them, as when a droplet is lost; its own
    processes run on, as a lost droplet's may. The droplet keeps its address, which the
    cluster's configuration names (``docker network disconnect`` would give it up to the next
    droplet that starts, other helpers' included).

    Not ``docker stop``: a stopped droplet shuts down in order (Patroni hands the leader key
    over itself, a switchover, not a loss). Not ``docker pause`` either, which froze the
    droplet whole until this round: thawed, its etcd member comes back as it was, and when it
    led etcd's raft it revokes as expired every lease it did not see renewed meanwhile, the new
    Patroni leader's among them, before it learns that it no longer leads (etcd 3.5.16 skips
    its leadership check when its raft ticker has just ticked, ``isActive`` in
    ``server/etcdserver/server.go:1167-1250``, which a thawed process's ticker has). The thawed
    old leader, which still believes it holds the leader key, then creates it again (Patroni
    4.0.7 tries ``create_revision == 0`` when its own key is not there,
    ``patroni/dcs/etcd3.py:945-966``), leads once more, and the new leader's commits are rewound
    away: on the sandbox it did so in 1 of 10 freezes, and the old leader never streamed."""
    pid = subprocess.run(
        ["docker", "inspect", "-f", "{{.State.Pid}}", cluster.droplet(name).container],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    action = "-I" if cut else "-D"
    for chain, interface in ISOLATION_RULES:
        subprocess.run(
            ["nsenter", f"--net=/proc/{pid}/ns/net", "iptables", "-w", action, chain,
             "!", interface, "lo", "-j", "DROP"],
            check=True, capture_output=True,
        )  # fmt: skip
    if cut:
        ISOLATED.append(name)
    else:
        ISOLATED.remove(name)


def create_probe(cluster: ClusterSandbox) -> None:
    """The table the writer fills, made by the superuser on the leader, writable by app."""
    sql_on(
        cluster,
        leader(cluster),
        f"CREATE TABLE IF NOT EXISTS {PROBE} (n bigint PRIMARY KEY, written_at timestamptz "
        f"NOT NULL DEFAULT clock_timestamp()); GRANT SELECT, INSERT ON {PROBE} TO app",
    )


def started_writer(cluster: ClusterSandbox, synchronous: bool = True) -> Writer:
    """A writer through a replica's HAProxy (a member that survives the leader's loss), started
    once the cluster is whole again after the scenario before (in ``synchronous`` mode or
    not), and committing."""
    wait_for("a leader and two streaming replicas", lambda: healthy(cluster, synchronous))
    current = leader(cluster)
    running = Writer(cluster, next(name for name in cluster.names if name != current))
    running.start()
    wait_for("the writer's first commits", lambda: len(running.acknowledged) > 5, timeout=30)
    return running


def lose_the_leader(cluster: ClusterSandbox, writer: Writer) -> tuple[str, float]:
    """Cut the leader's droplet off (:func:`isolate`), wait until ``writer`` commits again on
    the new leader and stop it: the lost droplet's name and when it was lost (monotonic)."""
    lost_leader = leader(cluster)
    moment = time.monotonic()
    isolate(cluster, lost_leader)
    wait_for(
        "commits after the leader's droplet was lost",
        lambda: writer.past_an_outage(moment),
        timeout=RECOVERY_TARGET * 3,
    )
    writer.stop()
    return lost_leader, moment
