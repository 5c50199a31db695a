"""Three sandbox droplets of the ``sandbox-cluster`` environment, shared by a test module.

Each droplet is in the groups the module asks for (``cluster_groups``: by default
``timescaledb``, ``etcd`` and ``redis``, as ``Pulumi.sandbox-cluster.yaml`` describes the cluster
sandbox) and is named ``<cluster_prefix>-1`` to ``-3``, so that two modules asking for other
groups never meet each other's droplets. When they are ``timescaledb`` members, a fourth droplet,
``<cluster_prefix>-backup``, is the ``backup_repository`` host of the members' shared SFTP
repository, which outlives any member, and the ``prometheus`` host that watches them. Every
secret the environment reads is generated into files; ``deploy()`` and ``verify()`` run on the
hosts' inventory with them.

A module overrides the groups and prefix with fixtures of its own, e.g. the etcd tests::

    @pytest.fixture(scope="module")
    def cluster_groups() -> tuple[str, ...]:
        return ("etcd",)

The droplets are removed after the module unless ``DATALAYER_KEEP_SANDBOX`` is set, which
reuses them in the next run.
"""

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from datalayer.monitoring.prometheus import PROMETHEUS_GROUP
from datalayer.paths import REPOSITORY_ROOT
from datalayer.sandbox import Droplet, DropletSpec, Sandbox
from datalayer.secrets import secret_variables, ssh_key_variables
from datalayer.spec import load_environment
from datalayer.spec.backup import BACKUP_REPOSITORY_GROUP
from tests.deployment import SandboxDeployment
from tests.prometheus_api import PrometheusApi

ENVIRONMENT = "sandbox-cluster"
SIZE = 3


class ClusterSandbox(SandboxDeployment):
    """The three droplets, their secrets, and ways to deploy, verify and look inside them."""

    def __init__(self, sandbox: Sandbox, droplets: list[Droplet], secret_dir: Path) -> None:
        environment = load_environment(ENVIRONMENT)
        super().__init__(
            sandbox, secret_dir, secret_variables(environment), ssh_key_variables(environment)
        )
        self.droplets = droplets

    @property
    def names(self) -> list[str]:
        """The three cluster droplets' names, in order (the backup repository's is not one)."""
        return [
            droplet.name
            for droplet in self.droplets
            if BACKUP_REPOSITORY_GROUP not in droplet.groups
        ]

    @property
    def prometheus(self) -> PrometheusApi:
        """Prometheus's API on the ``prometheus`` droplet, through its published port."""
        (watcher,) = [droplet for droplet in self.droplets if PROMETHEUS_GROUP in droplet.groups]
        monitoring = load_environment(ENVIRONMENT).monitoring
        assert monitoring is not None, f"Pulumi.{ENVIRONMENT}.yaml declares no monitoring"
        return PrometheusApi(
            f"http://127.0.0.1:{watcher.published_ports[monitoring.prometheus.port]}"
        )

    def droplet(self, name: str) -> Droplet:
        return next(droplet for droplet in self.droplets if droplet.name == name)

    def run(
        self, name: str, command: str, *, stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """``sh -c command`` on droplet ``name`` as root, ``stdin`` on its standard input (for
        passwords: never on a command line)."""
        return subprocess.run(
            ["docker", "exec", "-i", self.droplet(name).container, "sh", "-c", command],
            input=stdin or "", capture_output=True, text=True, check=check,
        )  # fmt: skip

    def sh(self, name: str, command: str) -> str:
        """The standard output of ``command`` on droplet ``name``, stripped."""
        return self.run(name, command).stdout.strip()

    def stop(self, name: str) -> None:
        """Stop droplet ``name``'s container, as a droplet is lost (its data is kept)."""
        subprocess.run(["docker", "stop", self.droplet(name).container], check=True,
                       capture_output=True)  # fmt: skip

    def start(self, names: list[str] | None = None) -> None:
        """Start stopped droplets again (all of them by default) and wait for SSH; the others
        are kept as they are, in their order."""
        specs = [DropletSpec(name, self.droplet(name).groups) for name in names or self.names]
        started = {droplet.name: droplet for droplet in _up(self.sandbox, specs)}
        self.droplets = [started.get(droplet.name, droplet) for droplet in self.droplets]


def _up(sandbox: Sandbox, specs: list[DropletSpec]) -> list[Droplet]:
    """Create or start ``specs``, each limited to the member size the stack file declares."""
    resources = load_environment(ENVIRONMENT).timescaledb.resources
    memory: str = resources.model_dump()["memory"]
    return sandbox.up(specs, env=ENVIRONMENT, memory=memory, cpus=float(resources.cpus))


@pytest.fixture(scope="module")
def cluster_groups() -> tuple[str, ...]:
    """The groups every droplet is in; a module overrides this fixture to ask for others."""
    return ("timescaledb", "etcd", "redis")


@pytest.fixture(scope="module")
def cluster_prefix() -> str:
    """The droplets' name prefix; a module that asks for other groups names its own."""
    return "cluster"


@pytest.fixture(scope="module")
def cluster_sandbox(
    cluster_groups: tuple[str, ...], cluster_prefix: str
) -> Iterator[ClusterSandbox]:
    sandbox = Sandbox(REPOSITORY_ROOT / ".sandbox" / "tests-cluster")
    specs = [
        DropletSpec(f"{cluster_prefix}-{index}", cluster_groups) for index in range(1, SIZE + 1)
    ]
    if "timescaledb" in cluster_groups:
        specs.append(
            DropletSpec(f"{cluster_prefix}-backup", (BACKUP_REPOSITORY_GROUP, PROMETHEUS_GROUP))
        )
    droplets = _up(sandbox, specs)
    # Beside the droplets, private: a kept droplet keeps the passwords it was deployed with.
    secret_dir = sandbox.paths.directory / f"{cluster_prefix}-secrets"
    secret_dir.mkdir(mode=0o700, exist_ok=True)
    yield ClusterSandbox(sandbox, droplets, secret_dir)
    if not os.environ.get("DATALAYER_KEEP_SANDBOX"):
        sandbox.down([spec.name for spec in specs])
        shutil.rmtree(secret_dir)
