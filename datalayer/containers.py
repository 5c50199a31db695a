"""What each service's container is, as plain data: image, files, volumes, ports, limits, checks.

The Pulumi components (``infra/``) turn a :class:`ServiceContainer` into Docker resources and
compute nothing themselves; the per-service builders (``datalayer/<service>/container.py``) fill
it from the environment spec with the same renderers and templates as the droplet deploys. Being
free of Pulumi, all of it is checked by plain unit tests as well as through Pulumi's mocks.

Secrets never appear in a command line, an environment variable or a label: a container reads
each one from a file placed in it (the images' ``*_FILE`` variables, Redis's ACL file of hashes).
A :class:`SecretFile` names the secrets its content is rendered from; the component renders it
once Pulumi has resolved them, and keeps the result secret.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pydantic import SecretStr

from datalayer.docker_forms import cpus_read_back_exactly, whole_megabytes
from datalayer.spec.containers import Containers
from datalayer.spec.environment import EnvironmentSpec
from datalayer.spec.errors import SpecError
from datalayer.spec.load import PROJECT_NAMESPACE

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
    environment: tuple[tuple[str, str], ...]
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


def container_name(environment: str, service: str, suffix: str = "") -> str:
    """The Docker name of a stack's object: ``datalayer-dev-timescaledb[-data]``."""
    return "-".join(part for part in ("datalayer", environment, service, suffix) if part)


def containers_section(environment: EnvironmentSpec, source: str) -> Containers:
    """The environment's containers section, after the checks that need the other sections too;
    every problem is reported at once, as a :class:`SpecError` naming file, key and value."""
    containers = environment.containers
    if containers is None:
        raise SpecError(
            f"{source}: {PROJECT_NAMESPACE}:containers is not set: the Pulumi program needs it "
            "(engine, images, published address, limits)"
        )
    problems = [f"{source}: {PROJECT_NAMESPACE}:{line}" for line in _problems(environment)]
    if problems:
        raise SpecError("\n".join(problems))
    return containers


_PG_TAG = re.compile(r"-pg([0-9]+)(?:[^0-9]|$)")


def _problems(environment: EnvironmentSpec) -> list[str]:
    containers = environment.containers
    assert containers is not None
    problems: list[str] = []
    for service in ("redis", "influxdb"):
        section = getattr(environment, service)
        container = getattr(containers, service)
        if section is not None and container is None:
            problems.append(
                f"containers.{service} is not set: the environment runs {service} "
                f"({PROJECT_NAMESPACE}:{service}), whose container needs its memory and cpus"
            )
        if section is None and container is not None:
            problems.append(
                f"containers.{service} is set, but there is no {PROJECT_NAMESPACE}:{service} to run"
            )
    timescaledb = environment.timescaledb
    image = containers.timescaledb.image_for(timescaledb.version)
    tagged = _PG_TAG.search(image.rsplit("/", 1)[-1])
    if tagged and int(tagged.group(1)) != timescaledb.version:
        problems.append(
            f"containers.timescaledb.image: {image!r} is built for PostgreSQL {tagged.group(1)}, "
            f"but timescaledb.version is {timescaledb.version}"
        )
    redis, redis_container = environment.redis, containers.redis
    if redis and redis_container and redis_container.memory <= redis.maxmemory:
        problems.append(
            f"containers.redis.memory: {redis_container.model_dump()['memory']!r} must be above "
            f"redis.maxmemory ({redis.model_dump()['maxmemory']}), with room for the fork that "
            "writes snapshots"
        )
    if environment.influxdb is not None and containers.influxdb is not None:
        image = containers.influxdb.image_for(environment.influxdb.version)
        tag = image.partition("@")[0].rsplit("/", 1)[-1].partition(":")[2]
        if tag and not tag.startswith("2."):
            problems.append(
                f"containers.influxdb.image: {image!r} is not InfluxDB 2: pin a 2.x tag "
                "(InfluxDB 3 is another product, with another API)"
            )
    tls = [
        name
        for name, section in (("timescaledb", timescaledb), ("influxdb", environment.influxdb))
        if section is not None and section.tls.enabled
    ]
    if tls and containers.tls_ca_file is None:
        problems.append(
            f"containers.tls_ca_file is not set: {' and '.join(tls)} serve TLS, and the "
            "post-provision steps that connect to them from this machine check their certificate "
            "with it"
        )
    problems += _limit_problems(environment)
    ports: dict[int, str] = {}
    for service, port in published_ports(environment).items():
        if port in ports:
            problems.append(
                f"containers.{service}.published_port: {port} is already {ports[port]}'s "
                "port on the Docker host"
            )
        ports.setdefault(port, service)
    return problems


def _limit_problems(environment: EnvironmentSpec) -> list[str]:
    """Limits the stacks' Docker provider cannot hold as given (``datalayer.docker_forms``): a
    size that is not whole MiB would be cut, and a CPU count it reads back as another amount
    would show as a change, replacing the container, on every ``pulumi up``."""
    containers = environment.containers
    assert containers is not None
    resources = environment.timescaledb.resources
    sizes = {
        "timescaledb.resources.memory": (resources.memory, resources.model_dump()["memory"]),
        "containers.timescaledb.shm_size": (
            containers.timescaledb.shm_size,
            containers.timescaledb.model_dump()["shm_size"],
        ),
    }
    counts: dict[str, float] = {"timescaledb.resources.cpus": resources.cpus}
    for service in ("redis", "influxdb"):
        container = getattr(containers, service)
        if container is not None:
            sizes[f"containers.{service}.memory"] = (
                container.memory,
                container.model_dump()["memory"],
            )
            counts[f"containers.{service}.cpus"] = container.cpus
    problems = [
        f"{key}: {written!r} is not a whole number of MiB, the unit the Docker provider sets "
        "container limits in"
        for key, (size, written) in sizes.items()
        if not whole_megabytes(size)
    ]
    problems += [
        f"{key}: {count!r} cannot be set exactly: the Docker provider reads the limit back as "
        "another amount (0.05 as 0.1) or refuses it (finer than a billionth); choose a value "
        "such as 0.5, 1.5 or 2.25"
        for key, count in counts.items()
        if not cpus_read_back_exactly(count)
    ]
    return problems


def published_ports(environment: EnvironmentSpec) -> dict[str, int]:
    """The Docker host's port of each service the environment runs."""
    containers = environment.containers
    assert containers is not None
    ports = {"timescaledb": containers.timescaledb.published_port or environment.timescaledb.port}
    if environment.redis is not None and containers.redis is not None:
        ports["redis"] = containers.redis.published_port or environment.redis.port
    if environment.influxdb is not None and containers.influxdb is not None:
        ports["influxdb"] = containers.influxdb.published_port or environment.influxdb.http_port
    return ports


def tls_directories(*files: str | None) -> tuple[str, ...]:
    """The distinct directories of the TLS files a section names, in order."""
    directories = [file.rsplit("/", 1)[0] or "/" for file in files if file is not None]
    return tuple(dict.fromkeys(directories))
