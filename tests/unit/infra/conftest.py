"""Fixtures: each stack run once per test module under Pulumi's mocks, and a stand-in for the
post-provision hooks package until it lands.

``datalayer.hooks`` is written in parallel (its own issue). Where it is not installed, a stand-in
with its interface, ``fingerprint(environment) -> str`` over the SQL files and the roles, takes its
place in ``sys.modules``; where it is, the tests use the real one.
"""

import hashlib
import importlib.util
import json
import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest

from datalayer.paths import SQL_DIRECTORY
from datalayer.spec import EnvironmentSpec
from tests.unit.infra.harness import StackRun, load_stack_file, run_stack

HOOKS_MODULE = "datalayer.hooks"

CONFIGURED_SECRETS = {
    "DATALAYER_APP_PASSWORD": "Set-By-Hand-App-Password-0123",
    "DATALAYER_REDIS_ADMIN_PASSWORD": "Set-By-Hand-Redis-Admin-4567",
}
"""Secrets a test stack sets with ``pulumi config set --secret``; the rest are generated."""


def stand_in_fingerprint(environment: EnvironmentSpec) -> str:
    """The hooks' fingerprint as their interface defines it: SQL files and roles, no secret."""
    digest = hashlib.sha256()
    for path in sorted(SQL_DIRECTORY.glob("**/*.sql")):
        digest.update(path.read_bytes())
    roles = [role.model_dump() for role in environment.timescaledb.roles]
    digest.update(json.dumps(roles, sort_keys=True).encode())
    return digest.hexdigest()


@pytest.fixture(scope="session", autouse=True)
def hooks_package() -> Iterator[types.ModuleType]:
    """The hooks package: the real one when installed, else the stand-in."""
    if importlib.util.find_spec(HOOKS_MODULE) is not None:
        yield importlib.import_module(HOOKS_MODULE)
        return
    stand_in = types.ModuleType(HOOKS_MODULE)
    stand_in.__dict__["fingerprint"] = stand_in_fingerprint
    sys.modules[HOOKS_MODULE] = stand_in
    yield stand_in
    del sys.modules[HOOKS_MODULE]


@pytest.fixture(scope="module")
def dev() -> StackRun:
    return run_stack("dev", secrets=CONFIGURED_SECRETS)


@pytest.fixture(scope="module")
def prod() -> StackRun:
    return run_stack("prod", secrets=CONFIGURED_SECRETS)


@pytest.fixture(params=["dev", "prod"])
def stack(request: pytest.FixtureRequest) -> StackRun:
    """Each stack in turn, for what must hold in both."""
    run: StackRun = request.getfixturevalue(request.param)
    return run


def stack_document(name: str) -> dict[str, Any]:
    """A fresh copy of a stack file's document, to change one value of."""
    return load_stack_file(name)
