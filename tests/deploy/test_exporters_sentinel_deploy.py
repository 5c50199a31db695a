"""The Redis exporter on a Sentinel group: three sandbox droplets of the redis group of
``Pulumi.sandbox-cluster.yaml``, with ``monitoring`` declared, deployed and verified as a user
does it.

What differs from a single Redis host (``test_exporters_deploy.py``): the exporter's user is in
both Redis's and Sentinel's users.acl (Sentinel keeps its own), and the exporter's ``/scrape``
endpoint reaches the Sentinel beside it, which the verification checks on every host.
"""

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml

from datalayer.deploy_run import DeployResult
from datalayer.paths import REPOSITORY_ROOT
from datalayer.sandbox import DropletSpec, Sandbox
from datalayer.secrets import secret_variables
from datalayer.spec import load_environment
from tests.deployment import SandboxDeployment

pytestmark = pytest.mark.sandbox

ENVIRONMENT = "sandbox-cluster"
DROPLETS = tuple(DropletSpec(f"exp-sentinel-{number}", ("redis",)) for number in (1, 2, 3))
SENTINEL_TEST = "test_redis_exporter_scrapes_the_sentinel_beside_it"


@dataclass
class Group:
    deployment: SandboxDeployment
    first: DeployResult
    junit_directory: Path


@pytest.fixture(scope="module")
def group(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Group]:
    stacks = tmp_path_factory.mktemp("stacks")
    document = yaml.safe_load((REPOSITORY_ROOT / f"Pulumi.{ENVIRONMENT}.yaml").read_text())
    document["config"]["datalayer:monitoring"] = {}
    (stacks / f"Pulumi.{ENVIRONMENT}.yaml").write_text(yaml.safe_dump(document))
    sandbox = Sandbox(REPOSITORY_ROOT / ".sandbox" / "tests-exporters-sentinel")
    sandbox.up(list(DROPLETS), env=ENVIRONMENT)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATALAYER_STACKS", str(stacks))
        redis = load_environment(ENVIRONMENT).redis
        assert redis is not None and redis.sentinel is not None
        monitoring = load_environment(ENVIRONMENT).monitoring
        assert monitoring is not None
        deployment = SandboxDeployment(
            sandbox,
            tmp_path_factory.mktemp("secrets"),
            [*secret_variables(redis), monitoring.exporters.redis_password_secret],
        )
        first = deployment.deploy()
        assert first.succeeded, first.output
        yield Group(deployment, first, tmp_path_factory.mktemp("junit"))
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
