"""WAL archiving and backups with pgBackRest, on real sandbox droplets.

The shared TimescaleDB droplet (``tests/deploy/conftest.py``) archives from its first deploy on.
The proof is a point-in-time restore: a full backup taken by the deploy's own backup unit, rows
written, the time noted, more rows written, then the repository copied to a second droplet that
the same deploy provisioned, restored there to that time, and found to hold exactly the rows
written before it.
"""

import hashlib
import json
import os
import secrets
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from datalayer.deploy_run import DeployResult
from datalayer.paths import REPOSITORY_ROOT
from datalayer.sandbox import DropletSpec, Sandbox
from datalayer.spec import load_environment
from datalayer.timescaledb.backup import PGBACKREST_PATHS, backup_units
from tests.deploy.conftest import ENVIRONMENT, Deployment

pytestmark = pytest.mark.sandbox

Stack = Callable[[Callable[[dict[str, Any]], None]], dict[str, str]]

SPEC = load_environment(ENVIRONMENT).timescaledb
STANZA = SPEC.backup.stanza
SERVICE = f"postgresql@{SPEC.version}-{SPEC.cluster}"
REPOSITORY = "/var/lib/pgbackrest"
PROBE_DATABASE = "pitr_probe"
ARCHIVE_WAIT_SECONDS = 90
# Machine-wide container names: one per checkout, like the shared droplet's.
RESTORE_DROPLET = "restore-" + hashlib.sha256(str(REPOSITORY_ROOT).encode()).hexdigest()[:8]


def pgbackrest(droplet: Deployment, command: str) -> str:
    return droplet.sh(f"runuser -u postgres -- pgbackrest --stanza={STANZA} {command}")


def archiver(droplet: Deployment) -> tuple[int, int, str]:
    archived, failed, last = droplet.sql(
        "SELECT archived_count, failed_count, coalesce(last_archived_wal, '') FROM pg_stat_archiver"
    ).split("|")
    return int(archived), int(failed), last


def wait_until_archived(droplet: Deployment, segment: str) -> None:
    """Until ``segment`` (or a later one) is in the repository, by the archiver's own account."""
    deadline = time.monotonic() + ARCHIVE_WAIT_SECONDS
    while archiver(droplet)[2] < segment:
        assert time.monotonic() < deadline, f"{segment} not archived: {archiver(droplet)}"
        time.sleep(1)


def wait_until_promoted(droplet: Deployment) -> None:
    deadline = time.monotonic() + ARCHIVE_WAIT_SECONDS
    while True:
        try:
            if droplet.sql("SELECT pg_is_in_recovery()") == "f":
                return
        except subprocess.CalledProcessError:
            pass  # still starting up
        journal = droplet.sh(f"journalctl --no-pager -n 30 -u {SERVICE}")
        assert time.monotonic() < deadline, f"the restored server never left recovery:\n{journal}"
        time.sleep(1)


def probe_rows(droplet: Deployment, where: str = "true") -> list[str]:
    rows = droplet.sql(
        f"SELECT time, batch, price FROM ticks WHERE {where} ORDER BY time", PROBE_DATABASE
    )
    return rows.splitlines()


@pytest.fixture(scope="module")
def restore_droplet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """A second droplet in a sandbox of its own, so that deploys to the shared one leave it be."""
    sandbox = Sandbox(REPOSITORY_ROOT / ".sandbox" / "tests-restore")
    (droplet,) = sandbox.up(
        [DropletSpec(RESTORE_DROPLET, ("timescaledb",))],
        env=ENVIRONMENT,
        memory=SPEC.resources.model_dump()["memory"],
        cpus=float(SPEC.resources.cpus),
    )
    secret_dir = tmp_path_factory.mktemp("restore-secrets")
    yield Deployment(sandbox, droplet.container, droplet.published_ports, secret_dir)
    if not os.environ.get("DATALAYER_KEEP_SANDBOX"):
        sandbox.down([RESTORE_DROPLET])


def test_deploy_creates_the_stanza(deployment: Deployment, first_deploy: DeployResult) -> None:
    (stanza,) = json.loads(pgbackrest(deployment, "--output=json info"))
    assert stanza["status"]["code"] in (0, 2), stanza["status"]["message"]
    assert stanza["db"][0]["system-id"] == int(
        deployment.sql("SELECT system_identifier FROM pg_control_system()")
    )


