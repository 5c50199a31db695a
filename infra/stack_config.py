"""The one place the program reads the stack's configuration.

The ``datalayer:`` keys of ``Pulumi.<stack>.yaml`` are the environment spec, validated by
``datalayer.spec.parse_environment`` exactly as the droplet deploys validate them, so a bad value
stops ``pulumi preview`` with the same line. Secrets set with
``pulumi config set --secret datalayer-secrets:<NAME> ...`` live in their own namespace (the spec
would refuse unknown keys) under the names the spec gives them; the ones not set are generated.
Components never read configuration: they receive what is read here.
"""

import json
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.runtime.config import CONFIG, get_config_env

from datalayer.containers import containers_section
from datalayer.secrets import secret_variables
from datalayer.spec import EnvironmentSpec, SpecError, parse_environment
from datalayer.spec.containers import Containers
from datalayer.spec.load import PROJECT_NAMESPACE

SECRETS_NAMESPACE = f"{PROJECT_NAMESPACE}-secrets"
"""Config namespace of the secrets set by hand: ``datalayer-secrets:DATALAYER_APP_PASSWORD``."""


@dataclass(frozen=True)
class StackConfig:
    """What the program builds from: the environment and the secrets set in the stack."""

    environment: EnvironmentSpec
    containers: Containers
    configured_secrets: dict[str, pulumi.Output[str]]
    """Secrets set with ``pulumi config set --secret``, by the spec's name; the rest are
    generated."""

    @property
    def secret_names(self) -> list[str]:
        """Every secret the environment names, in declaration order."""
        return secret_variables(self.environment)


def _all_config() -> dict[str, Any]:
    """Every configuration value of the stack: what the CLI hands the program (PULUMI_CONFIG),
    and what was set in-process (the tests' ``set_all_config``)."""
    return {**get_config_env(), **CONFIG.get()}


def _value(raw: Any) -> Any:
    """A configuration value as the stack file wrote it: Pulumi hands structured values over as
    JSON text."""
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def read_stack_config() -> StackConfig:
    """The stack's environment and secrets; a :class:`SpecError` names every bad value."""
    stack = pulumi.get_stack()
    source = f"Pulumi.{stack}.yaml"
    values = _all_config()
    prefix = f"{PROJECT_NAMESPACE}:"
    spec = {key: _value(raw) for key, raw in values.items() if key.startswith(prefix)}
    environment = parse_environment(stack, spec, source=source)
    containers = containers_section(environment, source)
    names = secret_variables(environment)
    secrets_prefix = f"{SECRETS_NAMESPACE}:"
    unknown = sorted(
        key
        for key in values
        if key.startswith(secrets_prefix) and key[len(secrets_prefix) :] not in names
    )
    if unknown:
        raise SpecError(
            "\n".join(
                f"{source}: {key}: no secret of this name in the spec (it names: "
                f"{', '.join(names)})"
                for key in unknown
            )
        )
    config = pulumi.Config(SECRETS_NAMESPACE)
    configured = {name: value for name in names if (value := config.get_secret(name)) is not None}
    return StackConfig(environment, containers, configured)
