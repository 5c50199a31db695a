"""Patroni on etcd behind HAProxy on three sandbox droplets, each in ``timescaledb`` and
``etcd``: the deploy, the ports, a rerun, then the failover proofs of issue 13 in its order of
value (the leader's postmaster killed, the leader's droplet lost, its rejoin, a planned
switchover, the leader's droplet lost in asynchronous mode), each with a writer committing
numbered rows through one member's read-write port, and a replica rebuilt from the shared
pgBackRest repository.

The tests run in file order and share the cluster: each failover starts from the cluster the
one before left. Figures are printed (run with ``-s``): the machine is shared by several
helpers, so they are indications, not measurements.
"""

import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from datalayer.deploy_run import DeployResult
from tests.cluster.conftest import ClusterSandbox
from tests.cluster.patroni import (
    CLUSTER,
    ISOLATED,
    LAYOUT,
    PATRONICTL,
    PROBE,
    STANZA,
    Writer,
    connect,
    create_probe,
    figure,
    healthy,
    isolate,
    leader,
    lose_the_leader,
    lost,
    lost_wal,
    members,
    set_synchronous_mode,
    sql_on,
    started_writer,
    streaming_replicas,
    wait_for,
)  # fmt: skip


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


@pytest.fixture
def probe(cluster_sandbox: ClusterSandbox, first_deploy: DeployResult) -> None:
    """The table the writer fills (:func:`create_probe`)."""
    create_probe(cluster_sandbox)


@pytest.fixture
def writer(cluster_sandbox: ClusterSandbox, probe: None) -> Iterator[Writer]:
    """A writer through a replica's HAProxy (:func:`started_writer`)."""
    running = started_writer(cluster_sandbox)
    yield running
    running.stop()


@pytest.fixture
def asynchronous_writer(cluster_sandbox: ClusterSandbox, probe: None) -> Iterator[Writer]:
    """A writer as :func:`writer`, with Patroni's synchronous_mode off in the DCS. Afterwards
    the droplet a test cut off is let back and rejoins, and synchronous mode is back, so that the
    tests after it start from the cluster the spec declares."""
    set_synchronous_mode(cluster_sandbox, False)
    running = started_writer(cluster_sandbox, synchronous=False)
    yield running
    running.stop()
    for name in list(ISOLATED):
        isolate(cluster_sandbox, name, cut=False)
    set_synchronous_mode(cluster_sandbox, True)
    wait_for("a leader, a synchronous standby and a replica", lambda: healthy(cluster_sandbox))


def test_one_leader_and_two_streaming_replicas(
    cluster_sandbox: ClusterSandbox, first_deploy: DeployResult
) -> None:
    # Patroni names a synchronous standby in a loop after the replicas stream.
    wait_for("a leader, a synchronous standby and a replica", lambda: healthy(cluster_sandbox))
    assert healthy(cluster_sandbox)


def test_first_replicas_are_cloned_from_the_leader_while_the_repository_is_empty(
    cluster_sandbox: ClusterSandbox, first_deploy: DeployResult
) -> None:
    # Patroni logs each create_replica method it tries and the one that made the replica
    # (patroni/postgresql/bootstrap.py:311-316, v4.0.7); the repository holds no backup yet.
    current = leader(cluster_sandbox)
    journals = [
        cluster_sandbox.sh(name, f"journalctl -u {LAYOUT.service} --no-pager -o cat")
        for name in cluster_sandbox.names
        if name != current
    ]
    assert [
        ("Error creating replica using method pgbackrest" in journal,
         "replica has been created using basebackup" in journal)
        for journal in journals
    ] == [(True, True), (True, True)]  # fmt: skip


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


