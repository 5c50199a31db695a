"""What each service's container is, as plain data: image, files, volumes, ports, limits, checks.

The Pulumi components (``infra/``) turn a :class:`ServiceContainer` into Docker resources and
compute nothing themselves; the per-service builders (``datalayer/<service>/container.py``) fill
it from a :class:`StackService`, the environment narrowed once to what the service's container
needs, with the same renderers and templates as the droplet deploys. Being
free of Pulumi, all of it is checked by plain unit tests as well as through Pulumi's mocks.

Secrets never appear in a command line, an environment variable or a label: a container reads
each one from a file placed in it (the images' ``*_FILE`` variables, Redis's ACL file of hashes).
A :class:`SecretFile` names the secrets its content is rendered from; the component renders it
once Pulumi has resolved them, and keeps the result secret.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import SecretStr

from datalayer.spec.containers import (
    Containers,
    InfluxDbContainer,
    RedisContainer,
    TimescaleDbContainer,
)
from datalayer.spec.environment import EnvironmentSpec, published_ports
from datalayer.spec.errors import SpecError, not_set_line
from datalayer.spec.influxdb import InfluxDb
from datalayer.spec.redis import Redis
from datalayer.spec.timescaledb import TimescaleDb

SECRETS_DIRECTORY = "/run/secrets"
"""Where secret files are placed in a container, as Docker's own secrets are."""

LABEL_PREFIX = "org.trading.datalayer"
"""Prefix of the labels on every Docker object of a stack: environment and service."""


@dataclass(frozen=True)
class ContainerFile:
    """A rendered, non-secret file placed in the container before it starts."""

    path: str
    content: str
    mode: str = "0644"
    owner: int = 0
    """Numeric user and group id in the image (names would be resolved on the machine that runs
    pulumi, not in the container)."""


@dataclass(frozen=True)
class SecretFile:
    """A file whose content is rendered from secrets; placed like :class:`ContainerFile`."""

    path: str
    secrets: tuple[str, ...]
    """The spec's names of the secrets it is rendered from (e.g. DATALAYER_APP_PASSWORD)."""
    render: Callable[[Mapping[str, SecretStr]], str]
    """The content, from those secrets by name."""
    mode: str = "0400"
    owner: int = 0


def secret_value(name: str) -> Callable[[Mapping[str, SecretStr]], str]:
    """A renderer for a file that holds one secret as it is (the images' ``*_FILE`` inputs)."""

    def render(secrets: Mapping[str, SecretStr]) -> str:
        return secrets[name].get_secret_value()

    return render


@dataclass(frozen=True)
class DataVolume:
    """A named volume: ``datalayer-<env>-<service>-<suffix>``, mounted at ``path``. Volumes
    outlive their containers and the stack (``protect``, ``retain_on_delete``)."""

    suffix: str
    path: str


@dataclass(frozen=True)
class ServiceContainer:
    """Everything one service's container needs, ready for the Pulumi component."""

    service: str
    """The service's stem: timescaledb, redis or influxdb."""
    image: str
    command: tuple[str, ...]
    environment_variables: tuple[tuple[str, str], ...]
    """Variables for the image's entrypoint; never a secret (secrets are files)."""
    files: tuple[ContainerFile, ...]
    secret_files: tuple[SecretFile, ...]
    volumes: tuple[DataVolume, ...]
    port: int
    """The service's port inside the container."""
    published_port: int
    publish_address: str
    """The Docker host's address the port is published on: 127.0.0.1, or the private address."""
    healthcheck: tuple[str, ...]
    """Docker's test, as ``["CMD", ...]`` or ``["CMD-SHELL", "..."]``; never holds a secret."""
    memory_bytes: int
    cpus: float
    stop_grace_seconds: int
    """How long a stop (replacement, destroy) waits for a clean shutdown before killing."""
    start_period_seconds: int
    """How long a first start (initialisation on an empty volume) may take before failed health
    checks count."""
    read_only_mounts: tuple[str, ...] = ()
    """Directories of the Docker host mounted read-only at the same path: the TLS files the
    service's section names, which live on the host as on a droplet."""
    shm_bytes: int | None = None


def container_name(environment_name: str, service: str, suffix: str = "") -> str:
    """The Docker name of a stack's object: ``datalayer-dev-timescaledb[-data]``."""
    return "-".join(part for part in ("datalayer", environment_name, service, suffix) if part)


SectionT = TypeVar("SectionT")
ContainerT = TypeVar("ContainerT")


@dataclass(frozen=True)
class CertificateCheck:
    """How a post-provision step, run from the machine that runs pulumi up, checks the
    certificate of a service that serves TLS."""

    ca_file: str
    server_name: str


@dataclass(frozen=True)
class StackService(Generic[SectionT, ContainerT]):
    """One service as a stack runs it, narrowed once from the environment (:func:`stack_services`):
    its section and its container's settings, both set, so that its builder asserts nothing."""

    environment_name: str
    """The environment's name."""
    section: SectionT
    container: ContainerT
    """Its settings in ``containers.<service>``."""
    containers: Containers
    """The whole containers section: engine, addresses, network."""
    published_port: int
    """Its port on the Docker host."""
    certificate_check: CertificateCheck | None
    """Set when it serves TLS and a post-provision step connects to it (TimescaleDB's hooks,
    InfluxDB's setup step); the spec requires ``containers.tls_ca_file`` then."""


TimescaleDbService = StackService[TimescaleDb, TimescaleDbContainer]
RedisService = StackService[Redis, RedisContainer]
InfluxDbService = StackService[InfluxDb, InfluxDbContainer]


@dataclass(frozen=True)
class StackServices:
    """Every service an environment's stack runs, each narrowed once."""

    containers: Containers
    timescaledb: TimescaleDbService
    redis: RedisService | None
    influxdb: InfluxDbService | None


def stack_services(environment: EnvironmentSpec, source: str) -> StackServices:
    """The services of ``environment`` as its stack runs them; a :class:`SpecError` naming
    ``source`` when it has no containers section. The spec's own checks have made sure that
    every other section the stack needs is set (``EnvironmentSpec``)."""
    containers = environment.containers
    if containers is None:
        raise SpecError(
            not_set_line(
                source,
                "containers",
                "the Pulumi program needs it (engine, images, published address, limits)",
            )
        )
    ports = published_ports(environment, containers)

    def service(
        name: str, section: SectionT, container: ContainerT, checked: bool
    ) -> StackService[SectionT, ContainerT]:
        check = None
        if checked and containers.tls_ca_file is not None:
            check = CertificateCheck(containers.tls_ca_file, containers.server_name)
        return StackService(environment.name, section, container, containers, ports[name], check)

    timescaledb = environment.timescaledb
    redis, influxdb = environment.redis, environment.influxdb
    return StackServices(
        containers=containers,
        timescaledb=service(
            "timescaledb", timescaledb, containers.timescaledb, timescaledb.tls.enabled
        ),
        redis=(
            service("redis", redis, containers.redis, False)
            if redis is not None and containers.redis is not None
            else None
        ),
        influxdb=(
            service("influxdb", influxdb, containers.influxdb, influxdb.tls.enabled)
            if influxdb is not None and containers.influxdb is not None
            else None
        ),
    )


def tls_directories(*files: str | None) -> tuple[str, ...]:
    """The distinct directories of the TLS files a section names, in order."""
    directories = [file.rsplit("/", 1)[0] or "/" for file in files if file is not None]
    return tuple(dict.fromkeys(directories))
