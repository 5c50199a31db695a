"""The restore drill on real sandbox droplets: a source, its SFTP repository, a scratch host.

Three droplets in one sandbox: ``drill-db`` in ``timescaledb``, ``drill-repo`` in
``backup_repository`` and ``drill-scratch`` (a host of no service group), deployed by
``deploy/site.py`` from the sandbox stack with its repository switched to ``sftp``, a short
``archive_timeout`` (so that the drill's wait for the source's archiver is short) and
``monitoring.restore_drill`` declared on the scratch host (so the deploy makes it ready and
schedules the drill there). Then ``python -m datalayer.restore drill`` runs as a user runs it:
the latest restore matches the source's counts, its hooks' check is clean and the testinfra
subset passes on it; a point-in-time restore holds a row written before its moment and not one
written after; the source is unchanged (same server, same
backups, same configuration files, no WAL of the copy's timeline in the repository); a second
drill is clean; the metrics file is written; the scheduled drill passes.
"""

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import yaml

from datalayer.backup_repository import REPOSITORY_HOST_LAYOUT
from datalayer.deploy_run import DeployResult
from datalayer.paths import REPOSITORY_ROOT
from datalayer.sandbox import DropletSpec, Sandbox
from datalayer.spec.backup import BACKUP_REPOSITORY_GROUP
from datalayer.timescaledb.backup.layout import PGBACKREST_PATHS, backup_units
from deploy.restore_drill import METRIC_FILE, DrillUnit
from tests.deploy.conftest import ENVIRONMENT, Deployment
from tests.deploy.test_timescaledb_backup_deploy import SPEC, STANZA, archiver

pytestmark = pytest.mark.sandbox

SOURCE = "drill-db"
REPOSITORY_HOST = "drill-repo"
SCRATCH = "drill-scratch"
KEY_SECRET = "DATALAYER_BACKUP_SFTP_KEY"
REPOSITORY_PATH = "/pgbackrest"
STORED = f"{REPOSITORY_HOST_LAYOUT.chroot_directory}{REPOSITORY_PATH}"
ARCHIVE_TIMEOUT = "5s"
CANDLES = "market_data.candles"
SOURCE_FILES = (
    PGBACKREST_PATHS.config_file,
    f"/etc/postgresql/{SPEC.version}/{SPEC.debian_cluster}/postgresql.conf",
    f"/etc/postgresql/{SPEC.version}/{SPEC.debian_cluster}/pg_hba.conf",
)


@dataclass
class DrillSandbox:
    source: Deployment
    repository: Deployment
    scratch: Deployment
    environ: dict[str, str]

    def deploy(self) -> DeployResult:
        return self.source.deploy(self.environ)

    def drill(self, *more: str) -> subprocess.CompletedProcess[str]:
        """``python -m datalayer.restore drill`` as a user runs it, with the sandbox's secrets."""
        return subprocess.run(
            [sys.executable, "-m", "datalayer.restore", "drill", "--env", ENVIRONMENT,
             str(self.source.sandbox.paths.inventory), "--target", SCRATCH, *more],
            cwd=REPOSITORY_ROOT, env={**os.environ, **self.source.environ, **self.environ},
            capture_output=True, text=True, check=False, timeout=600,
        )  # fmt: skip

    def insert_candle(self, asset_key: int) -> None:
        self.source.sql(
            f"INSERT INTO {CANDLES} (ts, asset_key, timeframe, open, high, low, close, volume, "
            f"source) VALUES (now(), {asset_key}, '1m', 1, 1, 1, 1, 0, 'restore drill test')",
            SPEC.database,
        )

    def source_state(self) -> dict[str, str]:
        """What a drill must leave as it was on the source."""
        return {
            "postmaster": self.source.postmaster_started(),
            "backups": self.source.sh(
                f"runuser -u postgres -- pgbackrest --stanza={STANZA} --output=json info "
                '| python3 -c \'import json,sys; print([b["label"] for b in '
                'json.load(sys.stdin)[0]["backup"]])\''
            ),
            "files": self.source.sh(f"sha256sum {' '.join(SOURCE_FILES)}"),
        }


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DrillSandbox]:
    sandbox = Sandbox(REPOSITORY_ROOT / ".sandbox" / "tests-restore-drill")
    source, repository, scratch = sandbox.up(
        [
            DropletSpec(SOURCE, ("timescaledb",)),
            DropletSpec(REPOSITORY_HOST, (BACKUP_REPOSITORY_GROUP,)),
            DropletSpec(SCRATCH, ("scratch",)),
        ],
        env=ENVIRONMENT,
    )
    secrets_directory = tmp_path_factory.mktemp("drill-secrets")
    key = secrets_directory / KEY_SECRET
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(key)], check=True
    )
    stacks = tmp_path_factory.mktemp("drill-stack")
    document = yaml.safe_load((REPOSITORY_ROOT / f"Pulumi.{ENVIRONMENT}.yaml").read_text())
    document["config"]["datalayer:timescaledb"]["backup"] = {
        "repository": {"type": "sftp", "private_key_secret": KEY_SECRET, "path": REPOSITORY_PATH},
        "archive_timeout": ARCHIVE_TIMEOUT,
    }
    monitoring = document["config"].setdefault("datalayer:monitoring", {})
    monitoring["restore_drill"] = {"host": SCRATCH}
    (stacks / f"Pulumi.{ENVIRONMENT}.yaml").write_text(yaml.safe_dump(document))
    environ = {"DATALAYER_STACKS": str(stacks), f"{KEY_SECRET}_FILE": str(key)}
    source_droplet, repository_droplet, scratch_droplet = (
        Deployment(sandbox, droplet.container, droplet.published_ports, secrets_directory)
        for droplet in (source, repository, scratch)
    )
    yield DrillSandbox(source_droplet, repository_droplet, scratch_droplet, environ)
    if not os.environ.get("DATALAYER_KEEP_SANDBOX"):
        sandbox.down([SOURCE, REPOSITORY_HOST, SCRATCH])


