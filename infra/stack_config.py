"""The one place the program reads the stack's configuration.

The ``datalayer:`` keys of ``Pulumi.<stack>.yaml`` are the environment spec, validated by
``datalayer.spec.parse_environment`` exactly as the droplet deploys validate them, so a bad value
stops ``pulumi preview`` with the same line. Secrets set with
``pulumi config set --secret datalayer-secrets:<NAME> ...`` live in their own namespace (the spec
would refuse unknown keys) under the names the spec gives them; the ones not set are generated.
Components never read configuration: they receive what is read here.
"""

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.runtime.config import (
    CONFIG,
    get_config_env,
    get_config_secret_keys_env,
    is_config_secret,
)

from datalayer.containers import StackServices, stack_services
from datalayer.secrets import SecretError, checked_secret, secret_variables
from datalayer.spec import EnvironmentSpec, SpecError, parse_environment
from datalayer.spec.errors import PROJECT_NAMESPACE

SECRETS_NAMESPACE = f"{PROJECT_NAMESPACE}-secrets"
"""Config namespace of the secrets set by hand: ``datalayer-secrets:DATALAYER_APP_PASSWORD``."""

DOCKER_CONTEXT_VARIABLE = "DOCKER_CONTEXT"
"""Names a Docker CLI context whose engine the Docker provider uses instead of its ``host``
(terraform-provider-docker 4.5.0, internal/provider/provider.go:59-64: the ``context`` setting
defaults to it and "Overrides the `host` if set"; configure(), provider.go:204-217)."""


@dataclass(frozen=True)
class StackConfig:
    """What the program builds from: the environment and the secrets set in the stack."""

    environment: EnvironmentSpec
    services: StackServices
    """The services the stack runs, each narrowed to what its container needs."""
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


def check_docker_environment(environ: Mapping[str, str]) -> None:
    """Refuse a set ``DOCKER_CONTEXT``, with a :class:`SpecError` naming it and its value.

    The stack's engine is its own: ``containers.docker_host`` for ``prod``, Docker's default
    socket (or ``DOCKER_HOST``) for ``dev``. An exported context would silently send every
    container to another engine, a production stack's included. ``DOCKER_HOST`` is no such risk
    for ``prod``: the provider reads it only as the default of an unset ``host``
    (provider.go:45-58; pulumi-docker's provider/resources.go:95-101 likewise), and ``prod``
    always sets one; for ``dev``, which sets none, it is the documented way to pick the engine.
    An empty ``DOCKER_CONTEXT`` selects nothing (provider.go:204), so it is let through.
    """
    context = environ.get(DOCKER_CONTEXT_VARIABLE, "")
    if context:
        raise SpecError(
            f"{DOCKER_CONTEXT_VARIABLE}={context!r} is set: the Docker provider would deploy to "
            "that context's engine instead of the stack's; unset it (the stack names its engine "
            "in containers.engine and containers.docker_host)"
        )


def read_stack_config() -> StackConfig:
    """The stack's environment and secrets; a :class:`SpecError` names every bad value."""
    check_docker_environment(os.environ)
    stack = pulumi.get_stack()
    source = f"Pulumi.{stack}.yaml"
    values = _all_config()
    prefix = f"{PROJECT_NAMESPACE}:"
    spec = {key: _value(raw) for key, raw in values.items() if key.startswith(prefix)}
    environment = parse_environment(stack, spec, source=source)
    services = stack_services(environment, source)
    names = secret_variables(environment)
    return StackConfig(environment, services, _configured_secrets(values, names, source))


def _configured_secrets(
    values: dict[str, Any], names: list[str], source: str
) -> dict[str, pulumi.Output[str]]:
    """The secrets set in the stack, checked as the droplet path checks its secrets, and marked
    secret by the program itself."""
    prefix = f"{SECRETS_NAMESPACE}:"
    encrypted = set(get_config_secret_keys_env()) | {key for key in values if is_config_secret(key)}
    problems = []
    configured = {}
    for key in sorted(key for key in values if key.startswith(prefix)):
        name = key[len(prefix) :]
        if name not in names:
            problems.append(
                f"{source}: {key}: no secret of this name in the spec "
                f"(it names: {', '.join(names)})"
            )
            continue
        if key not in encrypted:
            problems.append(
                f"{source}: {key}: not encrypted; set it with pulumi config set --secret"
            )
            continue
        try:
            checked_secret(name, str(values[key]))
        except SecretError as error:
            problems.append(f"{source}: {key}: {error}")
            continue
        configured[name] = pulumi.Output.secret(str(values[key]))
    if problems:
        raise SpecError("\n".join(problems))
    return configured
