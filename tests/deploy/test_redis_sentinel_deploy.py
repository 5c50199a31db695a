"""Redis with Sentinel on three sandbox droplets (``Pulumi.sandbox-cluster.yaml``), deployed over
SSH as a user deploys it, then its master killed.

Tests run in file order on one group: the first deploy (the inventory's first host master, the
others its replicas, three Sentinels that know each other), a no-op rerun, a client that finds
the master through Sentinel; then ``kill -9`` of the master's redis-server while a writer writes
through it, the failover Sentinel makes, and what must hold after it: every write a replica
acknowledged (``WAIT 1``) on the new master, the application's users at work there, the old
master back as a replica, and a rerun of the deploy that changes and restarts nothing.
"""

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
import redis

from datalayer.deploy_run import DeployResult, run_deploy
from datalayer.paths import REPOSITORY_ROOT
from datalayer.redis.passwords import user_secrets
from datalayer.sandbox import DropletSpec, Sandbox
from datalayer.sandbox.sentinel import Failover, SentinelGroup
from datalayer.secrets import secret_variables
from datalayer.spec import load_environment

pytestmark = pytest.mark.sandbox

ENVIRONMENT = "sandbox-cluster"
DROPLETS = tuple(DropletSpec(f"sentinel-{number}", ("redis",)) for number in (1, 2, 3))
KEY_PREFIX = "price:failover"
# Sentinel's down-after (3 s in the sandbox's stack) and its election make most of a failover;
# this bounds the whole of it, the client's reconnection included, with room for a busy machine.
FAILOVER_BOUND_SECONDS = 20.0


Rotation = tuple[DeployResult, dict[str, str], dict[str, str]]
"""A deploy of rotated passwords: its result, the main PIDs before it, the passwords by user."""


class Deployed:
    """The group, its sandbox and its secrets: deploy to it, verify it."""

    def __init__(self, sandbox: Sandbox, group: SentinelGroup, secret_dir: Path) -> None:
        self.sandbox = sandbox
        self.group = group
        self.secret_dir = secret_dir

    @property
    def environ(self) -> dict[str, str]:
        return {
            **os.environ,
            **{f"{path.name}_FILE": str(path) for path in self.secret_dir.iterdir()},
        }

    def deploy(self, *, verbose: bool = False) -> DeployResult:
        return run_deploy(self.sandbox.paths.inventory, self.environ, verbose=verbose)

    def verify(self, junit_directory: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "datalayer.verify", str(self.sandbox.paths.inventory),
             "--junit-directory", str(junit_directory), "--", "-q"],
            cwd=REPOSITORY_ROOT, env=self.environ, capture_output=True, text=True, check=False,
        )  # fmt: skip


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    environment = load_environment(ENVIRONMENT)
    spec = environment.redis
    assert spec is not None and spec.sentinel is not None
    sandbox = Sandbox(REPOSITORY_ROOT / ".sandbox" / "tests-sentinel")
    droplets = sandbox.up(list(DROPLETS), env=ENVIRONMENT)
    secret_dir = tmp_path_factory.mktemp("sentinel-secrets")
    passwords = {}
    for user, variable in user_secrets(spec).items():
        passwords[user] = secrets.token_urlsafe(24)
        (secret_dir / variable).write_text(passwords[user])
        (secret_dir / variable).chmod(0o600)
    # The environment's other secrets (its exporters' monitoring password among them).
    for variable in secret_variables(environment.monitoring) if environment.monitoring else ():
        (secret_dir / variable).write_text(secrets.token_urlsafe(24))
        (secret_dir / variable).chmod(0o600)
    yield Deployed(sandbox, SentinelGroup(droplets, spec, passwords), secret_dir)
    if not os.environ.get("DATALAYER_KEEP_SANDBOX"):
        sandbox.down([droplet.name for droplet in DROPLETS])


@pytest.fixture(scope="module")
def first_deploy(deployed: Deployed) -> DeployResult:
    result = deployed.deploy()
    assert result.succeeded, result.output
    print(f"\nfirst deploy of three Redis and Sentinel droplets: {result.seconds:.1f} s")
    return result