def test_pgbackrest_check_passes(deployment: Deployment, first_deploy: DeployResult) -> None:
    pgbackrest(deployment, "check")  # raises on a non-zero exit


def test_switched_wal_is_archived_and_nothing_fails(
    deployment: Deployment, first_deploy: DeployResult
) -> None:
    archived, failed, _ = archiver(deployment)
    assert failed == 0  # not even the first deploy's restart pushed to a missing stanza
    deployment.sql("SELECT pg_create_restore_point('test')")  # a WAL record to switch away from
    segment = deployment.sql("SELECT pg_walfile_name(pg_switch_wal())")
    wait_until_archived(deployment, segment)
    now_archived, now_failed, _ = archiver(deployment)
    assert now_archived > archived
    assert now_failed == 0


@pytest.mark.parametrize("unit", backup_units(SPEC.backup), ids=lambda unit: unit.type)
def test_backup_timer_is_enabled_and_waiting(
    deployment: Deployment, first_deploy: DeployResult, unit: Any
) -> None:
    assert deployment.sh(f"systemctl is-enabled {unit.timer}") == "enabled"
    assert deployment.sh(f"systemctl show --property SubState --value {unit.timer}") == "waiting"


def test_configuration_files_are_root_owned_and_postgres_readable(
    deployment: Deployment, first_deploy: DeployResult
) -> None:
    found = deployment.sh(
        f"stat -c '%U %G %a' {PGBACKREST_PATHS.config_file} {PGBACKREST_PATHS.include_directory} "
        f"{REPOSITORY}"
    )
    assert found.splitlines() == ["root postgres 640", "root postgres 750", "postgres postgres 750"]


def test_second_deploy_neither_checks_nor_creates_again(
    deployment: Deployment, first_deploy: DeployResult
) -> None:
    started = deployment.postmaster_started()
    second = deployment.deploy(verbose=True)  # -vv: the reasons operations give for noops
    assert second.succeeded, second.output
    assert second.changed == 0, second.output
    assert f"archiving to stanza {STANZA} works" in second.output
    assert f"stanza {STANZA} exists" in second.output
    assert deployment.postmaster_started() == started


def test_point_in_time_restore_on_a_second_droplet(
    deployment: Deployment, first_deploy: DeployResult, restore_droplet: Deployment
) -> None:
    # The second droplet is provisioned by the same deploy, as a replacement host would be.
    provisioned = restore_droplet.deploy()
    assert provisioned.succeeded, provisioned.output

    deployment.sql(f"DROP DATABASE IF EXISTS {PROBE_DATABASE} WITH (FORCE)")
    deployment.sql(f"CREATE DATABASE {PROBE_DATABASE}")
    for statement in (
        "CREATE EXTENSION timescaledb",
        "CREATE TABLE ticks (time timestamptz NOT NULL, batch text NOT NULL, price numeric)",
        "SELECT create_hypertable('ticks', by_range('time', INTERVAL '1 hour'))",
    ):
        deployment.sql(statement, PROBE_DATABASE)

    # A full backup, taken by the unit the full backup timer starts.
    full = backup_units(SPEC.backup)[0]
    deployment.sh(f"systemctl start {full.service}")
    (info,) = json.loads(pgbackrest(deployment, "--output=json info"))
    assert [backup["type"] for backup in info["backup"]][-1:] == ["full"]

    insert = (
        "INSERT INTO ticks SELECT clock_timestamp() + i * INTERVAL '1 second', '{batch}', i "
        "FROM generate_series(1, 100) AS i"
    )
    deployment.sql(insert.format(batch="before"), PROBE_DATABASE)
    time.sleep(1)
    target = deployment.sql("SELECT clock_timestamp()")
    time.sleep(1)
    deployment.sql(insert.format(batch="after"), PROBE_DATABASE)
    # Recovery stops at the first commit after the target, so that commit must be archived.
    wait_until_archived(deployment, deployment.sql("SELECT pg_walfile_name(pg_switch_wal())"))
    written_before = probe_rows(deployment, "batch = 'before'")
    assert len(written_before) == 100
    assert len(probe_rows(deployment)) == 200

    # The repository moves to the second droplet (as an object store would serve it), which
    # restores the first droplet's cluster over its own and recovers to the noted time.
    restore_droplet.sh(f"systemctl stop {SERVICE}")
    restore_droplet.sh(f"find {REPOSITORY} -mindepth 1 -delete")
    with subprocess.Popen(
        ["docker", "exec", deployment.container, "tar", "-C", REPOSITORY, "-cf", "-", "."],
        stdout=subprocess.PIPE,
    ) as source:
        target_tar = ["tar", "-C", REPOSITORY, "-xf", "-"]
        subprocess.run(
            ["docker", "exec", "-i", restore_droplet.container, *target_tar],
            stdin=source.stdout,
            check=True,
        )
    assert source.returncode == 0
    pgbackrest(
        restore_droplet,
        f"--delta --type=time '--target={target}' --target-action=promote restore",
    )
    restore_droplet.sh(f"systemctl start {SERVICE}")
    wait_until_promoted(restore_droplet)

    assert probe_rows(restore_droplet) == written_before
    assert restore_droplet.sql("SELECT system_identifier FROM pg_control_system()") == (
        deployment.sql("SELECT system_identifier FROM pg_control_system()")
    )


