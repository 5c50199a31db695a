"""The containers part of an environment: what only the Pulumi stacks (dev, prod) need.

The services' own settings (ports, users, tuning, TLS files...) stay in their sections, shared with
the droplets; this section holds what exists only when they run as containers: which Docker engine,
which images, the address the Docker host publishes their ports on, the Docker network, and the
resource limits the service sections do not already give (TimescaleDB's come from
``timescaledb.resources``, which its tuning is computed from).

Checks that need the other sections too (an image tag against ``timescaledb.version``, Redis's
memory limit against ``redis.maxmemory``) are the environment's own
(``datalayer.spec.environment.EnvironmentSpec``).
"""

import ipaddress
import re
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from datalayer.redis.commands import REDIS_VERSION
from datalayer.spec.base import Constraint, SpecModel, not_set, refused, report
from datalayer.spec.types import (
    AbsolutePath,
    MemorySize,
    Network,
    Port,
    SecretName,
    StrictFloat,
)

TIMESCALEDB_IMAGE_VERSION = "2.23.0"
"""Version of Timescale's community image when the stack names none: the first release built for
every PostgreSQL version the spec supports (15 to 18). Tags read ``<version>-pg<major>``."""

_IMAGE = re.compile(
    r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$"
)


def _pinned_image(value: str) -> str:
    if not _IMAGE.fullmatch(value):
        raise ValueError("is not an image reference such as 'redis:8.0.2'")
    name, _, digest = value.partition("@")
    tag = name.rsplit("/", 1)[-1].partition(":")[2]
    if not tag and not digest:
        raise ValueError("is not pinned: name a tag ('redis:8.0.2') or a digest ('@sha256:...')")
    if tag == "latest":
        raise ValueError("'latest' moves to whatever is released next: pin a version tag")
    return value


PinnedImage = Annotated[
    str, AfterValidator(_pinned_image), Constraint("an image pinned by tag or digest, not latest")
]
"""An image reference pinned by tag or digest; 'latest' and untagged names are refused."""


PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(network)
    for network in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)
"""Where a VPC's addresses are: RFC 1918, shared address space (RFC 6598), unique local IPv6."""


