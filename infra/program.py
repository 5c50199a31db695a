"""The stacks' resource graph: one Docker engine, the stack's secrets, a private network, and a
component per service the environment runs; connection strings as (secret) stack outputs."""

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_docker as docker

from datalayer.containers import (
    InfluxDbService,
    RedisService,
    TimescaleDbService,
    container_name,
)
from datalayer.influxdb.container import container_setup_plan, influxdb_container
from datalayer.paths import REPOSITORY_ROOT
from datalayer.redis.container import redis_container
from datalayer.timescaledb.container import hooks_run, timescaledb_container
from infra.components.influxdb import InfluxDb, InfluxDbArgs
from infra.components.network import DataNetwork, DataNetworkArgs
from infra.components.redis import Redis, RedisArgs
from infra.components.service import labels
from infra.components.stack_secrets import StackSecrets, StackSecretsArgs
from infra.components.timescaledb import TimescaleDb, TimescaleDbArgs
from infra.stack_config import StackConfig

PYTHON = ".venv/bin/python"
"""The interpreter of the hooks and InfluxDB's setup step: Pulumi.yaml's virtualenv (``.venv``
beside Pulumi.yaml), where this project is installed; relative to :data:`COMMAND_DIRECTORY`."""

COMMAND_DIRECTORY = os.path.relpath(REPOSITORY_ROOT, Path(__file__).resolve().parent)
"""Where the hooks and InfluxDB's setup step run: the repository root, written relative to the
program's directory ('..'). pulumi-command runs a command without ``dir`` in its provider's
working directory (local/commandOutputs.go:73-80 at v1.2.1), which Pulumi sets to the program's
directory, ``main: infra/``, where no ``.venv`` is; and a relative ``dir`` is taken from there
too. Relative rather than absolute, because every input is compared with the last run's: an
absolute path would differ on every machine and checkout, and re-run both commands whenever the
stack is deployed from another one. Wherever the repository is checked out, the commands run its
own ``.venv/bin/python`` against its own ``sql/`` and stack files."""


@dataclass(frozen=True)
class _Shared:
    """What every service's component is declared with."""

    on_engine: pulumi.ResourceOptions
    """The stack's Docker engine as the components' provider."""
    secrets: dict[str, pulumi.Output[str]]
    """Every secret of the stack, by the spec's name."""
    network_name: pulumi.Output[str]
    """The Docker network the containers share."""


def build(stack: StackConfig, hooks_fingerprint: str) -> None:
    """Declare every resource of ``stack`` and export its outputs.

    + stack: the validated environment and the secrets set in the stack
    + hooks_fingerprint: ``infra.hooks.post_provision_fingerprint`` of the environment, the
      hooks' trigger
    """
    services = stack.services
    shared = _shared(stack)
    pulumi.export("network", shared.network_name)
    _timescaledb(services.timescaledb, shared, hooks_fingerprint)
    if services.redis is not None:
        _redis(services.redis, shared)
    if services.influxdb is not None:
        _influxdb(services.influxdb, shared)
    # Every secret by the name the spec gives it, which is also the environment variable the
    # droplet tooling and the testinfra suites read: the operator's way to the generated ones.
    pulumi.export("secrets", pulumi.Output.secret(pulumi.Output.all(**shared.secrets)))


def _shared(stack: StackConfig) -> _Shared:
    """The engine, the stack's secrets and the network, which every service's component uses."""
    environment, containers = stack.environment, stack.services.containers
    # Every container resource goes to this engine: the laptop's (dev) or the droplet's over
    # SSH (prod). An explicit provider, so that nothing lands on whatever DOCKER_HOST says.
    engine = docker.Provider("docker-engine", host=containers.docker_host)
    on_engine = pulumi.ResourceOptions(providers=[engine])
    secrets = StackSecrets(
        "secrets", StackSecretsArgs(names=stack.secret_names, configured=stack.configured_secrets)
    )
    subnet = ipaddress.ip_network(containers.network.subnet)
    network = DataNetwork(
        "network",
        DataNetworkArgs(
            docker_name=container_name(environment.name, ""),
            subnet=str(subnet),
            gateway=str(subnet[1]),
            labels=labels(environment.name, "network"),
        ),
        opts=on_engine,
    )
    return _Shared(on_engine, secrets.values, network.docker_name)


def _timescaledb(service: TimescaleDbService, shared: _Shared, hooks_fingerprint: str) -> None:
    """TimescaleDB's component, with the post-provision hooks, and its outputs."""
    timescaledb = TimescaleDb(
        "timescaledb",
        TimescaleDbArgs(
            service=service,
            container=timescaledb_container(service),
            network_name=shared.network_name,
            secrets=shared.secrets,
            hooks=hooks_run(service, PYTHON),
            hooks_fingerprint=hooks_fingerprint,
            command_directory=COMMAND_DIRECTORY,
        ),
        opts=shared.on_engine,
    )
    pulumi.export("timescaledb_endpoint", timescaledb.endpoint)
    pulumi.export("timescaledb_urls", timescaledb.urls)


def _redis(service: RedisService, shared: _Shared) -> None:
    """Redis's component and its outputs."""
    redis = Redis(
        "redis",
        RedisArgs(
            service=service,
            container=redis_container(service),
            network_name=shared.network_name,
            secrets=shared.secrets,
        ),
        opts=shared.on_engine,
    )
    pulumi.export("redis_endpoint", redis.endpoint)
    pulumi.export("redis_urls", redis.urls)


def _influxdb(service: InfluxDbService, shared: _Shared) -> None:
    """InfluxDB's component, with its setup step, and its outputs."""
    influxdb = InfluxDb(
        "influxdb",
        InfluxDbArgs(
            service=service,
            container=influxdb_container(service),
            network_name=shared.network_name,
            secrets=shared.secrets,
            setup_plan=container_setup_plan(service),
            python=PYTHON,
            command_directory=COMMAND_DIRECTORY,
        ),
        opts=shared.on_engine,
    )
    pulumi.export("influxdb_url", influxdb.url)
    pulumi.export("influxdb_org", service.section.org)
    pulumi.export("influxdb_bucket", service.section.bucket)
    pulumi.export("influxdb_tokens", influxdb.tokens)
