"""The exporters on real sandbox droplets: a TimescaleDB host and a Redis host of a sandbox
whose environment declares ``monitoring``, deployed and verified as a user does it.

Tests run in file order: the first deploy and its verification (every exporter's suite), then
a second deploy that changes nothing and restarts no exporter, then what the run's output and
the exporters' command lines show of the monitoring identities' passwords.
"""

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml

from datalayer.deploy_run import DeployResult
from datalayer.monitoring.exporters import NODE, POSTGRES, REDIS
from datalayer.paths import REPOSITORY_ROOT
from datalayer.sandbox import DropletSpec, Sandbox
from datalayer.secrets import secret_variables
from datalayer.spec import load_environment
from deploy.timescaledb.hooks import remote_command
from tests.deployment import SandboxDeployment

pytestmark = pytest.mark.sandbox

ENVIRONMENT = "sandbox"
DATABASE_HOST, CACHE_HOST = "exp-db-1", "exp-cache-1"
UNITS = {
    DATABASE_HOST: (NODE.service, POSTGRES.service),
    CACHE_HOST: (NODE.service, REDIS.service),
}


@dataclass
class Monitored:
    """The two droplets, deployed once with ``monitoring`` declared."""

    deployment: SandboxDeployment
    containers: dict[str, str]
    first: DeployResult
    junit_directory: Path

    def sh(self, droplet: str, command: str) -> str:
        completed = subprocess.run(
            ["docker", "exec", self.containers[droplet], "sh", "-c", command],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return completed.stdout.strip()

    def main_pids(self) -> dict[str, str]:
        return {
            f"{droplet} {unit}": self.sh(droplet, f"systemctl show -p MainPID --value {unit}")
            for droplet, units in UNITS.items()
            for unit in units
        }


@pytest.fixture(scope="module")
def monitored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Monitored]:
    stacks = tmp_path_factory.mktemp("stacks")
    document = yaml.safe_load((REPOSITORY_ROOT / f"Pulumi.{ENVIRONMENT}.yaml").read_text())
    document["config"]["datalayer:monitoring"] = {}
    (stacks / f"Pulumi.{ENVIRONMENT}.yaml").write_text(yaml.safe_dump(document))
    sandbox = Sandbox(REPOSITORY_ROOT / ".sandbox" / "tests-exporters")
    spec = load_environment(ENVIRONMENT).timescaledb
    droplets = sandbox.up(
        [DropletSpec(DATABASE_HOST, ("timescaledb",)), DropletSpec(CACHE_HOST, ("redis",))],
        env=ENVIRONMENT,
        memory=spec.resources.model_dump()["memory"],
        cpus=float(spec.resources.cpus),
    )
    with pytest.MonkeyPatch.context() as patch:
        # The deploy, verify and this process read the stack with monitoring declared.
        patch.setenv("DATALAYER_STACKS", str(stacks))
        environment = load_environment(ENVIRONMENT)
        deployment = SandboxDeployment(
            sandbox, tmp_path_factory.mktemp("secrets"), secret_variables(environment)
        )
        first = deployment.deploy()
        assert first.succeeded, first.output
        yield Monitored(
            deployment,
            {droplet.name: droplet.container for droplet in droplets},
            first,
            tmp_path_factory.mktemp("junit"),
        )
    if not os.environ.get("DATALAYER_KEEP_SANDBOX"):
        sandbox.down([DATABASE_HOST, CACHE_HOST])


def test_first_deploy_starts_every_exporter(monitored: Monitored) -> None:
    running = {
        f"{droplet} {unit}": monitored.sh(droplet, f"systemctl is-active {unit}")
        for droplet, units in UNITS.items()
        for unit in units
    }
    assert set(running.values()) == {"active"}, running


