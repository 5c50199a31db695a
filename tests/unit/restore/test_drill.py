"""The restore drill's command, judged before any host is contacted, and its pure parts: the
restore's pgBackRest arguments, the copy's configuration, the verdict and the metrics file.

The command runs as its own process (it loads the inventory with pyinfra's CLI, which patches
the standard library for gevent). The inventory's hosts point at a port on 127.0.0.1 that counts
the connections it accepts: a refused drill has made none.
"""

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from datalayer.onhost.restore_drill import RestoreDrillPlan, record, restore_arguments
from datalayer.paths import REPOSITORY_ROOT
from datalayer.restore.drill import SourceSnapshot, parse_target_time, problems_of
from datalayer.secrets import generated_secret
from datalayer.spec import SpecError, load_environment
from datalayer.spec.load import STACKS_VARIABLE
from deploy.restore_drill import drill_plan
from tests.unit.spec.bad_input import Listener, default_secrets

ENVIRONMENT = "sandbox"
KEY_SECRET = "DATALAYER_BACKUP_SFTP_KEY"


@pytest.fixture
def listener() -> Iterator[Listener]:
    served = Listener()
    yield served
    served.socket.close()


def _stack(directory: Path, repository: dict[str, Any]) -> None:
    document = yaml.safe_load((REPOSITORY_ROOT / f"Pulumi.{ENVIRONMENT}.yaml").read_text())
    document["config"]["datalayer:timescaledb"]["backup"] = {"repository": repository}
    (directory / f"Pulumi.{ENVIRONMENT}.yaml").write_text(yaml.safe_dump(document))


class Drill:
    """The sandbox with an SFTP repository and every secret, and an inventory of the source
    db-1, its repository backup-1, cache-1 and the scratch host drill-1."""

    def __init__(self, directory: Path, listener: Listener) -> None:
        self.directory = directory
        self.listener = listener
        _stack(directory, {"type": "sftp", "private_key_secret": KEY_SECRET})
        self.environ = {
            **{k: v for k, v in os.environ.items() if not k.startswith("DATALAYER_")},
            **default_secrets(),
            KEY_SECRET: generated_secret(ssh_key=True),
            STACKS_VARIABLE: str(directory),
        }
        reached = {"ssh_hostname": "127.0.0.1", "ssh_port": listener.port}
        groups = {
            "timescaledb": [("db-1", {"env": ENVIRONMENT, **reached})],
            "redis": [("cache-1", {"env": ENVIRONMENT, **reached})],
            "backup_repository": [
                ("backup-1", {"env": ENVIRONMENT, "private_address": "10.0.0.31", **reached})
            ],
            "scratch": [("drill-1", {"env": ENVIRONMENT, **reached})],
        }
        self.inventory = directory / "inventory.py"
        self.inventory.write_text(
            "".join(f"{group} = {hosts!r}\n" for group, hosts in groups.items())
        )

    def refusal(self, *arguments: str) -> str:
        """The one line a drill that must not start prints; it contacted no host."""
        completed = subprocess.run(
            [sys.executable, "-m", "datalayer.restore", "drill", "--env", ENVIRONMENT,
             str(self.inventory), *arguments],
            cwd=REPOSITORY_ROOT, env=self.environ, capture_output=True, text=True, check=False,
        )  # fmt: skip
        output = completed.stdout.strip()
        assert completed.returncode == 2, completed.stdout + completed.stderr
        assert len(output.splitlines()) == 1, output
        assert self.listener.accepted == 0
        return output


@pytest.fixture
def drill(tmp_path: Path, listener: Listener) -> Drill:
    return Drill(tmp_path, listener)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("db-1", "error: inventory: --target db-1 is a host of the source (timescaledb of env "
         "sandbox): a drill restores onto a scratch host, never over the data it checks"),
        ("backup-1", "error: inventory: --target backup-1 is a host of the source "
         "(backup_repository of env sandbox)"),
        ("drill-9", "error: --target drill-9 is not a host of"),
    ],
)  # fmt: skip
def test_target_that_is_no_scratch_host_is_refused_before_any_host(
    drill: Drill, target: str, expected: str
) -> None:
    assert drill.refusal("--target", target).startswith(expected)


