"""An SFTP backup repository on a droplet of its own, deployed with a database droplet.

Two droplets in one sandbox: ``repo-db`` in ``timescaledb`` and ``repo-store`` in
``backup_repository``, deployed by ``deploy/site.py`` from the sandbox stack with its repository
switched to ``sftp`` (no host declared: the store's ``private_address``). The proof: WAL segments
and a full backup land on the store, inside the SFTP user's chroot; the database restored from
there alone, its data directory emptied first, holds the rows written before the target; a
second deploy changes and restarts nothing; the SFTP user gets no shell, terminal or forwarding
and sees nothing but the repository; pgBackRest refuses a host key other than the pinned
ones; the private key is installed masked, for postgres alone;
a deploy limited to the database host stops in one line, since the store's host keys are read
from the store.
"""

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from datalayer.backup_repository import REPOSITORY_HOST_LAYOUT
from datalayer.deploy_run import DeployResult, run_deploy
from datalayer.paths import REPOSITORY_ROOT
from datalayer.sandbox import DropletSpec, Sandbox
from datalayer.spec.backup import BACKUP_REPOSITORY_GROUP
from datalayer.timescaledb.backup.layout import PGBACKREST_PATHS, backup_units
from tests.deploy.conftest import ENVIRONMENT, Deployment
from tests.deploy.test_timescaledb_backup_deploy import (
    PROBE_DATABASE,
    SERVICE,
    SPEC,
    STANZA,
    archiver,
    pgbackrest,
    probe_rows,
    wait_until_archived,
    wait_until_promoted,
)

pytestmark = pytest.mark.sandbox

DATABASE_DROPLET = "repo-db"
STORE_DROPLET = "repo-store"
KEY_SECRET = "DATALAYER_BACKUP_SFTP_KEY"
SFTP_USER = "pgbackrest"
REPOSITORY_PATH = "/pgbackrest"
STORED = f"{REPOSITORY_HOST_LAYOUT.chroot_directory}{REPOSITORY_PATH}"
"""Where the repository is on the store's own disk."""


class SftpSandbox:
    """The two droplets, their deploy environment, and the members' key."""

    def __init__(self, database: Deployment, store: Deployment, environ: dict[str, str]) -> None:
        self.database = database
        self.store = store
        self.environ = environ

    def deploy(self, *, verbose: bool = False) -> DeployResult:
        return self.database.deploy(self.environ, verbose=verbose)

    def store_address(self) -> str:
        return self.store.sh("hostname -I").split()[0]

    def as_sftp_user(
        self, program: str, *arguments: str, stdin: str = ""
    ) -> subprocess.CompletedProcess[str]:
        """``program`` (ssh or sftp) run on the database droplet as postgres, with the deployed
        key and known hosts file, logging in to the store as the SFTP user."""
        command = [
            "docker", "exec", "-i", self.database.container, "runuser", "-u", "postgres", "--",
            program,
            "-i", PGBACKREST_PATHS.sftp_private_key_file,
            "-o", f"UserKnownHostsFile={PGBACKREST_PATHS.sftp_known_hosts_file}",
            "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
            *arguments, f"{SFTP_USER}@{self.store_address()}",
        ]  # fmt: skip
        return subprocess.run(
            command, input=stdin, capture_output=True, text=True, check=False, timeout=60
        )


@pytest.fixture(scope="module")
def sftp_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SftpSandbox]:
    sandbox = Sandbox(REPOSITORY_ROOT / ".sandbox" / "tests-backup-repository")
    database, store = sandbox.up(
        [
            DropletSpec(DATABASE_DROPLET, ("timescaledb",)),
            DropletSpec(STORE_DROPLET, (BACKUP_REPOSITORY_GROUP,)),
        ],
        env=ENVIRONMENT,
    )
    secrets_directory = tmp_path_factory.mktemp("sftp-secrets")
    key = secrets_directory / KEY_SECRET
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(key)], check=True
    )
    stacks = tmp_path_factory.mktemp("sftp-stack")
    document = yaml.safe_load((REPOSITORY_ROOT / f"Pulumi.{ENVIRONMENT}.yaml").read_text())
    document["config"]["datalayer:timescaledb"]["backup"] = {
        "repository": {"type": "sftp", "private_key_secret": KEY_SECRET, "path": REPOSITORY_PATH}
    }
    (stacks / f"Pulumi.{ENVIRONMENT}.yaml").write_text(yaml.safe_dump(document))
    environ = {"DATALAYER_STACKS": str(stacks), f"{KEY_SECRET}_FILE": str(key)}
    yield SftpSandbox(
        Deployment(sandbox, database.container, database.published_ports, secrets_directory),
        Deployment(sandbox, store.container, store.published_ports, secrets_directory),
        environ,
    )
    if not os.environ.get("DATALAYER_KEEP_SANDBOX"):
        sandbox.down([DATABASE_DROPLET, STORE_DROPLET])


