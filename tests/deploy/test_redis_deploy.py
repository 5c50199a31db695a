"""The Redis deploy against a real sandbox droplet, over SSH, as a user runs it.

The Redis droplet joins the TimescaleDB one in the same sandbox (one inventory, as a real
environment has), after TimescaleDB's first deploy: every deploy here runs on both hosts, so each
test also proves the other service is left alone. Tests run in file order: first deploy,
idempotence and verification, then changes, each leaving the droplet as the repository's spec says.
"""

import hashlib
import os
import secrets
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from datalayer.deploy_run import DeployResult
from datalayer.paths import REPOSITORY_ROOT
from datalayer.redis.layout import DEBIAN_LAYOUT
from datalayer.sandbox import DropletSpec
from datalayer.spec import load_environment
from datalayer.spec.redis import Redis
from tests.deploy.conftest import ENVIRONMENT, Deployment

pytestmark = pytest.mark.sandbox

Stack = Callable[[Callable[[dict[str, Any]], None]], dict[str, str]]

# Machine-wide container names: one per checkout, like the TimescaleDB droplet's.
REDIS_DROPLET = "cache-" + hashlib.sha256(str(REPOSITORY_ROOT).encode()).hexdigest()[:8]


class RedisDroplet:
    """The Redis droplet: look inside it as root, and ask Redis as the deploy's admin user."""

    def __init__(self, container: str, spec: Redis, secret_files: dict[str, Path]) -> None:
        self.container = container
        self.spec = spec
        self.secret_files = secret_files

    def sh(self, command: str, stdin: str | None = None) -> str:
        completed = subprocess.run(
            ["docker", "exec", "-i", self.container, "sh", "-c", command],
            input=stdin, capture_output=True, text=True, check=True,
        )  # fmt: skip
        return completed.stdout.strip()

    def admin(self, *command: str) -> str:
        """redis-cli as admin over the socket, the password on stdin as the deploy sends it."""
        password = self.secret_files[self.spec.admin_password_secret].read_text()
        arguments = " ".join(command)
        return self.sh(
            f"redis-cli -s {DEBIAN_LAYOUT.socket} --user admin --askpass {arguments}",
            stdin=password + "\n",
        )

    def config(self, name: str) -> str:
        return self.admin("CONFIG", "GET", name).splitlines()[1]

    def pid(self) -> str:
        return self.sh(f"systemctl show --property MainPID --value {DEBIAN_LAYOUT.service}")

    def files_digest(self) -> str:
        return self.sh(f"sha256sum {DEBIAN_LAYOUT.config_file} {DEBIAN_LAYOUT.acl_file}")


@pytest.fixture
def changed_redis_stack(tmp_path: Path) -> Stack:
    """A copy of the sandbox stack file with its redis section changed; returns the environ
    that selects it."""

    def make(change: Callable[[dict[str, Any]], None]) -> dict[str, str]:
        document = yaml.safe_load((REPOSITORY_ROOT / f"Pulumi.{ENVIRONMENT}.yaml").read_text())
        change(document["config"]["datalayer:redis"])
        (tmp_path / f"Pulumi.{ENVIRONMENT}.yaml").write_text(yaml.safe_dump(document))
        return {"DATALAYER_STACKS": str(tmp_path)}

    return make


@pytest.fixture(scope="session")
def redis_droplet(
    deployment: Deployment, first_deploy: DeployResult, redis_secrets: dict[str, Path]
) -> Iterator[RedisDroplet]:
    spec = load_environment(ENVIRONMENT).redis
    assert spec is not None
    (droplet,) = deployment.sandbox.up([DropletSpec(REDIS_DROPLET, ("redis",))], env=ENVIRONMENT)
    yield RedisDroplet(droplet.container, spec, redis_secrets)
    if not os.environ.get("DATALAYER_KEEP_SANDBOX"):
        deployment.sandbox.down([REDIS_DROPLET])


@pytest.fixture(scope="session")
def redis_first_deploy(deployment: Deployment, redis_droplet: RedisDroplet) -> DeployResult:
    result = deployment.deploy()
    assert result.succeeded, result.output
    print(f"\nfirst deploy with the Redis droplet: {result.seconds:.1f} s")
    return result


def test_first_deploy_installs_and_starts_redis(
    redis_droplet: RedisDroplet, redis_first_deploy: DeployResult
) -> None:
    assert redis_first_deploy.changed > 0
    assert redis_droplet.sh(f"systemctl is-active {DEBIAN_LAYOUT.service}") == "active"


def test_first_deploy_replaces_debians_configuration(
    redis_droplet: RedisDroplet, redis_first_deploy: DeployResult
) -> None:
    assert redis_droplet.config("aclfile") == DEBIAN_LAYOUT.acl_file
    assert redis_droplet.config("appendonly") == "yes"


def test_second_deploy_changes_nothing_and_restarts_nothing(
    deployment: Deployment, redis_droplet: RedisDroplet, redis_first_deploy: DeployResult
) -> None:
    pid = redis_droplet.pid()
    second = deployment.deploy()
    print(f"\nno-op deploy with the Redis droplet: {second.seconds:.1f} s")
    assert second.succeeded, second.output
    assert second.changed == 0, second.output
    assert redis_droplet.pid() == pid


def test_testinfra_suites_pass_on_both_hosts(
    deployment: Deployment, redis_first_deploy: DeployResult, tmp_path: Path
) -> None:
    completed = deployment.verify(tmp_path)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert f"PASSED: redis on {REDIS_DROPLET}" in completed.stdout
    assert "PASSED: timescaledb on" in completed.stdout