def test_posix_repository_is_refused_before_any_host(drill: Drill) -> None:
    _stack(drill.directory, {"type": "posix"})
    assert drill.refusal("--target", "drill-1") == (
        "error: Pulumi.sandbox.yaml's timescaledb.backup.repository is posix "
        "(/var/lib/pgbackrest on the source): no other host can reach it; drill from an s3 or "
        "sftp repository"
    )


def test_missing_repository_key_is_refused_before_any_host(drill: Drill) -> None:
    del drill.environ[KEY_SECRET]
    assert KEY_SECRET in drill.refusal("--target", "drill-1")


def test_time_without_zone_is_refused_before_any_host(drill: Drill) -> None:
    line = drill.refusal("--target", "drill-1", "--time", "2026-05-04 13:37:00")
    assert line.startswith("error: --time '2026-05-04 13:37:00' has no time zone")


NOW = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yesterday", "--time 'yesterday' is not an ISO 8601 timestamp"),
        ("2026-12-01 13:37:00", "--time '2026-12-01 13:37:00' has no time zone"),
        ("2026-12-01 18:00:00+00:00", "--time '2026-12-01 18:00:00+00:00' is not in the past"),
    ],
)
def test_target_time_that_cannot_be_restored_to_is_refused(text: str, expected: str) -> None:
    with pytest.raises(SpecError, match="^" + expected.replace("+", r"\+")):
        parse_target_time(text, NOW)


def test_target_time_keeps_its_zone() -> None:
    moment = parse_target_time("2026-12-01 13:37:00+01:00", NOW)
    assert moment.isoformat(sep=" ") == "2026-12-01 13:37:00+01:00"


@pytest.fixture
def plan() -> RestoreDrillPlan:
    return drill_plan(load_environment(ENVIRONMENT))


# pgBackRest's options as release/2.55.1's src/build/config/config.yaml defines them: restore's
# type allows lsn, time and default (everything archived) (485-510); target-action, default
# pause, only with a target type (434-451), so never with the latest state; target-exclusive
# with lsn, time or xid (454-466); archive-mode off|preserve, restore only (1336-1346), which
# writes archive_mode = 'off' into postgresql.auto.conf (src/command/restore/restore.c:1499-1513).
@pytest.mark.parametrize(
    ("lsn", "moment", "expected"),
    [
        (None, None, []),
        ("0/5000060", None,
         ["--type=lsn", "--target=0/5000060", "--target-exclusive", "--target-action=promote"]),
        (None, "2026-12-01 13:37:00+00:00",
         ["--type=time", "--target=2026-12-01 13:37:00+00:00", "--target-action=promote"]),
    ],
)  # fmt: skip
def test_restore_turns_archiving_off_and_promotes_at_its_target(
    plan: RestoreDrillPlan, lsn: str | None, moment: str | None, expected: list[str]
) -> None:
    assert restore_arguments(plan, lsn, moment) == [
        "pgbackrest", "--stanza=main", "--pg1-path=/var/lib/datalayer/restore-drill/17",
        "--archive-mode=off", *expected, "restore",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "line",
    [
        "archive_mode = off",
        "archive_command = ''",
        "listen_addresses = 'localhost'",
        "port = 5433",
        "hot_standby = off",
        "timescaledb.max_background_workers = 0",
        "shared_preload_libraries = 'timescaledb'",
    ],
)
def test_restored_copy_configuration_isolates_it(plan: RestoreDrillPlan, line: str) -> None:
    assert line in plan.postgresql_conf.splitlines()


def test_restored_copy_admits_only_postgres_over_the_socket(plan: RestoreDrillPlan) -> None:
    rules = [line.split() for line in plan.pg_hba_conf.splitlines() if not line.startswith("#")]
    assert [rule for rule in rules if rule and rule[-1] != "reject"] == [
        ["local", "all", "postgres", "peer"]
    ]