def test_stopped_replica_fires_an_alert_then_clears(
    cluster_sandbox: ClusterSandbox, first_deploy: DeployResult
) -> None:
    # The leader's WAL senders, fewer than the other members, say a replica is missing
    # (templates/prometheus/rules.yml.j2); the sandbox's 15 s ``for:`` fires it within two
    # minutes. Stopping Patroni stops the replica's PostgreSQL with it.
    prometheus = cluster_sandbox.prometheus
    assert "PostgresReplicaMissing" not in prometheus.firing()
    current = leader(cluster_sandbox)
    stopped = next(name for name in cluster_sandbox.names if name != current)
    cluster_sandbox.sh(stopped, f"systemctl stop {LAYOUT.service}")
    try:
        fired = prometheus.wait_for("PostgresReplicaMissing", firing=True, within=120)
    finally:
        cluster_sandbox.sh(stopped, f"systemctl start {LAYOUT.service}")
    cleared = prometheus.wait_for("PostgresReplicaMissing", firing=False, within=90)
    figure("stopped replica: PostgresReplicaMissing firing after", fired)
    figure("restarted replica: PostgresReplicaMissing gone after", cleared)
    wait_for("a leader, a synchronous standby and a replica", lambda: healthy(cluster_sandbox))


def test_killed_postmaster_loses_no_acknowledged_commit(
    cluster_sandbox: ClusterSandbox, writer: Writer
) -> None:
    killed = leader(cluster_sandbox)
    moment = time.monotonic()
    cluster_sandbox.sh(killed, f"kill -9 $(head -1 {LAYOUT.data_directory}/postmaster.pid)")
    wait_for("commits after the kill", lambda: writer.past_an_outage(moment))
    writer.stop()
    figure("kill -9: first commit after the outage", writer.recovery_after(moment))
    figure("kill -9: longest write gap", writer.longest_gap(moment))
    print(f"FIGURE kill -9: leader before {killed}, after {leader(cluster_sandbox)}")
    assert lost(cluster_sandbox, writer) == []


def test_lost_leader_droplet_loses_no_acknowledged_commit(
    cluster_sandbox: ClusterSandbox, writer: Writer
) -> None:
    lost_leader, moment = lose_the_leader(cluster_sandbox, writer)
    figure("droplet lost: first commit after the outage", writer.recovery_after(moment))
    figure("droplet lost: longest write gap", writer.longest_gap(moment))
    print(f"FIGURE droplet lost: leader before {lost_leader}, after {leader(cluster_sandbox)}")
    assert lost(cluster_sandbox, writer, exclude=(lost_leader,)) == []


def test_old_leader_rejoins_as_a_streaming_replica(cluster_sandbox: ClusterSandbox) -> None:
    assert len(ISOLATED) == 1, "the node-loss test loses one droplet"
    down = ISOLATED[0]
    current = leader(cluster_sandbox, exclude=(down,))
    held = sql_on(cluster_sandbox, current, f"SELECT count(*) FROM {PROBE}")
    moment = time.monotonic()
    isolate(cluster_sandbox, down, cut=False)
    try:
        wait_for(
            f"{down} streaming again",
            lambda: members(cluster_sandbox).get(down, {}).get("State") == "streaming",
            timeout=180,
        )
    except TimeoutError as error:
        # Once in five full runs on a loaded machine the old leader did not rejoin in time:
        # the members' view and its Patroni's own log say why.
        journal = cluster_sandbox.run(
            down, f"journalctl -u {LAYOUT.service} -n 60 --no-pager", check=False
        ).stdout
        raise AssertionError(f"{error}\n{members(cluster_sandbox)}\n{journal}") from None
    figure("old leader: back to streaming", time.monotonic() - moment)
    # A thawed old leader once took the leader key back and rewound the new leader's commits
    # away (the README's caution for etcd on the members' hosts): the leader and its rows stay.
    after = sql_on(cluster_sandbox, current, f"SELECT count(*) FROM {PROBE}")
    assert (members(cluster_sandbox)[down]["Role"], leader(cluster_sandbox), after) in [
        (role, current, held) for role in ("Replica", "Sync Standby")
    ]


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
    wait_for("commits after the switchover", lambda: writer.past_an_outage(moment))
    writer.stop()
    figure("switchover: longest write gap", writer.longest_gap(moment))
    assert (leader(cluster_sandbox), lost(cluster_sandbox, writer)) == (candidate, [])