def test_verify_passes_with_every_exporter_suite(monitored: Monitored) -> None:
    completed = monitored.deployment.verify(monitored.junit_directory)
    assert completed.returncode == 0, completed.stdout[-6000:] + completed.stderr[-2000:]
    passed = {
        case.get("classname", "").rsplit(".", 1)[-1]
        for report in monitored.junit_directory.glob("*.xml")
        for case in ElementTree.parse(report).getroot().iter("testcase")
        if not list(case)  # no failure, error or skipped child
    }
    assert {"test_exporters", "test_exporters_postgres", "test_exporters_redis"} <= passed


@pytest.fixture(scope="module")
def second(monitored: Monitored) -> tuple[DeployResult, dict[str, str], dict[str, str]]:
    before = monitored.main_pids()
    result = monitored.deployment.deploy()
    return result, before, monitored.main_pids()


def test_second_deploy_changes_nothing(
    second: tuple[DeployResult, dict[str, str], dict[str, str]],
) -> None:
    result, _, _ = second
    assert result.succeeded, result.output
    assert result.changed == 0, result.output


def test_second_deploy_restarts_no_exporter(
    second: tuple[DeployResult, dict[str, str], dict[str, str]],
) -> None:
    _, before, after = second
    assert after == before


@pytest.mark.parametrize(
    "variable", ["DATALAYER_MONITOR_PASSWORD", "DATALAYER_REDIS_MONITOR_PASSWORD"]
)
def test_monitoring_password_is_not_in_the_deploys_output(
    monitored: Monitored, variable: str
) -> None:
    assert monitored.deployment.passwords[variable] not in monitored.first.output


@pytest.mark.parametrize(
    ("droplet", "unit", "variable"),
    [
        (DATABASE_HOST, POSTGRES.service, "DATALAYER_MONITOR_PASSWORD"),
        (CACHE_HOST, REDIS.service, "DATALAYER_REDIS_MONITOR_PASSWORD"),
    ],
)
def test_monitoring_password_is_not_on_the_exporters_command_line(
    monitored: Monitored, droplet: str, unit: str, variable: str
) -> None:
    pid = monitored.sh(droplet, f"systemctl show -p MainPID --value {unit}")
    command_line = monitored.sh(droplet, f"tr '\\0' ' ' < /proc/{pid}/cmdline")
    assert command_line.startswith("/usr/bin/prometheus-")
    assert monitored.deployment.passwords[variable] not in command_line


def hooks(monitored: Monitored, mode: str) -> subprocess.CompletedProcess[str]:
    """The hooks the deploy uploaded to the database droplet, run there in ``mode``."""
    return subprocess.run(
        ["docker", "exec", "-i", monitored.containers[DATABASE_HOST], "sh", "-c",
         remote_command(mode, 5432)],
        input="{}", capture_output=True, text=True, check=False,
    )  # fmt: skip


def memberships(monitored: Monitored) -> str:
    return monitored.sh(
        DATABASE_HOST,
        "runuser -u postgres -- psql -XAtq -d postgres -c \"SELECT string_agg(g.rolname, ',' "
        "ORDER BY g.rolname) FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
        "JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = 'monitor'\"",
    )


@pytest.fixture(scope="module")
def granted_by_hand(
    monitored: Monitored, second: tuple[DeployResult, dict[str, str], dict[str, str]]
) -> subprocess.CompletedProcess[str]:
    """The hooks' check once someone granted the monitoring role a table-reading role."""
    monitored.sh(
        DATABASE_HOST,
        'runuser -u postgres -- psql -XAtq -d postgres -c "GRANT pg_read_all_data TO monitor"',
    )
    return hooks(monitored, "check")


def test_hooks_check_finds_a_membership_granted_by_hand(
    granted_by_hand: subprocess.CompletedProcess[str],
) -> None:
    assert granted_by_hand.returncode == 3, granted_by_hand.stdout + granted_by_hand.stderr
    assert "role membership monitor: -pg_read_all_data" in granted_by_hand.stdout


def test_hooks_revoke_a_membership_granted_by_hand(
    monitored: Monitored, granted_by_hand: subprocess.CompletedProcess[str]
) -> None:
    applied = hooks(monitored, "apply")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert memberships(monitored) == "pg_monitor"