def test_copy_is_a_postgresql_common_cluster_of_its_own(plan: RestoreDrillPlan) -> None:
    assert (plan.config_directory, plan.data_directory) == (
        "/etc/postgresql/17/restore-drill", "/var/lib/datalayer/restore-drill/17"
    )  # fmt: skip
    assert "data_directory = '/var/lib/datalayer/restore-drill/17'" in plan.postgresql_conf
    assert plan.start_conf.splitlines()[-1] == "manual"  # never started at boot


def test_failed_testinfra_subset_fails_the_drill() -> None:
    found = problems_of(
        _report(), None, True, replayed_everything=False, testinfra_summary="1 failed, 13 passed"
    )
    assert found == ["the testinfra subset failed: 1 failed, 13 passed"]


def _report(**changes: Any) -> dict[str, Any]:
    settings = {
        "archive_mode": {"setting": "off", "source": "postgresql.auto.conf"},
        "archive_command": {"setting": "(disabled)", "source": "postgresql.conf"},
        "listen_addresses": {"setting": "localhost", "source": "postgresql.conf"},
    }
    return {"settings": settings, "counts": {"market_data.candles": 10}, "end_lsn": "0/5000028",
            **changes}  # fmt: skip


def _snapshot(counts: dict[str, int]) -> SourceSnapshot:
    return SourceSnapshot("0/5000028", "000000010000000000000005", 0.0, counts)


def test_drill_matching_the_snapshot_passes() -> None:
    found = problems_of(_report(), _snapshot({"market_data.candles": 10}), True, False)
    assert found == []


@pytest.mark.parametrize(
    ("report", "source", "hooks_clean", "expected"),
    [
        (_report(), _snapshot({"market_data.candles": 11}), True,
         "market_data.candles: 10 rows restored, 11 at the source's snapshot"),
        (_report(), _snapshot({"market_data.candles": 10, "public.trades": 3}), True,
         "public.trades: None rows restored, 3 at the source's snapshot"),
        (_report(), None, False, "the hooks' check found drift in the restored copy"),
        (_report(settings={**_report()["settings"],
                           "archive_mode": {"setting": "on", "source": "postgresql.conf"}}),
         None, True, "the copy's archive_mode is 'on', not 'off'"),
        (_report(end_lsn="0/6000000"), _snapshot({"market_data.candles": 10}), True,
         "replay ended at 0/6000000, past the snapshot's 0/5000028"),
    ],
    ids=["count-differs", "hypertable-missing", "hooks-drift", "archiving-on", "replayed-past"],
)  # fmt: skip
def test_drill_that_does_not_match_fails_with_the_reason(
    report: dict[str, Any], source: SourceSnapshot | None, hooks_clean: bool, expected: str
) -> None:
    # Every case as if the copy replayed all archived WAL, where the end LSN is judged too.
    (problem,) = problems_of(report, source, hooks_clean, replayed_everything=True)
    assert problem.startswith(expected)


def test_passed_drill_writes_its_three_gauges_for_node_exporter(
    plan: RestoreDrillPlan, tmp_path: Path
) -> None:
    metric_file = tmp_path / "node-exporter" / "datalayer_restore_drill.prom"
    record(RestoreDrillPlan(**{**plan.__dict__, "metric_file": str(metric_file)}), 12.5, 30.0)
    samples = {
        line.split("{")[0]: line
        for line in metric_file.read_text().splitlines()
        if not line.startswith("#")
    }
    assert sorted(samples) == [
        "datalayer_restore_drill_data_age_seconds",
        "datalayer_restore_drill_duration_seconds",
        "datalayer_restore_drill_last_success_timestamp_seconds",
    ]
    assert samples["datalayer_restore_drill_duration_seconds"] == (
        'datalayer_restore_drill_duration_seconds{environment="sandbox",stanza="main"} 12.5'
    )
    assert stat.S_IMODE(os.stat(metric_file).st_mode) == 0o644
    assert os.listdir(metric_file.parent) == [metric_file.name]  # no temporary file left


def test_plan_round_trips_through_its_json(plan: RestoreDrillPlan) -> None:
    assert RestoreDrillPlan.from_json(plan.to_json()) == plan
    assert "password" not in json.loads(plan.to_json())