@pytest.fixture(scope="module")
def group(deployed: Deployed, first_deploy: DeployResult) -> SentinelGroup:
    """The group once deployed, each replica's link up and each Sentinel aware of the rest."""
    group = deployed.group
    for droplet in group.droplets[1:]:
        group.wait_until_replicating(droplet)
    return group


def test_first_deploy_makes_the_inventorys_first_host_master(group: SentinelGroup) -> None:
    assert group.replication(group.droplets[0])["role"] == "master"


@pytest.mark.parametrize("index", [1, 2], ids=["second-host", "third-host"])
def test_first_deploy_makes_the_other_hosts_replicas_of_it(
    group: SentinelGroup, index: int
) -> None:
    state = group.replication(group.droplets[index])
    assert (state["master_host"], state["master_link_status"]) == (
        group.droplets[0].private_address,
        "up",
    )


@pytest.mark.parametrize("index", [0, 1, 2], ids=["first-host", "second-host", "third-host"])
def test_every_sentinel_monitors_the_master_with_the_other_two(
    group: SentinelGroup, index: int
) -> None:
    view = group.sentinel_view(group.droplets[index])
    assert (view["ip"], view["flags"], view["num-other-sentinels"]) == (
        group.droplets[0].private_address,
        "master",
        "2",
    )


def test_second_deploy_changes_nothing(deployed: Deployed, group: SentinelGroup) -> None:
    before = group.main_pids()
    result = deployed.deploy()
    assert result.succeeded, result.output
    assert (result.changed, group.main_pids()) == (0, before), result.output


@pytest.fixture(scope="module")
def rotated(deployed: Deployed, group: SentinelGroup) -> Rotation:
    """A deploy with new passwords for the replication and sentinel users; its result, the
    main PIDs before it, and the old and new passwords by user."""
    before = group.main_pids()
    passwords = {}
    for user in ("replication", "sentinel"):
        path = deployed.secret_dir / user_secrets(group.spec)[user]
        passwords[f"old {user}"] = path.read_text()
        passwords[user] = secrets.token_urlsafe(24)
        path.write_text(passwords[user])
    result = deployed.deploy(verbose=True)
    assert result.succeeded, result.output
    return result, before, passwords


def test_rotated_replication_and_sentinel_passwords_restart_nothing(
    group: SentinelGroup, rotated: Rotation
) -> None:
    result, before, _ = rotated
    assert result.changed > 0
    assert group.main_pids() == before


def test_rotated_passwords_never_reach_the_output(
    rotated: Rotation,
) -> None:
    result, _, passwords = rotated
    assert [user for user, password in passwords.items() if password in result.output] == []


@pytest.mark.parametrize("index", [1, 2], ids=["second-host", "third-host"])
def test_replica_logs_in_again_with_the_rotated_password(
    group: SentinelGroup, rotated: Rotation, index: int
) -> None:
    replica = group.droplets[index]
    group.admin(replica, "CLIENT", "KILL", "TYPE", "master")
    group.wait_until_replicating(replica)
    assert group.replication(replica)["master_link_status"] == "up"


def test_sentinels_started_again_log_in_with_the_rotated_password(
    group: SentinelGroup, rotated: Rotation
) -> None:
    # Sentinel reads its file only at start: a restart proves the file holds the new password.
    for droplet in group.droplets:
        group.sh(droplet, "systemctl restart redis-sentinel.service")
    group.wait_until_sentinels_see_the_whole_group()
    assert {group.sentinel_view(d)["num-other-sentinels"] for d in group.droplets} == {"2"}


def test_new_admin_password_is_refused_in_one_line_changing_nothing(
    deployed: Deployed, group: SentinelGroup
) -> None:
    # The running servers would refuse the deploy's login with a new admin password: only a
    # restart applies it, which the deploy does not do under Sentinel.
    path = deployed.secret_dir / group.spec.admin_password_secret
    kept = path.read_text()
    before = (group.main_pids(), [group.sh(d, "sha256sum /etc/redis/*") for d in group.droplets])
    path.write_text(secrets.token_urlsafe(24))
    try:
        result = deployed.deploy()
    finally:
        path.write_text(kept)
    assert not result.succeeded
    assert "restarts no running server under Sentinel" in result.output
    after = (group.main_pids(), [group.sh(d, "sha256sum /etc/redis/*") for d in group.droplets])
    assert after == before


