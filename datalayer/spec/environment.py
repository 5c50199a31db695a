"""An environment: everything one deployment target (sandbox, dev, prod) declares."""

import re
from typing import Self

from pydantic import Field, model_validator
from pydantic_core import InitErrorDetails

from datalayer.docker_forms import cpus_read_back_exactly, whole_megabytes
from datalayer.spec.base import SpecModel, not_set, refused, report
from datalayer.spec.containers import Containers
from datalayer.spec.errors import PROJECT_NAMESPACE
from datalayer.spec.exporters import exporter_problems
from datalayer.spec.influxdb import InfluxDb
from datalayer.spec.monitoring import Monitoring
from datalayer.spec.redis import Redis
from datalayer.spec.timescaledb import TimescaleDb

CONTAINER_SERVICES = ("redis", "influxdb")
"""The services whose section is optional, and whose container, when the stacks run the
environment, needs limits of its own in ``containers``."""


class EnvironmentSpec(SpecModel):
    """The whole description of one environment, as read from ``Pulumi.<env>.yaml``.

    Pulumi programs and pyinfra deploys both receive this object; neither reads the file itself.
    The checks across its sections are its own validator's, so every entry point that parses an
    environment gets them.
    """

    name: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    """Environment name, the ``<env>`` of ``Pulumi.<env>.yaml``."""
    timescaledb: TimescaleDb
    """TimescaleDB (PostgreSQL) for relational and market time-series data."""
    redis: Redis | None = None
    """Redis for caching, sessions and the price cache; unset where no host runs it."""
    influxdb: InfluxDb | None = None
    """InfluxDB 2 for market-data time series; unset where no InfluxDB runs (the sandbox)."""
    containers: Containers | None = None
    """Containers for the Pulumi stacks (dev, prod); unset where only droplets run (the sandbox)."""
    monitoring: Monitoring | None = None
    """Exporters, Prometheus and its alert rules, restore drills; unset where nothing watches."""

    @model_validator(mode="after")
    def _containers_fit_the_services(self) -> Self:
        """The containers section against the services' own sections; every problem at once."""
        if self.containers is not None:
            report(self, _container_problems(self, self.containers))
        return self

    @model_validator(mode="after")
    def _exporters_fit_the_services(self) -> Self:
        """The exporters' ports and role against the services' (``monitoring.exporters``)."""
        report(self, exporter_problems(self))
        return self


def published_ports(environment: EnvironmentSpec, containers: Containers) -> dict[str, int]:
    """The Docker host's port of each service the environment runs as a container."""
    ports = {"timescaledb": containers.timescaledb.published_port or environment.timescaledb.port}
    if environment.redis is not None and containers.redis is not None:
        ports["redis"] = containers.redis.published_port or environment.redis.port
    if environment.influxdb is not None and containers.influxdb is not None:
        ports["influxdb"] = containers.influxdb.published_port or environment.influxdb.http_port
    return ports


_PG_TAG = re.compile(r"-pg([0-9]+)(?:[^0-9]|$)")


def _container_problems(
    environment: EnvironmentSpec, containers: Containers
) -> list[InitErrorDetails]:
    return [
        *_section_problems(environment, containers),
        *_image_problems(environment, containers),
        *_memory_problems(environment, containers),
        *_tls_problems(environment, containers),
        *_limit_problems(environment, containers),
        *_port_problems(environment, containers),
        *_backup_problems(environment),
        *_sentinel_problems(environment),
    ]


def _backup_problems(environment: EnvironmentSpec) -> list[InitErrorDetails]:
    """An SFTP repository, which only droplets reach: the containers run no pgBackRest (their
    images carry none) and copy each WAL segment into their wal-archive volume instead, so no
    segment would ever reach the server, and its private key would have nowhere to go."""
    repository = environment.timescaledb.backup.repository
    if repository.type != "sftp":
        return []
    return [
        refused(
            ("timescaledb", "backup", "repository", "type"),
            repository.type,
            "is for droplets: the containers archive WAL into their wal-archive volume and run "
            "no pgBackRest, so nothing would reach the SFTP server",
        )
    ]


def _section_problems(
    environment: EnvironmentSpec, containers: Containers
) -> list[InitErrorDetails]:
    """A service section without its container's limits, or limits without the section."""
    problems = []
    for service in CONTAINER_SERVICES:
        section = getattr(environment, service)
        container = getattr(containers, service)
        if section is not None and container is None:
            problems.append(
                not_set(
                    ("containers", service),
                    f"the environment runs {service} ({PROJECT_NAMESPACE}:{service}), whose "
                    "container needs its memory and cpus",
                )
            )
        if section is None and container is not None:
            problems.append(
                not_set(
                    (service,),
                    f"containers.{service} declares its container; remove that if the "
                    f"environment runs no {service}",
                )
            )
    return problems