def test_new_app_password_is_loaded_without_restart_and_never_shown(
    deployment: Deployment, redis_droplet: RedisDroplet, redis_first_deploy: DeployResult
) -> None:
    variable = redis_droplet.spec.users.app.password_secret
    password = secrets.token_urlsafe(24)
    redis_droplet.secret_files[variable].write_text(password)
    pid = redis_droplet.pid()
    result = deployment.deploy(verbose=True)
    assert result.succeeded, result.output
    assert "ACL LOAD" in result.output
    assert password not in result.output
    assert redis_droplet.pid() == pid
    digest = hashlib.sha256(password.encode()).hexdigest()
    assert digest in redis_droplet.admin("ACL", "GETUSER", "app").splitlines()


def test_maxmemory_change_is_set_at_runtime_without_restart(
    deployment: Deployment,
    redis_droplet: RedisDroplet,
    redis_first_deploy: DeployResult,
    changed_redis_stack: Stack,
) -> None:
    pid = redis_droplet.pid()
    result = deployment.deploy(changed_redis_stack(lambda r: r.update(maxmemory="300mb")))
    assert result.succeeded, result.output
    assert redis_droplet.config("maxmemory") == str(300 * 1024 * 1024)
    assert redis_droplet.pid() == pid
    back = deployment.deploy()  # leave the droplet as the repository's spec says
    assert back.succeeded, back.output
    assert redis_droplet.config("maxmemory") == str(redis_droplet.spec.maxmemory)


def test_bind_change_restarts(
    deployment: Deployment,
    redis_droplet: RedisDroplet,
    redis_first_deploy: DeployResult,
    changed_redis_stack: Stack,
) -> None:
    pid = redis_droplet.pid()
    result = deployment.deploy(changed_redis_stack(lambda r: r.update(bind=["127.0.0.1"])))
    assert result.succeeded, result.output
    assert redis_droplet.pid() != pid
    assert redis_droplet.config("bind") == "127.0.0.1"
    back = deployment.deploy()
    assert back.succeeded, back.output


def test_unknown_eviction_policy_stops_before_any_change(
    deployment: Deployment,
    redis_droplet: RedisDroplet,
    redis_first_deploy: DeployResult,
    changed_redis_stack: Stack,
) -> None:
    before = redis_droplet.files_digest()
    stack = changed_redis_stack(lambda r: r.update(maxmemory_policy="allkeys-oldest"))
    result = deployment.deploy(stack)
    assert result.returncode != 0
    assert "datalayer:redis.maxmemory_policy: 'allkeys-oldest'" in result.output
    assert "Traceback" not in result.output
    assert result.changed == 0
    assert redis_droplet.files_digest() == before


def test_missing_secret_stops_before_any_change(
    deployment: Deployment,
    redis_droplet: RedisDroplet,
    redis_first_deploy: DeployResult,
    changed_redis_stack: Stack,
) -> None:
    before = redis_droplet.files_digest()
    # The spec changes too: a run that got past the secrets would change the host.
    stack = changed_redis_stack(lambda r: r.update(maxmemory="200mb"))
    variable = redis_droplet.spec.users.reader.password_secret
    result = deployment.deploy(stack, without=variable)
    assert result.returncode != 0
    assert f"secret {variable} is not set" in result.output
    assert "Traceback" not in result.output
    assert redis_droplet.files_digest() == before


def test_acl_load_that_failed_after_the_file_was_written_is_done_by_the_next_run(
    deployment: Deployment, redis_droplet: RedisDroplet, redis_first_deploy: DeployResult
) -> None:
    # Redis turns away the deploy's connection with "max number of clients reached" while one
    # other client holds the only slot: the ACL LOAD fails after users.acl was written.
    variable = redis_droplet.spec.users.app.password_secret
    password = secrets.token_urlsafe(24)
    redis_droplet.secret_files[variable].write_text(password)
    maxclients = redis_droplet.config("maxclients")
    redis_droplet.admin("CONFIG", "SET", "maxclients", "1")
    holder = (
        'echo $$ > /run/datalayer-test-client.pid; exec python3 -c "'
        "import socket, time; client = socket.socket(socket.AF_UNIX); "
        f"client.connect('{DEBIAN_LAYOUT.socket}'); time.sleep(120)\""
    )
    subprocess.run(
        ["docker", "exec", "--detach", redis_droplet.container, "sh", "-c", holder], check=True
    )
    redis_droplet.sh("sleep 1; test -s /run/datalayer-test-client.pid")
    try:
        failed = deployment.deploy()
    finally:
        redis_droplet.sh("kill $(cat /run/datalayer-test-client.pid); sleep 1")
        redis_droplet.admin("CONFIG", "SET", "maxclients", maxclients)
    assert not failed.succeeded, failed.output
    digest = hashlib.sha256(password.encode()).hexdigest()
    assert digest in redis_droplet.sh(f"cat {DEBIAN_LAYOUT.acl_file}")
    assert digest not in redis_droplet.admin("ACL", "GETUSER", "app").splitlines()
    result = deployment.deploy(verbose=True)
    assert result.succeeded, result.output
    assert "ACL LOAD" in result.output
    assert password not in result.output
    assert digest in redis_droplet.admin("ACL", "GETUSER", "app").splitlines()