def _private_address(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected an IP address such as '10.110.0.40', got {value!r}")
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        raise ValueError("is not an IP address") from None
    if not any(address in network for network in PRIVATE_NETWORKS):
        raise ValueError("is not a private address (e.g. the droplet's VPC address, 10.110.0.40)")
    return str(address)


PrivateAddress = Annotated[
    str, BeforeValidator(_private_address), Constraint("a private IP address")
]


_DNS_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def _server_name(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a host name such as 'db.prod.internal', got {value!r}")
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        pass
    labels = value.removesuffix(".").split(".")
    if len(value) > 253 or not all(_DNS_LABEL.match(label) for label in labels):
        raise ValueError("is not a DNS name or IP address")
    return value


ServerName = Annotated[str, BeforeValidator(_server_name), Constraint("a DNS name or IP address")]
"""A name a server certificate carries in its subjectAltName (RFC 1123 labels), or an IP."""


def _docker_network(
    value: ipaddress.IPv4Network | ipaddress.IPv6Network,
) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    if value.version != 4 or value.prefixlen > 28:
        raise ValueError("must be an IPv4 network of at least 16 addresses, e.g. '172.28.57.0/24'")
    return value


class ContainerEngine(StrEnum):
    """Which Docker engine runs the containers."""

    LOCAL = "local"
    SSH = "ssh"


class TimescaleDbContainer(SpecModel):
    """TimescaleDB's container. Memory and CPU limits are ``timescaledb.resources``: the tuning
    was computed for exactly those."""

    image: PinnedImage | None = None
    """Image, pinned by tag; unset: Timescale's community image for timescaledb.version,
    timescale/timescaledb:2.23.0-pgVERSION."""
    published_port: Port | None = None
    """Port published on the Docker host; unset: timescaledb.port."""
    shm_size: MemorySize = Field(default="256MB", validate_default=True)
    """Size of /dev/shm, where parallel queries exchange data; Docker's 64MB default is too
    small for them."""
    superuser_password_secret: SecretName = "DATALAYER_POSTGRES_PASSWORD"
    """Secret holding the postgres superuser's password: the image sets it on first start, and
    the post-provision hooks log in with it."""
    hooks_network: Network | None = None
    """Where the post-provision hooks connect from, as postgres with scram-sha-256. Unset: the
    Docker network's subnet, where connections to a port published on the Docker host's own
    127.0.0.1 come from (through docker-proxy); required with engine 'ssh'."""

    def image_for(self, version: int) -> str:
        """The image to run for PostgreSQL ``version``."""
        return self.image or f"timescale/timescaledb:{TIMESCALEDB_IMAGE_VERSION}-pg{version}"


class RedisContainer(SpecModel):
    """Redis's container."""

    image: PinnedImage = f"redis:{REDIS_VERSION}"
    """Image, pinned by tag: the official image of the Redis release Debian 13's droplets run,
    whose command list the ACL rules are checked against."""
    published_port: Port | None = None
    """Port published on the Docker host; unset: redis.port."""
    memory: MemorySize
    """Memory limit of the container; above redis.maxmemory, with room for the fork that writes
    snapshots and rewrites the append-only file. Sized to the machine, so no default."""
    cpus: StrictFloat = Field(gt=0)
    """CPU limit (Redis runs commands on one thread; 1 is plenty for most)."""


class InfluxDbContainer(SpecModel):
    """InfluxDB 2's container."""

    image: PinnedImage | None = None
    """Image, pinned by tag; unset: the official image of influxdb.version, e.g. influxdb:2.7.12
    (never 'latest', which is InfluxDB 3)."""
    published_port: Port | None = None
    """Port published on the Docker host; unset: influxdb.http_port."""
    memory: MemorySize
    """Memory limit of the container. Sized to the machine, so no default."""
    cpus: StrictFloat = Field(gt=0)
    """CPU limit."""

    def image_for(self, package_version: str) -> str:
        """The image to run for the influxdb2 package version ``package_version``
        ('2.7.12-1' runs influxdb:2.7.12)."""
        return self.image or f"influxdb:{package_version.rsplit('-', 1)[0]}"


class ContainerNetwork(SpecModel):
    """The Docker network the containers share."""

    subnet: Annotated[
        Network, AfterValidator(_docker_network), Constraint("IPv4, at least 16 addresses")
    ] = Field(default=ipaddress.IPv4Network("172.28.57.0/24"))
    """Its IPv4 subnet; the first address is the gateway, the Docker host's own address on it."""


class Containers(SpecModel):
    """How the Pulumi stacks run the data layer as containers on one Docker engine."""

    engine: ContainerEngine = ContainerEngine.LOCAL
    """'local': this machine's Docker engine, ports published on 127.0.0.1 (dev). 'ssh': a
    droplet's engine over SSH, ports published on its private address only (prod)."""
    docker_host: str | None = Field(default=None, pattern=r"^ssh://[^\s/[:cntrl:]]+$")
    """The droplet's Docker engine, e.g. 'ssh://deploy@10.110.0.40'; engine 'ssh' only."""
    private_address: PrivateAddress | None = None
    """The droplet's private (VPC) address, the only one its ports are published on; engine
    'ssh' only."""
    tls_ca_file: AbsolutePath | None = None
    """CA bundle (or the servers' certificate) on the machine that runs pulumi up, which the
    post-provision hooks and InfluxDB's setup step check the services' certificates with when
    they serve TLS. The services' own TLS files are on the Docker host, at the paths their
    sections name, and are mounted read-only into the containers."""
    tls_server_name: ServerName | None = None
    """The name (subjectAltName) the services' certificates carry, which the post-provision
    hooks and InfluxDB's setup step check them against while connecting to the address the
    ports are published on; unset: that address itself, which the certificates must then name
    as an IP address."""
    network: ContainerNetwork = ContainerNetwork()
    """The containers' private Docker network."""
    timescaledb: TimescaleDbContainer = TimescaleDbContainer()
    """TimescaleDB's container."""
    redis: RedisContainer | None = None
    """Redis's container; required when the environment has a redis section."""
    influxdb: InfluxDbContainer | None = None
    """InfluxDB's container; required when the environment has an influxdb section."""

    @model_validator(mode="after")
    def _engine_settings(self) -> Self:
        if self.engine is ContainerEngine.SSH:
            required = {
                ("docker_host",): (
                    self.docker_host,
                    "engine 'ssh' needs the droplet's Docker engine, e.g. 'ssh://deploy@10.110.0.40'",
                ),
                ("private_address",): (
                    self.private_address,
                    "engine 'ssh' publishes ports on the droplet's private address only, "
                    "e.g. '10.110.0.40'",
                ),
                ("timescaledb", "hooks_network"): (
                    self.timescaledb.hooks_network,
                    "with engine 'ssh' the post-provision hooks connect from the machine that "
                    "runs pulumi up; name its network, e.g. '10.110.1.0/24'",
                ),
            }
            report(
                self,
                [
                    not_set(location, reason)
                    for location, (value, reason) in required.items()
                    if value is None
                ],
            )
        else:
            report(
                self,
                [
                    refused(
                        (name,),
                        getattr(self, name),
                        "is for engine 'ssh'; engine 'local' publishes ports on 127.0.0.1",
                    )
                    for name in ("docker_host", "private_address")
                    if getattr(self, name) is not None
                ],
            )
        return self

    @property
    def publish_address(self) -> str:
        """The Docker host's address the ports are published on."""
        return self.private_address or "127.0.0.1"

    @property
    def server_name(self) -> str:
        """The name the post-provision steps check the services' certificates against."""
        return self.tls_server_name or self.publish_address