@pytest.fixture(scope="module")
def deployed(sftp_sandbox: SftpSandbox) -> DeployResult:
    result = sftp_sandbox.deploy(verbose=True)  # -vv: every command, as pyinfra prints it
    assert result.succeeded, result.output
    return result


def test_private_key_is_installed_masked_and_for_postgres_alone(
    sftp_sandbox: SftpSandbox, deployed: DeployResult
) -> None:
    key = Path(sftp_sandbox.environ[f"{KEY_SECRET}_FILE"]).read_text()
    body = [line for line in key.splitlines() if not line.startswith("-----")]
    assert "# SSH private key ***" in deployed.output
    assert [line for line in body if line in deployed.output] == []
    found = sftp_sandbox.database.sh(f"stat -c '%U %G %a' {PGBACKREST_PATHS.sftp_private_key_file}")
    assert found == "postgres postgres 600"


def test_verify_passes_on_the_member(
    sftp_sandbox: SftpSandbox, deployed: DeployResult, tmp_path: Path
) -> None:
    database = sftp_sandbox.database
    completed = subprocess.run(
        [sys.executable, "-m", "datalayer.verify", str(database.sandbox.paths.inventory),
         "--junit-directory", str(tmp_path), "--", "-q"],
        cwd=REPOSITORY_ROOT, env={**os.environ, **database.environ, **sftp_sandbox.environ},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-2000:]


def test_switched_wal_reaches_the_repository_host(
    sftp_sandbox: SftpSandbox, deployed: DeployResult
) -> None:
    database = sftp_sandbox.database
    database.sql("SELECT pg_create_restore_point('sftp')")
    segment = database.sql("SELECT pg_walfile_name(pg_switch_wal())")
    wait_until_archived(database, segment)
    stored = sftp_sandbox.store.sh(f"find {STORED}/archive/{STANZA} -name '{segment}-*'")
    assert stored.startswith(f"{STORED}/archive/{STANZA}/"), stored
    assert archiver(database)[1] == 0


def test_full_backup_lands_on_the_repository_host(
    sftp_sandbox: SftpSandbox, deployed: DeployResult
) -> None:
    database = sftp_sandbox.database
    database.sh(f"systemctl start {backup_units(SPEC.backup)[0].service}")
    (info,) = json.loads(pgbackrest(database, "--output=json info"))
    label = info["backup"][-1]["label"]
    assert info["backup"][-1]["type"] == "full"
    manifest = f"{STORED}/backup/{STANZA}/{label}/backup.manifest"
    assert sftp_sandbox.store.sh(f"stat -c '%U' {manifest}") == SFTP_USER


def test_restore_from_the_repository_host_into_an_empty_data_directory(
    sftp_sandbox: SftpSandbox, deployed: DeployResult
) -> None:
    database = sftp_sandbox.database
    database.sql(f"DROP DATABASE IF EXISTS {PROBE_DATABASE} WITH (FORCE)")
    database.sql(f"CREATE DATABASE {PROBE_DATABASE}")
    database.sql(
        "CREATE TABLE ticks (time timestamptz NOT NULL, batch text NOT NULL, price numeric)",
        PROBE_DATABASE,
    )
    database.sh(f"systemctl start {backup_units(SPEC.backup)[0].service}")
    insert = (
        "INSERT INTO ticks SELECT clock_timestamp() + i * INTERVAL '1 second', '{batch}', i "
        "FROM generate_series(1, 100) AS i"
    )
    database.sql(insert.format(batch="before"), PROBE_DATABASE)
    time.sleep(1)
    target = database.sql("SELECT clock_timestamp()")
    time.sleep(1)
    database.sql(insert.format(batch="after"), PROBE_DATABASE)
    # Recovery stops at the first commit after the target, so that commit must be archived.
    wait_until_archived(database, database.sql("SELECT pg_walfile_name(pg_switch_wal())"))
    before = probe_rows(database, "batch = 'before'")
    assert len(before) == 100
    assert len(probe_rows(database)) == 200

    data_directory = database.sql("SHOW data_directory")
    database.sh(f"systemctl stop {SERVICE}")
    database.sh(f"find {data_directory} -mindepth 1 -delete")
    pgbackrest(database, f"--type=time '--target={target}' --target-action=promote restore")
    database.sh(f"systemctl start {SERVICE}")
    wait_until_promoted(database)
    assert probe_rows(database) == before


