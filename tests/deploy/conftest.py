"""A sandbox droplet in the ``timescaledb`` group, deployed once for the whole module.

The droplet and its first deploy are shared by the tests (building and deploying take most of
the time); each test that changes the spec deploys its own copy and says what it changed.
"""

import copy
import hashlib
import os
import secrets
import subprocess
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from datalayer.deploy_run import DeployResult
from datalayer.paths import REPOSITORY_ROOT
from datalayer.sandbox import DropletSpec, Sandbox
from datalayer.spec import load_environment
from tests.deployment import SandboxDeployment

ENVIRONMENT = "sandbox"
# Container names are machine-wide: one name per checkout keeps two checkouts' runs apart, and
# stays the same across runs so DATALAYER_KEEP_SANDBOX=1 can reuse the droplet.
DROPLET = "deploy-" + hashlib.sha256(str(REPOSITORY_ROOT).encode()).hexdigest()[:8]


class Deployment(SandboxDeployment):
    """The shared droplet, its secrets, and ways to deploy to it and look inside."""

    def __init__(
        self, sandbox: Sandbox, container: str, ports: Mapping[int, int], secret_dir: Path
    ) -> None:
        environment = load_environment(ENVIRONMENT)
        # The exporters' identities too: the sandbox declares monitoring.
        monitoring = environment.monitoring
        exporters = (
            []
            if monitoring is None
            else [
                monitoring.exporters.postgres_password_secret,
                monitoring.exporters.redis_password_secret,
            ]
        )
        roles = [role.password_secret for role in environment.timescaledb.roles]
        super().__init__(sandbox, secret_dir, [*roles, *exporters])
        self.container = container
        self.ports = ports

    def sh(self, command: str) -> str:
        completed = subprocess.run(
            ["docker", "exec", self.container, "sh", "-c", command],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return completed.stdout.strip()

    def sql(self, query: str, database: str = "postgres") -> str:
        return self.sh(f'runuser -u postgres -- psql -XAtq -d {database} -c "{query}"')

    def postmaster_started(self) -> str:
        return self.sql("SELECT pg_postmaster_start_time()")


def timescaledb_droplet(
    state: str, name: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    """A droplet in the ``timescaledb`` group, sized as the sandbox stack says, in the sandbox
    state directory ``.sandbox/<state>``; removed afterwards unless DATALAYER_KEEP_SANDBOX."""
    sandbox = Sandbox(REPOSITORY_ROOT / ".sandbox" / state)
    spec = load_environment(ENVIRONMENT).timescaledb
    (droplet,) = sandbox.up(
        [DropletSpec(name, ("timescaledb",))],
        env=ENVIRONMENT,
        memory=spec.resources.model_dump()["memory"],
        cpus=float(spec.resources.cpus),
    )
    secret_dir = tmp_path_factory.mktemp("secrets")
    yield Deployment(sandbox, droplet.container, droplet.published_ports, secret_dir)
    if not os.environ.get("DATALAYER_KEEP_SANDBOX"):
        sandbox.down([name])


@pytest.fixture(scope="session")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    yield from timescaledb_droplet("tests-deploy", DROPLET, tmp_path_factory)


@pytest.fixture(scope="session")
def first_deploy(deployment: Deployment) -> DeployResult:
    result = deployment.deploy()
    assert result.succeeded, result.output
    return result


@pytest.fixture
def changed_stack(tmp_path: Path) -> Callable[[Callable[[dict[str, Any]], None]], dict[str, str]]:
    """A changed copy of the sandbox stack file; returns the environ that selects it."""

    def make(change: Callable[[dict[str, Any]], None]) -> dict[str, str]:
        document = yaml.safe_load((REPOSITORY_ROOT / f"Pulumi.{ENVIRONMENT}.yaml").read_text())
        timescaledb = copy.deepcopy(document["config"]["datalayer:timescaledb"])
        change(timescaledb)
        document["config"]["datalayer:timescaledb"] = timescaledb
        (tmp_path / f"Pulumi.{ENVIRONMENT}.yaml").write_text(yaml.safe_dump(document))
        return {"DATALAYER_STACKS": str(tmp_path)}

    return make


@pytest.fixture(scope="session", autouse=True)
def redis_secrets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """Redis's secrets, in this process's environment for the whole session.

    The Redis droplet shares the sandbox's inventory with the TimescaleDB one, so every deploy
    and verification here (TimescaleDB's included) meets both hosts and needs both services'
    secrets. Files, not values: a test rotates a password by rewriting its file.
    """
    spec = load_environment(ENVIRONMENT).redis
    assert spec is not None, f"Pulumi.{ENVIRONMENT}.yaml needs a datalayer:redis section"
    variables = (
        spec.users.app.password_secret,
        spec.users.reader.password_secret,
        spec.admin_password_secret,
    )
    directory = tmp_path_factory.mktemp("redis-secrets")
    files = {}
    with pytest.MonkeyPatch.context() as patch:
        for variable in variables:
            path = directory / variable
            path.write_text(secrets.token_urlsafe(24))
            path.chmod(0o600)
            patch.setenv(f"{variable}_FILE", str(path))
            files[variable] = path
        yield files