@pytest.fixture(scope="module")
def backed_up(sandbox: DrillSandbox) -> DrillSandbox:
    """Deployed, with candles written and a full backup taken by the deploy's own unit."""
    result = sandbox.deploy()
    assert result.succeeded, result.output[-3000:]
    for asset_key in range(1, 4):
        sandbox.insert_candle(asset_key)
    sandbox.source.sh(f"systemctl start {backup_units(SPEC.backup)[0].service}")
    return sandbox


def _counts(output: str) -> dict[str, tuple[int, int | None]]:
    """The summary's ``  name: N rows (source: M)`` lines, by hypertable."""
    found = {}
    for name, restored, source in re.findall(
        r"^  (\S+): (\d+) rows(?: \(source: (\d+)\))?$", output, re.MULTILINE
    ):
        found[name] = (int(restored), None if source == "" else int(source))
    return found


@pytest.fixture(scope="module")
def latest(backed_up: DrillSandbox) -> subprocess.CompletedProcess[str]:
    backed_up.insert_candle(4)  # after the backup: only the archived WAL holds it
    return backed_up.drill()


def test_latest_restore_matches_the_source(latest: subprocess.CompletedProcess[str]) -> None:
    assert latest.returncode == 0, latest.stdout + latest.stderr
    assert "PASSED" in latest.stdout.splitlines()[0], latest.stdout
    restored, source = _counts(latest.stdout)[CANDLES]
    assert restored == source and restored >= 4, latest.stdout  # one written after the backup


def test_restored_copy_archives_nothing(latest: subprocess.CompletedProcess[str]) -> None:
    assert "archive_mode 'off' (" in latest.stdout, latest.stdout
    assert "archive_command '(disabled)' (" in latest.stdout, latest.stdout
    assert "listen_addresses 'localhost' (" in latest.stdout, latest.stdout


def test_hooks_check_is_clean_on_the_restored_copy(
    latest: subprocess.CompletedProcess[str],
) -> None:
    assert "  hooks' check: clean" in latest.stdout.splitlines(), latest.stdout


def test_testinfra_subset_passes_on_the_restored_copy(
    latest: subprocess.CompletedProcess[str],
) -> None:
    (line,) = [line for line in latest.stdout.splitlines() if line.startswith("  testinfra (")]
    assert re.search(r"\): \d+ passed", line) and "failed" not in line, latest.stdout


def test_drill_writes_its_metrics_for_node_exporter(
    backed_up: DrillSandbox, latest: subprocess.CompletedProcess[str]
) -> None:
    metrics = backed_up.scratch.sh(f"cat {METRIC_FILE}")
    names = sorted(line.split("{")[0] for line in metrics.splitlines() if not line.startswith("#"))
    assert names == [
        "datalayer_restore_drill_data_age_seconds",
        "datalayer_restore_drill_duration_seconds",
        "datalayer_restore_drill_last_success_timestamp_seconds",
    ]


def test_point_in_time_restore_leaves_out_what_came_later(backed_up: DrillSandbox) -> None:
    before = int(backed_up.source.sql(f"SELECT count(*) FROM {CANDLES}", SPEC.database))
    backed_up.insert_candle(5)
    moment = backed_up.source.sql("SELECT now()")
    time.sleep(1.5)
    backed_up.insert_candle(6)
    _, _, last = archiver(backed_up.source)
    segment = backed_up.source.sql("SELECT pg_walfile_name(pg_current_wal_lsn())")
    deadline = time.monotonic() + 60
    while archiver(backed_up.source)[2] < segment:  # archive_timeout pushes it
        assert time.monotonic() < deadline, f"{segment} not archived (last {last})"
        time.sleep(1)
    drilled = backed_up.drill("--time", moment)
    assert drilled.returncode == 0, drilled.stdout + drilled.stderr
    assert _counts(drilled.stdout)[CANDLES] == (before + 1, None), drilled.stdout


def test_drill_changes_nothing_on_the_source(backed_up: DrillSandbox) -> None:
    before = backed_up.source_state()
    drilled = backed_up.drill()
    assert drilled.returncode == 0, drilled.stdout + drilled.stderr
    assert backed_up.source_state() == before
    # The copy was promoted onto a timeline of its own: none of its WAL reached the repository.
    foreign = backed_up.repository.sh(
        f"find {STORED}/archive/{STANZA} -name '*.history' -o -name '00000002*'"
    )
    assert foreign == ""


def test_second_drill_is_clean(
    backed_up: DrillSandbox, latest: subprocess.CompletedProcess[str]
) -> None:
    # After the first (``latest``): over its copy, its cluster and its scratch deploy.
    again = backed_up.drill()
    assert again.returncode == 0, again.stdout + again.stderr
    assert "problem:" not in again.stdout


def test_scheduled_drill_passes_and_records_its_success(backed_up: DrillSandbox) -> None:
    unit = DrillUnit(schedule="")
    assert backed_up.scratch.sh(f"systemctl is-enabled {unit.timer}") == "enabled"
    before = int(backed_up.scratch.sh(f"stat -c %Y {METRIC_FILE} 2> /dev/null || echo 0"))
    time.sleep(1)
    backed_up.scratch.sh(f"systemctl start {unit.service}")
    assert int(backed_up.scratch.sh(f"stat -c %Y {METRIC_FILE}")) > before
    journal = backed_up.scratch.sh(f"journalctl --no-pager -u {unit.service} -n 5")
    assert "restore drill passed" in journal, journal