def test_client_finds_the_master_through_sentinel(group: SentinelGroup) -> None:
    sentinel = group.client("app")
    address = sentinel.discover_master(group.sentinel.master_name)  # type: ignore[no-untyped-call]
    assert address == (group.droplets[0].private_address, group.spec.port)


def test_reader_cannot_reconfigure_sentinel(group: SentinelGroup) -> None:
    with pytest.raises(redis.exceptions.NoPermissionError, match="sentinel"):
        sentinel = group.client("reader")
        sentinel.sentinel_set(group.sentinel.master_name, "quorum", 1)  # type: ignore[no-untyped-call]


@pytest.fixture(scope="module")
def failover(group: SentinelGroup) -> Failover:
    result = group.fail_over(KEY_PREFIX)
    print(
        f"\nfailover after kill -9 of {result.old_master}'s redis-server: {result.seconds:.2f} s "
        f"to the first write through Sentinel; {len(result.writes.acknowledged)} writes "
        f"acknowledged by a replica before the kill"
    )
    return result


def test_a_replica_is_master_after_the_master_is_killed(failover: Failover) -> None:
    assert failover.new_master != failover.old_master


def test_writer_had_acknowledged_writes_before_the_kill(failover: Failover) -> None:
    assert len(failover.writes.acknowledged) > 0


def test_every_acknowledged_write_survives_the_failover(
    group: SentinelGroup, failover: Failover
) -> None:
    client = group.master_client("app")
    values = cast(list[str | None], client.mget(failover.writes.acknowledged))
    assert [
        key
        for key, value in zip(failover.writes.acknowledged, values, strict=True)
        if value is None
    ] == []


def test_client_through_sentinel_writes_again_within_the_bound(failover: Failover) -> None:
    assert failover.seconds < FAILOVER_BOUND_SECONDS


def test_app_writes_on_the_new_master(group: SentinelGroup, failover: Failover) -> None:
    value = secrets.token_hex(8)
    client = group.master_client("app")
    client.set(f"{KEY_PREFIX}:app", value)
    assert client.get(f"{KEY_PREFIX}:app") == value


def test_reader_reads_on_the_new_master(group: SentinelGroup, failover: Failover) -> None:
    assert group.master_client("reader").get(f"{KEY_PREFIX}:after") == "written through Sentinel"


def test_reader_cannot_write_on_the_new_master(group: SentinelGroup, failover: Failover) -> None:
    with pytest.raises(redis.exceptions.NoPermissionError, match="'set' command"):
        group.master_client("reader").set(f"{KEY_PREFIX}:reader", "written by the reader")


@pytest.fixture(scope="module")
def rejoined(group: SentinelGroup, failover: Failover) -> SentinelGroup:
    """The killed server started again, as its operator would; Sentinel makes it a replica."""
    (old_master,) = [droplet for droplet in group.droplets if droplet.name == failover.old_master]
    group.start_killed_server(old_master)
    group.wait_until_replicating(old_master)
    return group


def test_old_master_rejoins_as_a_replica_of_the_new_one(
    rejoined: SentinelGroup, failover: Failover
) -> None:
    (old_master,) = [d for d in rejoined.droplets if d.name == failover.old_master]
    (new_master,) = [d for d in rejoined.droplets if d.name == failover.new_master]
    assert rejoined.replication(old_master)["master_host"] == new_master.private_address


def test_deploy_after_the_failover_changes_nothing_and_restarts_nothing(
    deployed: Deployed, rejoined: SentinelGroup, failover: Failover
) -> None:
    before = rejoined.main_pids()
    result = deployed.deploy()
    assert result.succeeded, result.output
    assert (result.changed, rejoined.main_pids()) == (0, before), result.output


def test_deploy_after_the_failover_leaves_the_new_master_master(
    rejoined: SentinelGroup, failover: Failover
) -> None:
    assert rejoined.master().name == failover.new_master


def test_verify_passes_on_every_host_after_the_failover(
    deployed: Deployed, rejoined: SentinelGroup, tmp_path: Path
) -> None:
    completed = deployed.verify(tmp_path)
    assert completed.returncode == 0, completed.stdout[-6000:] + completed.stderr[-2000:]