def _image_problems(environment: EnvironmentSpec, containers: Containers) -> list[InitErrorDetails]:
    """Images built for another major version than the section runs."""
    problems = []
    version = environment.timescaledb.version
    image = containers.timescaledb.image_for(version)
    tagged = _PG_TAG.search(image.rsplit("/", 1)[-1])
    if tagged and int(tagged.group(1)) != version:
        problems.append(
            refused(
                ("containers", "timescaledb", "image"),
                image,
                f"is built for PostgreSQL {tagged.group(1)}, but timescaledb.version is {version}",
            )
        )
    if environment.influxdb is not None and containers.influxdb is not None:
        image = containers.influxdb.image_for(environment.influxdb.version)
        tag = image.partition("@")[0].rsplit("/", 1)[-1].partition(":")[2]
        if tag and not tag.startswith("2."):
            problems.append(
                refused(
                    ("containers", "influxdb", "image"),
                    image,
                    "is not InfluxDB 2: pin a 2.x tag (InfluxDB 3 is another product, with "
                    "another API)",
                )
            )
    return problems


def _memory_problems(
    environment: EnvironmentSpec, containers: Containers
) -> list[InitErrorDetails]:
    """Redis's container limit against the memory Redis itself may use."""
    redis, container = environment.redis, containers.redis
    if redis is None or container is None or container.memory > redis.maxmemory:
        return []
    return [
        refused(
            ("containers", "redis", "memory"),
            container.model_dump()["memory"],
            f"must be above redis.maxmemory ({redis.model_dump()['maxmemory']}), with room for "
            "the fork that writes snapshots",
        )
    ]


def _tls_problems(environment: EnvironmentSpec, containers: Containers) -> list[InitErrorDetails]:
    """The CA file the post-provision steps need for the services that serve TLS."""
    sections = (("timescaledb", environment.timescaledb), ("influxdb", environment.influxdb))
    tls = [name for name, section in sections if section is not None and section.tls.enabled]
    if not tls or containers.tls_ca_file is not None:
        return []
    return [
        not_set(
            ("containers", "tls_ca_file"),
            f"{' and '.join(tls)} serve TLS, and the post-provision steps that connect to them "
            "from this machine check their certificate with it",
        )
    ]


def _limit_problems(environment: EnvironmentSpec, containers: Containers) -> list[InitErrorDetails]:
    """Limits the stacks' Docker provider cannot hold as given (``datalayer.docker_forms``): a
    size that is not whole MiB would be cut, and a CPU count it reads back as another amount
    would show as a change, replacing the container, on every ``pulumi up``."""
    resources = environment.timescaledb.resources
    sizes = {
        ("timescaledb", "resources", "memory"): (
            resources.memory,
            resources.model_dump()["memory"],
        ),
        ("containers", "timescaledb", "shm_size"): (
            containers.timescaledb.shm_size,
            containers.timescaledb.model_dump()["shm_size"],
        ),
    }
    counts: dict[tuple[str, ...], float] = {("timescaledb", "resources", "cpus"): resources.cpus}
    for service in CONTAINER_SERVICES:
        container = getattr(containers, service)
        if container is not None:
            sizes["containers", service, "memory"] = (
                container.memory,
                container.model_dump()["memory"],
            )
            counts["containers", service, "cpus"] = container.cpus
    problems = [
        refused(
            location,
            written,
            "is not a whole number of MiB, the unit the Docker provider sets container limits in",
        )
        for location, (size, written) in sizes.items()
        if not whole_megabytes(size)
    ]
    problems += [
        refused(
            location,
            count,
            "cannot be set exactly: the Docker provider reads the limit back as another amount "
            "(0.05 as 0.1) or refuses it (finer than a billionth); choose a value such as 0.5, "
            "1.5 or 2.25",
        )
        for location, count in counts.items()
        if not cpus_read_back_exactly(count)
    ]
    return problems


def _port_problems(environment: EnvironmentSpec, containers: Containers) -> list[InitErrorDetails]:
    """Two services published on one port of the Docker host."""
    problems = []
    ports: dict[int, str] = {}
    for service, port in published_ports(environment, containers).items():
        if port in ports:
            problems.append(
                refused(
                    ("containers", service, "published_port"),
                    port,
                    f"is already {ports[port]}'s port on the Docker host",
                )
            )
        ports.setdefault(port, service)
    return problems


def _sentinel_problems(environment: EnvironmentSpec) -> list[InitErrorDetails]:
    """Sentinel in an environment the stacks run: they run one Redis container, and a Sentinel
    group of containers is not built, so it is refused rather than half-built."""
    if environment.redis is None or environment.redis.sentinel is None:
        return []
    return [
        refused(
            ("redis", "sentinel"),
            environment.redis.sentinel.master_name,
            "is declared, but the Pulumi stacks (containers) run a single Redis: Sentinel runs "
            "on droplets only (remove containers, or redis.sentinel)",
        )
    ]