def test_bad_backup_spec_stops_before_any_change(
    deployment: Deployment, first_deploy: DeployResult, changed_stack: Stack
) -> None:
    before = deployment.sh(f"sha256sum {PGBACKREST_PATHS.config_file}")
    result = deployment.deploy(
        changed_stack(lambda t: t.update(backup={"retention_full": 0, "process_max": 2}))
    )
    assert result.returncode != 0
    assert "datalayer:timescaledb.backup.retention_full: 0 Input should be greater" in result.output
    assert "Traceback" not in result.output
    assert deployment.sh(f"sha256sum {PGBACKREST_PATHS.config_file}") == before


S3_REPOSITORY = {
    "type": "s3",
    "endpoint": "fra1.digitaloceanspaces.com",
    "bucket": "datalayer-test-backups",
    "region": "fra1",
    "path": "/sandbox",
    "access_key_secret": "DATALAYER_BACKUP_ACCESS_KEY",
    "secret_key_secret": "DATALAYER_BACKUP_SECRET_KEY",
}


def test_missing_s3_key_stops_before_any_change(
    deployment: Deployment, first_deploy: DeployResult, changed_stack: Stack, tmp_path: Path
) -> None:
    before = deployment.sh(f"sha256sum {PGBACKREST_PATHS.config_file}")
    stack = changed_stack(lambda t: t.update(backup={"repository": S3_REPOSITORY}))
    access_key = tmp_path / "access-key"
    access_key.write_text("DO00" + secrets.token_hex(8).upper())
    result = deployment.deploy({**stack, "DATALAYER_BACKUP_ACCESS_KEY_FILE": str(access_key)})
    assert result.returncode != 0
    assert "secret DATALAYER_BACKUP_SECRET_KEY is not set" in result.output
    assert "Traceback" not in result.output
    assert deployment.sh(f"sha256sum {PGBACKREST_PATHS.config_file}") == before


def test_s3_keys_are_planned_masked_and_never_printed(
    deployment: Deployment, first_deploy: DeployResult, changed_stack: Stack
) -> None:
    # No object store is reachable from here: plan the switch to an S3 repository against the
    # real droplet (pyinfra --dry --diff -vv reads its facts and shows every diff and command)
    # and check that the keys appear nowhere, not even in the diff of pgbackrest.conf.
    access_key, secret_key = "DO00" + secrets.token_hex(8).upper(), secrets.token_urlsafe(32)
    stack = changed_stack(lambda t: t.update(backup={"repository": S3_REPOSITORY}))
    plan = deployment.deploy(
        {
            **stack,
            "DATALAYER_BACKUP_ACCESS_KEY": access_key,
            "DATALAYER_BACKUP_SECRET_KEY": secret_key,
        },
        dry=True,
        verbose=True,
        diff=True,
    )
    assert plan.returncode == 0, plan.output
    assert "+ repo1-type=s3" in plan.output  # the diffs are shown...
    assert access_key not in plan.output  # ...but not the keys'
    assert secret_key not in plan.output
    planned = [line.split("|")[1].strip() for line in plan.output.splitlines() if "| " in line]
    for operation in (
        f"Install {PGBACKREST_PATHS.config_file}",
        f"Install the S3 repository keys in {PGBACKREST_PATHS.keys_file}",
        f"Create the pgBackRest stanza {STANZA} if missing",
    ):
        assert any(line.startswith(operation) and " 1 (" in line for line in planned), plan.output
    assert deployment.sh(f"test -e {PGBACKREST_PATHS.keys_file} || echo absent") == "absent"
