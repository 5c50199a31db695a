"""Alerts that fire on the real thing: two sandbox droplets (a TimescaleDB host, and a Redis host
that also runs Prometheus), deployed as a user does it, then broken and repaired.

Breaking the archive: the repository's archive directory made unwritable to pgBackRest, a row
written and the segment switched, so that archive_command fails; PostgresArchiveFailing must
become active in Prometheus's API (/api/v1/alerts, through the published port, as a user would
read it), then clear once the directory is writable again. The time from the break to the
firing alert is printed (``-s`` shows it). Stopping Redis: RedisDown must fire and clear.

Last, a full backup started by hand must reach Prometheus as its completion time (the metric
the backup-staleness rules read): it archives WAL, and PostgresArchiveFailing waits for a
window without any archived segment, so it comes after the archive test. Tests run in file
order; the sandbox's short thresholds
(``Pulumi.sandbox.yaml``) make each alert fire within two minutes.
"""

import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from datalayer.deploy_run import DeployResult
from datalayer.monitoring.prometheus import PROMETHEUS_GROUP
from datalayer.monitoring.rules import BACKUP_METRIC
from datalayer.paths import REPOSITORY_ROOT
from datalayer.sandbox import DropletSpec, Sandbox
from datalayer.secrets import secret_variables
from datalayer.spec import load_environment
from datalayer.timescaledb.backup.layout import backup_units
from tests.deployment import SandboxDeployment
from tests.prometheus_api import PrometheusApi

pytestmark = pytest.mark.sandbox

ENVIRONMENT = "sandbox"
DATABASE_HOST, CACHE_HOST = "prom-db-1", "prom-cache-1"
SPEC = load_environment(ENVIRONMENT)
STANZA = SPEC.timescaledb.backup.stanza
ARCHIVE_DIRECTORY = "/var/lib/pgbackrest/archive"
FIRE_WITHIN_SECONDS = 120
"""The issue's bound: the sandbox's thresholds make an alert fire within two minutes."""
CLEAR_WITHIN_SECONDS = 90