def test_second_deploy_changes_and_restarts_nothing(
    sftp_sandbox: SftpSandbox, deployed: DeployResult
) -> None:
    started = sftp_sandbox.database.postmaster_started()
    sshd = sftp_sandbox.store.sh("systemctl show --property MainPID --value ssh")
    again = sftp_sandbox.deploy(verbose=True)
    assert again.succeeded, again.output
    assert again.changed == 0, again.output
    assert sftp_sandbox.database.postmaster_started() == started
    assert sftp_sandbox.store.sh("systemctl show --property MainPID --value ssh") == sshd


def test_members_pin_the_repository_hosts_own_keys(
    sftp_sandbox: SftpSandbox, deployed: DeployResult
) -> None:
    address = sftp_sandbox.store_address()
    host_keys = sftp_sandbox.store.sh("cat /etc/ssh/ssh_host_*_key.pub").splitlines()
    pinned = sftp_sandbox.database.sh(
        f"grep -v '^#' {PGBACKREST_PATHS.sftp_known_hosts_file}"
    ).splitlines()
    assert sorted(pinned) == sorted(f"{address} {' '.join(line.split()[:2])}" for line in host_keys)


def test_sftp_user_runs_no_command(sftp_sandbox: SftpSandbox, deployed: DeployResult) -> None:
    proof = "/tmp/sftp-user-ran-a-command"
    sftp_sandbox.store.sh(f"rm -f {proof}")
    attempt = sftp_sandbox.as_sftp_user("ssh", "-o", f"RemoteCommand=touch {proof}; id")
    assert "uid=" not in attempt.stdout
    assert sftp_sandbox.store.sh(f"test -e {proof} && echo ran || echo absent") == "absent"


def test_sftp_user_gets_no_terminal(sftp_sandbox: SftpSandbox, deployed: DeployResult) -> None:
    attempt = sftp_sandbox.as_sftp_user("ssh", "-tt")
    assert "PTY allocation request failed" in attempt.stderr, attempt


def test_sftp_user_sees_only_the_repository(
    sftp_sandbox: SftpSandbox, deployed: DeployResult
) -> None:
    listing = sftp_sandbox.as_sftp_user("sftp", "-b", "-", stdin="ls -1 /\n")
    assert listing.returncode == 0, listing
    assert [line for line in listing.stdout.splitlines() if not line.startswith("sftp>")] == [
        REPOSITORY_PATH
    ]


def test_sftp_user_may_not_forward(sftp_sandbox: SftpSandbox, deployed: DeployResult) -> None:
    attempt = sftp_sandbox.as_sftp_user("ssh", "-W", "127.0.0.1:22")
    assert attempt.returncode != 0
    assert "administratively prohibited" in attempt.stderr, attempt


def test_deploy_limited_to_the_member_stops_before_any_change(
    sftp_sandbox: SftpSandbox, deployed: DeployResult
) -> None:
    database = sftp_sandbox.database
    before = database.sh(f"sha256sum {PGBACKREST_PATHS.config_file}")
    limited = run_deploy(
        database.sandbox.paths.inventory,
        {**os.environ, **database.environ, **sftp_sandbox.environ},
        limit=[DATABASE_DROPLET],
    )
    assert limited.returncode != 0
    line = f"the backup_repository host {STORE_DROPLET} is not connected in this run"
    assert len([text for text in limited.output.splitlines() if line in text]) == 1, limited.output
    assert "Traceback" not in limited.output
    assert database.sh(f"sha256sum {PGBACKREST_PATHS.config_file}") == before


def test_pgbackrest_refuses_a_repository_host_key_it_has_not_pinned(
    sftp_sandbox: SftpSandbox, deployed: DeployResult
) -> None:
    database = sftp_sandbox.database
    pinned = PGBACKREST_PATHS.sftp_known_hosts_file
    # Another host's key at the store's address: what a host in the middle would present.
    database.sh(f"ssh-keygen -q -t ed25519 -N '' -f /tmp/impostor && cp {pinned} /tmp/pinned")
    impostor = database.sh("cut -d' ' -f1,2 /tmp/impostor.pub")
    database.sh(f"echo '{sftp_sandbox.store_address()} {impostor}' > {pinned}")
    try:
        refused = subprocess.run(
            ["docker", "exec", database.container, "runuser", "-u", "postgres", "--",
             "pgbackrest", f"--stanza={STANZA}", "repo-ls"],
            capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
    finally:
        database.sh(f"cp /tmp/pinned {pinned}")
    assert refused.returncode != 0
    assert "known hosts failure" in refused.stdout + refused.stderr, refused
