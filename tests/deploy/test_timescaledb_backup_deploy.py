"""WAL archiving and backups with pgBackRest, on real sandbox droplets.

The shared TimescaleDB droplet (``tests/deploy/conftest.py``) archives from its first deploy on.
The proof is a point-in-time restore, run as the README's runbook for a lost droplet: a full
backup taken by the deploy's own backup unit, rows written, the time noted, more rows written;
then the repository given to a new droplet, which the same deploy provisions (stopping at the
check, as the stanza is the lost server's), restored there to that time, found to hold exactly
the rows written before it, and deployed again.

S3 runs for real too, against moto's S3 server (Debian's python3-moto) on a droplet of its own
with a private CA: the shared droplet moves its repository there and back, by deploys.
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
from datalayer.timescaledb.backup.layout import PGBACKREST_PATHS, backup_units
from tests.deploy.conftest import ENVIRONMENT, Deployment

pytestmark = pytest.mark.sandbox

Stack = Callable[[Callable[[dict[str, Any]], None]], dict[str, str]]

SPEC = load_environment(ENVIRONMENT).timescaledb
STANZA = SPEC.backup.stanza
SERVICE = f"postgresql@{SPEC.version}-{SPEC.debian_cluster}"
REPOSITORY = "/var/lib/pgbackrest"
PROBE_DATABASE = "pitr_probe"
ARCHIVE_WAIT_SECONDS = 90
# Machine-wide container names: one per checkout, like the shared droplet's.
CHECKOUT = hashlib.sha256(str(REPOSITORY_ROOT).encode()).hexdigest()[:8]
RESTORE_DROPLET = f"restore-{CHECKOUT}"
OBJECT_STORE_DROPLET = f"s3-{CHECKOUT}"
OBJECT_STORE_PACKAGES = "python3-moto python3-flask-cors python3-boto3 openssl nginx"
# moto's own server (werkzeug) ends TLS connections without close_notify, which pgBackRest's
# OpenSSL 3 takes for a truncated answer: nginx serves TLS in front of it, as a real store would.
OBJECT_STORE_NGINX = """
server {
    listen 443 ssl;
    ssl_certificate /srv/s3/server.crt;
    ssl_certificate_key /srv/s3/server.key;
    client_max_body_size 0;
    location / {
        proxy_pass http://127.0.0.1:5000;
        proxy_http_version 1.1;
        proxy_set_header Host $http_host;
        proxy_request_buffering off;
        proxy_buffering off;
    }
}
"""
OBJECT_STORE_CA = "/etc/ssl/certs/datalayer-test-object-store.pem"
BUCKET = "datalayer-test-backups"


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
        if time.monotonic() > deadline:
            journal = droplet.sh(f"journalctl --no-pager -n 30 -u {SERVICE}")
            raise AssertionError(f"the restored server never left recovery:\n{journal}")
        time.sleep(1)


def operation_result(result: DeployResult, operation: str) -> str:
    """'changed', 'error' or 'no change': an operation's line in pyinfra's results table."""
    # The table comes last; lines above it may name the operation too (-v, -vv).
    line = [line for line in result.output.splitlines() if f"| {operation}" in line][-1]
    success, error, _ = line.split()[-3:]
    return "error" if error != "-" else "changed" if success != "-" else "no change"


def probe_rows(droplet: Deployment, where: str = "true") -> list[str]:
    rows = droplet.sql(
        f"SELECT time, batch, price FROM ticks WHERE {where} ORDER BY time", PROBE_DATABASE
    )
    return rows.splitlines()


class ObjectStore:
    """moto's S3 server on a droplet, behind nginx for HTTPS with a certificate from a CA of
    its own."""

    def __init__(self, droplet: Deployment) -> None:
        self.droplet = droplet
        # Droplets reach each other by container name on the sandbox's network.
        self.endpoint = droplet.container

    def start(self) -> None:
        self.droplet.sh(
            "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "
            f"--no-install-recommends {OBJECT_STORE_PACKAGES} > /dev/null"
        )
        self.droplet.sh(
            "set -e; mkdir -p /srv/s3; cd /srv/s3; "
            "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=test object store CA' "
            "-keyout ca.key -out ca.crt 2> /dev/null; "
            f"openssl req -newkey rsa:2048 -nodes -subj '/CN={self.endpoint}' "
            "-keyout server.key -out server.csr 2> /dev/null; "
            f"echo 'subjectAltName=DNS:{self.endpoint}' > san.cnf; "
            "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 "
            "-extfile san.cnf -out server.crt 2> /dev/null; "
            "systemctl stop moto-s3 2> /dev/null || true; "
            "systemd-run --unit=moto-s3 moto_server -H 127.0.0.1 -p 5000"
        )
        self.droplet.sh(
            f"cat > /etc/nginx/sites-enabled/default << 'EOF'{OBJECT_STORE_NGINX}EOF\n"
            "systemctl restart nginx"
        )
        self.client(f"s3.create_bucket(Bucket={BUCKET!r})")

    def client(self, expression: str) -> Any:
        """``expression`` on a boto3 client ``s3`` of the store, evaluated on the store's
        droplet (moto takes any key), as JSON."""
        script = (
            "import json, time, boto3\n"
            f"s3 = boto3.client('s3', endpoint_url='https://{self.endpoint}', "
            "verify='/srv/s3/ca.crt', region_name='us-east-1', "
            "aws_access_key_id='test', aws_secret_access_key='test')\n"
            "for attempt in range(60):  # until nginx and moto answer\n"
            "    try:\n"
            "        s3.list_buckets(); break\n"
            "    except Exception:\n"
            "        time.sleep(1)\n"
            f"print(json.dumps({expression}, default=str))\n"
        )
        completed = subprocess.run(
            ["docker", "exec", "-i", self.droplet.container, "python3", "-"],
            input=script, capture_output=True, text=True, check=True,
        )  # fmt: skip
        return json.loads(completed.stdout)

    def keys(self, prefix: str) -> list[str]:
        listed = f"s3.list_objects_v2(Bucket={BUCKET!r}, Prefix={prefix!r}).get('Contents', [])"
        return [str(key) for key in self.client(f"[found['Key'] for found in {listed}]")]

    def ca_certificate(self) -> str:
        return self.droplet.sh("cat /srv/s3/ca.crt")


@pytest.fixture(scope="module")
def object_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ObjectStore]:
    sandbox = Sandbox(REPOSITORY_ROOT / ".sandbox" / "tests-object-store")
    (droplet,) = sandbox.up([DropletSpec(OBJECT_STORE_DROPLET, ("objectstore",))], env=ENVIRONMENT)
    store = ObjectStore(
        Deployment(
            sandbox, droplet.container, droplet.published_ports, tmp_path_factory.mktemp("s3")
        )
    )
    store.start()
    yield store
    if not os.environ.get("DATALAYER_KEEP_SANDBOX"):
        sandbox.down([OBJECT_STORE_DROPLET])


@pytest.fixture(scope="module")
def restore_droplet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """A new droplet in a sandbox of its own (deploys to the shared one leave it be), to replace
    the shared one from its backups."""
    sandbox = Sandbox(REPOSITORY_ROOT / ".sandbox" / "tests-restore")
    # Always a new one, even where DATALAYER_KEEP_SANDBOX kept the last: it replaces a lost host.
    sandbox.down([RESTORE_DROPLET])
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
    if operation_result(first_deploy, f"Create the pgBackRest stanza {STANZA}") == "changed":
        # This session's first deploy made the droplet: the stanza existed before archive_mode
        # came on, so not one archive attempt failed.
        assert failed == 0
    deployment.sql("SELECT pg_create_restore_point('test')")  # a WAL record to switch away from
    segment = deployment.sql("SELECT pg_walfile_name(pg_switch_wal())")
    wait_until_archived(deployment, segment)
    now_archived, now_failed, _ = archiver(deployment)
    assert now_archived > archived
    assert now_failed == failed


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


def test_point_in_time_restore_on_a_replacement_droplet(
    deployment: Deployment, first_deploy: DeployResult, restore_droplet: Deployment
) -> None:
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

    # The replacement droplet gets the repository before its first deploy, as a volume moved
    # over or a bucket would give it (postgres does not exist yet: tar keeps its numeric ids).
    restore_droplet.sh(f"mkdir -p {REPOSITORY}")
    with subprocess.Popen(
        ["docker", "exec", deployment.container, "tar", "-C", REPOSITORY, "-cf", "-", "."],
        stdout=subprocess.PIPE,
    ) as source:
        target_tar = ["tar", "--numeric-owner", "-C", REPOSITORY, "-xf", "-"]
        subprocess.run(
            ["docker", "exec", "-i", restore_droplet.container, *target_tar],
            stdin=source.stdout,
            check=True,
        )
    assert source.returncode == 0

    # Its first deploy installs and configures everything, and stops at the check: the stanza
    # in the repository is the first droplet's cluster, not the new empty one.
    provisioned = restore_droplet.deploy()
    assert not provisioned.succeeded
    assert operation_result(provisioned, "Check that PostgreSQL archives") == "error"
    assert "info files exist but do not match the database" in provisioned.output
    assert restore_droplet.sh(f"find {REPOSITORY} ! -user postgres") == ""

    # The restore, as the README tells an operator to run it.
    restore_droplet.sh(f"systemctl stop {SERVICE}")
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

    # Deployed again, it is the environment's database server, archiving on a new timeline.
    adopted = restore_droplet.deploy()
    assert adopted.succeeded, adopted.output
    pgbackrest(restore_droplet, "check")
    assert restore_droplet.sql("SELECT timeline_id FROM pg_control_checkpoint()") != "1"


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
    access_key.chmod(0o600)
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
    # (The stanza operation reads the repository when it runs, after the new configuration is
    # in place; a dry run can only show the one the host is configured with now.)
    unplanned = [
        operation
        for operation in (
            f"Install {PGBACKREST_PATHS.config_file}",
            f"Install the S3 repository keys in {PGBACKREST_PATHS.keys_file}",
            f"Check that PostgreSQL archives to stanza {STANZA}",
        )
        if not any(line.startswith(operation) and " 1 (" in line for line in planned)
    ]
    assert unplanned == [], plan.output
    assert deployment.sh(f"test -e {PGBACKREST_PATHS.keys_file} || echo absent") == "absent"


def test_s3_repository_by_deploy_and_back(
    deployment: Deployment,
    first_deploy: DeployResult,
    object_store: ObjectStore,
    changed_stack: Stack,
    tmp_path: Path,
) -> None:
    deployment.sh(f"cat > {OBJECT_STORE_CA} << 'EOF'\n{object_store.ca_certificate()}\nEOF")
    repository = S3_REPOSITORY | {
        "endpoint": object_store.endpoint,
        "bucket": BUCKET,
        "region": "us-east-1",
        "uri_style": "path",
        "ca_file": OBJECT_STORE_CA,
    }
    keys = {
        "DATALAYER_BACKUP_ACCESS_KEY": "AK" + secrets.token_hex(9).upper(),
        "DATALAYER_BACKUP_SECRET_KEY": secrets.token_urlsafe(30),
    }
    for variable, value in keys.items():
        (tmp_path / variable).write_text(value)
        (tmp_path / variable).chmod(0o600)
    environ = changed_stack(lambda t: t.update(backup={"repository": repository})) | {
        f"{variable}_FILE": str(tmp_path / variable) for variable in keys
    }

    try:
        moved = deployment.deploy(environ, verbose=True, diff=True)
        assert moved.succeeded, moved.output
        assert "# repository keys ***" in moved.output  # -vv shows the command, masked
        config = deployment.sh(f"cat {PGBACKREST_PATHS.config_file}")
        # The keys' names, never their values, in a failure's message.
        assert [name for name, value in keys.items() if value in moved.output] == []
        assert [name for name, value in keys.items() if value in config] == []
        keys_file = deployment.sh(f"stat -c '%U %G %a' {PGBACKREST_PATHS.keys_file}")
        assert keys_file == "root postgres 640"
        assert "sandbox/archive/main/archive.info" in object_store.keys("sandbox/")

        # Backups and archived WAL land in the bucket; a second deploy changes nothing.
        deployment.sh(f"systemctl start {backup_units(SPEC.backup)[0].service}")
        (info,) = json.loads(pgbackrest(deployment, "--output=json info"))
        assert [backup["type"] for backup in info["backup"]] == ["full"]
        assert any(key.endswith("backup.manifest") for key in object_store.keys("sandbox/backup/"))
        again = deployment.deploy(environ)
        assert again.succeeded, again.output
        assert again.changed == 0, again.output
    finally:
        # Back to the repository the stack file names, whatever happened above: the keys file
        # goes, and archiving goes on into the directory.
        back = deployment.deploy()
    assert back.succeeded, back.output
    assert deployment.sh(f"test -e {PGBACKREST_PATHS.keys_file} || echo absent") == "absent"
    assert "repo1-type=posix" in deployment.sh(f"cat {PGBACKREST_PATHS.config_file}")
    pgbackrest(deployment, "check")