@dataclass
class Watched:
    """The droplets, deployed once, and Prometheus's API on this machine."""

    deployment: SandboxDeployment
    containers: dict[str, str]
    first: DeployResult
    prometheus: PrometheusApi
    addresses: dict[str, str]

    def sh(self, droplet: str, command: str) -> str:
        completed = subprocess.run(
            ["docker", "exec", self.containers[droplet], "sh", "-c", command],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return completed.stdout.strip()

    def sql(self, query: str) -> str:
        return self.sh(DATABASE_HOST, f'runuser -u postgres -- psql -XAtq -c "{query}"')


@pytest.fixture(scope="module")
def watched() -> Iterator[Watched]:
    sandbox = Sandbox(REPOSITORY_ROOT / ".sandbox" / "tests-alerts")
    resources = SPEC.timescaledb.resources
    droplets = sandbox.up(
        [
            DropletSpec(DATABASE_HOST, ("timescaledb",)),
            DropletSpec(CACHE_HOST, ("redis", PROMETHEUS_GROUP)),
        ],
        env=ENVIRONMENT,
        memory=resources.model_dump()["memory"],
        cpus=float(resources.cpus),
    )
    secret_dir = sandbox.paths.directory / "secrets"
    secret_dir.mkdir(mode=0o700, exist_ok=True)
    deployment = SandboxDeployment(sandbox, secret_dir, secret_variables(SPEC))
    first = deployment.deploy()
    assert first.succeeded, first.output
    (cache,) = [droplet for droplet in droplets if droplet.name == CACHE_HOST]
    assert SPEC.monitoring is not None
    api = PrometheusApi(
        f"http://127.0.0.1:{cache.published_ports[SPEC.monitoring.prometheus.port]}"
    )
    yield Watched(
        deployment,
        {droplet.name: droplet.container for droplet in droplets},
        first,
        api,
        {droplet.name: droplet.private_address for droplet in droplets},
    )
    if not os.environ.get("DATALAYER_KEEP_SANDBOX"):
        sandbox.down([DATABASE_HOST, CACHE_HOST])


def test_prometheus_scrapes_every_exporter_of_the_inventory(watched: Watched) -> None:
    deadline = time.monotonic() + 60
    while True:
        health = watched.prometheus.target_health()
        if set(health.values()) == {"up"} or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert health == {
        ("node", DATABASE_HOST): "up",
        ("node", CACHE_HOST): "up",
        ("postgres", DATABASE_HOST): "up",
        ("redis", CACHE_HOST): "up",
    }


def test_a_healthy_sandbox_fires_nothing(watched: Watched) -> None:
    # Long enough for any condition that held since the deploy to pass its 15 s ``for:``.
    deadline = time.monotonic() + 30
    firing: set[str] = set()
    while time.monotonic() < deadline and not firing:
        firing = watched.prometheus.firing()
        time.sleep(2)
    assert firing == set()


def test_second_deploy_changes_nothing(watched: Watched) -> None:
    second = watched.deployment.deploy()
    assert second.succeeded, second.output
    assert second.changed == 0, second.output


def test_broken_archive_fires_postgres_archive_failing_then_clears(watched: Watched) -> None:
    mode = watched.sh(DATABASE_HOST, f"stat -c %a {ARCHIVE_DIRECTORY}")
    watched.sh(DATABASE_HOST, f"chmod 000 {ARCHIVE_DIRECTORY}")
    broken = time.monotonic()
    try:
        watched.sql("CREATE TABLE IF NOT EXISTS alert_probe (at timestamptz)")
        watched.sql("INSERT INTO alert_probe VALUES (now()); SELECT pg_switch_wal()")
        waited = watched.prometheus.wait_for(
            "PostgresArchiveFailing", firing=True, within=FIRE_WITHIN_SECONDS
        )
        seconds = time.monotonic() - broken
        print(f"\nbroken archive to a firing PostgresArchiveFailing: {seconds:.0f} s")
        assert waited <= FIRE_WITHIN_SECONDS
    finally:
        watched.sh(DATABASE_HOST, f"chmod {mode} {ARCHIVE_DIRECTORY}")
    # The archiver retries the failed segment by itself; a new one makes it try at once.
    watched.sql("INSERT INTO alert_probe VALUES (now()); SELECT pg_switch_wal()")
    watched.prometheus.wait_for("PostgresArchiveFailing", firing=False, within=CLEAR_WITHIN_SECONDS)
    watched.sql("DROP TABLE alert_probe")


def test_stopped_redis_fires_redis_down_then_clears(watched: Watched) -> None:
    watched.sh(CACHE_HOST, "systemctl stop redis-server")
    stopped = time.monotonic()
    try:
        watched.prometheus.wait_for("RedisDown", firing=True, within=FIRE_WITHIN_SECONDS)
        print(f"\nstopped Redis to a firing RedisDown: {time.monotonic() - stopped:.0f} s")
    finally:
        watched.sh(CACHE_HOST, "systemctl start redis-server")
    watched.prometheus.wait_for("RedisDown", firing=False, within=CLEAR_WITHIN_SECONDS)


def test_a_full_backup_reaches_prometheus_as_its_completion_time(watched: Watched) -> None:
    (full,) = [unit for unit in backup_units(SPEC.timescaledb.backup) if unit.type == "full"]
    watched.sh(DATABASE_HOST, f"systemctl start {full.service}")
    deadline = time.monotonic() + 60
    while not (samples := watched.prometheus.query(f'{BACKUP_METRIC}{{type="full"}}')):
        assert time.monotonic() < deadline, "no backup completion time in Prometheus after 60 s"
        time.sleep(2)
    (sample,) = samples
    assert sample["metric"] == {
        "__name__": BACKUP_METRIC, "env": ENVIRONMENT, "group": "timescaledb",
        "host": DATABASE_HOST, "instance": f"{watched.addresses[DATABASE_HOST]}:9100",
        "job": "node", "type": "full",
    }  # fmt: skip
