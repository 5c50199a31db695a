"""Shared builders for unit tests: a minimal valid environment to vary one key at a time."""

import copy
from typing import Any

import pytest

from datalayer.containers import StackServices, stack_services
from datalayer.spec import load_environment


def minimal_timescaledb() -> dict[str, Any]:
    return {
        "version": 17,
        "package_source": "distribution",
        "resources": {"memory": "4GB", "cpus": 2},
        "hba": [
            {
                "type": "host",
                "database": "trading",
                "user": "app",
                "address": "10.0.0.0/24",
                "method": "scram-sha-256",
                "comment": "Application servers.",
            }
        ],
        "roles": [
            {"name": "app", "password_secret": "DATALAYER_APP_PASSWORD", "access": "read_write"}
        ],
    }


@pytest.fixture
def timescaledb_config() -> dict[str, Any]:
    """A fresh, valid ``datalayer:timescaledb`` value to change one key of."""
    return copy.deepcopy(minimal_timescaledb())


def services_of(name: str) -> StackServices:
    """The services of the checked-in environment ``name`` as its stack runs them."""
    return stack_services(load_environment(name), f"Pulumi.{name}.yaml")