def test_asynchronous_failover_loses_no_more_than_maximum_lag_on_failover(
    cluster_sandbox: ClusterSandbox, asynchronous_writer: Writer
) -> None:
    # With synchronous_mode off, a commit is acknowledged before any replica has it; Patroni
    # promotes no replica further behind than maximum_lag_on_failover (patroni/ha.py:1240-1248,
    # is_lagging, v4.0.7), which bounds what the loss of the leader's droplet gives up.
    lost_leader, moment = lose_the_leader(cluster_sandbox, asynchronous_writer)
    missing = lost(cluster_sandbox, asynchronous_writer, exclude=(lost_leader,))
    given_up = lost_wal(cluster_sandbox, asynchronous_writer, exclude=(lost_leader,))
    figure("asynchronous, droplet lost: lost acknowledged commits", len(missing), "commits")
    figure("asynchronous, droplet lost: their WAL", given_up, "bytes")
    figure("asynchronous, droplet lost: first commit after the outage",
           asynchronous_writer.recovery_after(moment))  # fmt: skip
    assert given_up <= CLUSTER.maximum_lag_on_failover, missing


def test_rebuilt_replica_is_restored_from_the_repository_then_streams(
    cluster_sandbox: ClusterSandbox,
) -> None:
    # The backup unit every member has backs up on the leader only; then Patroni rebuilds a
    # replica (patronictl reinit) with create_replica_methods in order. Patroni 4.0.7 leaves
    # the data directory to a keep_data method (patroni/ha.py:1907-1915,
    # patroni/postgresql/bootstrap.py:283-287), and pgBackRest's delta restore makes it the
    # backup's, file by file; the leader gives it no base backup.
    current = leader(cluster_sandbox)
    cluster_sandbox.sh(current, "systemctl start pgbackrest-backup-full.service")
    replica = next(
        name for name, member in members(cluster_sandbox).items() if member["Role"] == "Replica"
    )
    since = cluster_sandbox.sh(replica, "date '+%Y-%m-%d %H:%M:%S'")
    cluster_sandbox.sh(replica, f"{PATRONICTL} reinit {CLUSTER.scope} {replica} --force --wait")
    wait_for(
        f"{replica} streaming after its rebuild",
        lambda: members(cluster_sandbox)[replica]["State"] == "streaming",
    )
    journal = cluster_sandbox.sh(
        replica, f"journalctl -u {LAYOUT.service} --since '{since}' --no-pager -o cat"
    )
    # pgBackRest logs each restore in its own file; none before this one, on a cloned member.
    restores = cluster_sandbox.run(
        replica, f"cat /var/log/pgbackrest/{STANZA}-restore.log", check=False
    ).stdout
    restored = restores.count("restore command end: completed successfully")
    assert (
        "replica has been created using pgbackrest" in journal,
        "replica has been created using basebackup" in journal,
        restored >= 1,
    ) == (True, False, True), journal[-3000:]


def test_policy_jobs_are_scheduled_on_the_leader_after_the_failovers(
    cluster_sandbox: ClusterSandbox,
) -> None:
    # TimescaleDB #9360: after a failover, jobs may stay at next_start = -infinity on the new
    # leader and never run. Every scheduled job must have a real next start there. (Debian's
    # Apache build runs only its stock jobs; a run of job 3 fails with the license error
    # TESTWORLD.md describes, which is not what this checks.)
    rows = sql_on(
        cluster_sandbox,
        leader(cluster_sandbox),
        "SELECT j.job_id || ':' || coalesce(s.next_start::text, 'none') "
        "FROM timescaledb_information.jobs j LEFT JOIN timescaledb_information.job_stats s "
        "USING (job_id) WHERE j.scheduled",
    ).split()
    assert rows and [row for row in rows if row.endswith((":none", ":-infinity"))] == [], rows


def test_deploy_after_the_failovers_changes_nothing(cluster_sandbox: ClusterSandbox) -> None:
    wait_for("two streaming replicas", lambda: streaming_replicas(cluster_sandbox, 2))
    result = cluster_sandbox.deploy()
    assert (result.succeeded, result.changed) == (True, 0), result.output


def test_every_members_suites_pass(cluster_sandbox: ClusterSandbox, tmp_path: Path) -> None:
    # python -m datalayer.verify, by group: timescaledb (Patroni's and HAProxy's suites with
    # the server's) and etcd, on every member.
    result = cluster_sandbox.verify(tmp_path)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
