"""The Redis exporter on a Sentinel group: three sandbox droplets of the redis group of
``Pulumi.sandbox-cluster.yaml``, with ``monitoring`` declared, deployed and verified as a user
does it.

What differs from a single Redis host (``test_exporters_deploy.py``): the exporter's user is in
both Redis's and Sentinel's users.acl (Sentinel keeps its own), and the exporter's ``/scrape``
endpoint reaches the Sentinel beside it, which the verification checks on every host.
"""

import os
import shlex
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml

from datalayer.deploy_run import DeployResult
from datalayer.monitoring.exporters import REDIS
from datalayer.paths import REPOSITORY_ROOT
from datalayer.sandbox import DropletSpec, Sandbox
from datalayer.sandbox.droplets import Droplet
from datalayer.secrets import generated_secret, secret_variables
from datalayer.spec import load_environment
from tests.deployment import SandboxDeployment

pytestmark = pytest.mark.sandbox

ENVIRONMENT = "sandbox-cluster"
DROPLETS = tuple(DropletSpec(f"exp-sentinel-{number}", ("redis",)) for number in (1, 2, 3))
SENTINEL_TEST = "test_redis_exporter_scrapes_the_sentinel_beside_it"
MONITOR_SECRET = "DATALAYER_REDIS_MONITOR_PASSWORD"


@dataclass
class Group:
    deployment: SandboxDeployment
    droplets: list[Droplet]
    first: DeployResult
    junit_directory: Path

    def sh(self, droplet: Droplet, command: str) -> str:
        completed = subprocess.run(
            ["docker", "exec", droplet.container, "sh", "-c", command],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return completed.stdout.strip()

    def exporter_pid(self, droplet: Droplet) -> str:
        return self.sh(droplet, f"systemctl show -p MainPID --value {REDIS.service}")

    def redis_up(self, droplet: Droplet) -> str:
        """``redis_up`` as the droplet's exporter reports it, scraped on the droplet."""
        script = (
            "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())"
        )
        url = f"http://{droplet.private_address}:9121/metrics"
        scraped = self.sh(droplet, f"python3 -c {shlex.quote(script)} {url}")
        (line,) = [line for line in scraped.splitlines() if line.startswith("redis_up ")]
        return line.split()[1]


@pytest.fixture(scope="module")
def group(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Group]:
    stacks = tmp_path_factory.mktemp("stacks")
    document = yaml.safe_load((REPOSITORY_ROOT / f"Pulumi.{ENVIRONMENT}.yaml").read_text())
    document["config"]["datalayer:monitoring"] = {}
    (stacks / f"Pulumi.{ENVIRONMENT}.yaml").write_text(yaml.safe_dump(document))
    sandbox = Sandbox(REPOSITORY_ROOT / ".sandbox" / "tests-exporters-sentinel")
    droplets = sandbox.up(list(DROPLETS), env=ENVIRONMENT)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATALAYER_STACKS", str(stacks))
        redis = load_environment(ENVIRONMENT).redis
        assert redis is not None and redis.sentinel is not None
        monitoring = load_environment(ENVIRONMENT).monitoring
        assert (
            monitoring is not None and monitoring.exporters.redis_password_secret == MONITOR_SECRET
        )
        deployment = SandboxDeployment(
            sandbox,
            tmp_path_factory.mktemp("secrets"),
            [*secret_variables(redis), MONITOR_SECRET],
        )
        first = deployment.deploy()
        assert first.succeeded, first.output
        yield Group(deployment, droplets, first, tmp_path_factory.mktemp("junit"))
    if not os.environ.get("DATALAYER_KEEP_SANDBOX"):
        sandbox.down([droplet.name for droplet in DROPLETS])


def test_verify_scrapes_every_sentinel(group: Group) -> None:
    completed = group.deployment.verify(group.junit_directory)
    assert completed.returncode == 0, completed.stdout[-6000:] + completed.stderr[-2000:]
    passed = [
        case.get("name", "")
        for report in group.junit_directory.glob("*.xml")
        for case in ElementTree.parse(report).getroot().iter("testcase")
        if case.get("name", "").startswith(SENTINEL_TEST) and not list(case)
    ]
    assert len(passed) == len(DROPLETS), passed


def test_second_deploy_changes_nothing(group: Group) -> None:
    result = group.deployment.deploy()
    assert result.succeeded, result.output
    assert result.changed == 0, result.output


@pytest.fixture(scope="module")
def rotated(group: Group) -> tuple[DeployResult, dict[str, str]]:
    """A deploy of a new monitoring password; the exporters' PIDs before it, by droplet."""
    before = {droplet.name: group.exporter_pid(droplet) for droplet in group.droplets}
    group.deployment.set_password(MONITOR_SECRET, generated_secret(ssh_key=False))
    result = group.deployment.deploy()
    assert result.succeeded, result.output
    return result, before


def test_rotated_password_restarts_every_redis_exporter(
    group: Group, rotated: tuple[DeployResult, dict[str, str]]
) -> None:
    _, before = rotated
    after = {droplet.name: group.exporter_pid(droplet) for droplet in group.droplets}
    assert all(after[name] != pid for name, pid in before.items()), (before, after)


@pytest.mark.parametrize("index", [0, 1, 2], ids=["first-host", "second-host", "third-host"])
def test_rotated_password_is_the_one_redis_accepts(
    group: Group, rotated: tuple[DeployResult, dict[str, str]], index: int
) -> None:
    assert group.redis_up(group.droplets[index]) == "1"


def test_rotated_password_is_not_in_the_deploys_output(
    group: Group, rotated: tuple[DeployResult, dict[str, str]]
) -> None:
    result, _ = rotated
    assert group.deployment.passwords[MONITOR_SECRET] not in result.output
