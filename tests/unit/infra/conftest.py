"""Fixtures: each stack run once per test module under Pulumi's mocks."""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.unit.infra.harness import StackRun, load_stack_file, run_stack

CONFIGURED_SECRETS = {
    "DATALAYER_APP_PASSWORD": "Set-By-Hand-App-Password-0123",
    "DATALAYER_REDIS_ADMIN_PASSWORD": "Set-By-Hand-Redis-Admin-4567",
}
"""Secrets a test stack sets with ``pulumi config set --secret``; the rest are generated."""


@pytest.fixture(scope="session", autouse=True)
def _no_docker_context() -> Iterator[None]:
    """The program refuses an exported DOCKER_CONTEXT; the tester's own shell must not stop
    every run (the test of the refusal sets it for itself)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("DOCKER_CONTEXT", raising=False)
        yield


@pytest.fixture(scope="module")
def dev() -> StackRun:
    return run_stack("dev", secrets=CONFIGURED_SECRETS)


@pytest.fixture(scope="module")
def prod() -> StackRun:
    return run_stack("prod", secrets=CONFIGURED_SECRETS)


TLS_SERVER_NAME = "containers.prod.internal"
"""The name the prod stack's certificates carry in the variant that names it."""


@pytest.fixture(scope="module")
def prod_named() -> StackRun:
    """The prod stack with ``containers.tls_server_name`` set: certificates that name the Docker
    host by a DNS name, reached at its private address."""
    document = load_stack_file("prod")
    document["config"]["datalayer:containers"]["tls_server_name"] = TLS_SERVER_NAME
    return run_stack("prod", document, secrets=CONFIGURED_SECRETS)


@pytest.fixture(params=["dev", "prod"])
def stack(request: pytest.FixtureRequest) -> StackRun:
    """Each stack in turn, for what must hold in both."""
    run: StackRun = request.getfixturevalue(request.param)
    return run


def stack_document(name: str) -> dict[str, Any]:
    """A fresh copy of a stack file's document, to change one value of."""
    return load_stack_file(name)
