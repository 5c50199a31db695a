"""The Redis deploy: Debian's redis-server, with ACL users, persistence and a memory budget.

Run by ``deploy/site.py`` on the inventory's ``redis`` group; callable from any other pyinfra
deploy as ``redis(environment, passwords)``.
"""

from pydantic import SecretStr
from pyinfra.api.deploy import deploy
from pyinfra.api.host import Host
from pyinfra.context import host

from datalayer.redis.config import render_redis_conf, render_users_acl
from datalayer.redis.layout import DEBIAN_LAYOUT, DEBIAN_SENTINEL_LAYOUT
from datalayer.redis.passwords import ADMIN_USER
from datalayer.redis.sentinel import SentinelFiles, Topology, TopologyError, topology
from datalayer.spec import EnvironmentSpec, SpecError
from datalayer.spec.errors import not_set_line
from datalayer.spec.redis import Redis
from deploy import dpkg
from deploy.operations import packages_installed, units_enabled_and_running
from deploy.redis import operations


def redis_section(environment: EnvironmentSpec, host_name: str) -> Redis:
    """The environment's Redis spec; a host in the redis group of an environment without one
    is a :class:`SpecError`, raised before any change."""
    if environment.redis is None:
        raise SpecError(
            not_set_line(
                f"Pulumi.{environment.name}.yaml",
                "redis",
                f"host {host_name} is in the redis group",
            )
        )
    return environment.redis


@deploy("Redis")
def redis(environment: EnvironmentSpec, passwords: dict[str, SecretStr]) -> None:
    """Install, configure and start Redis as ``environment`` declares.

    + environment: the validated environment spec, with a ``redis`` section
    + passwords: every ACL user's password (``datalayer.redis.passwords.redis_passwords``), read
      before the deploy starts so that a missing secret stops it before any change

    The package starts Redis with Debian's own configuration; the configuration step sees that
    file differ from ours and restarts onto it.
    """
    spec = redis_section(environment, host.name)
    layout = DEBIAN_LAYOUT
    # The Debian layout is always a package under systemd.
    assert layout.package is not None and layout.service is not None
    dpkg.finish_interrupted_install(
        name="Finish an interrupted package install, waiting for a running apt or dpkg",
    )
    if spec.sentinel is not None:
        _with_sentinel(environment, spec, passwords)
        return
    packages_installed(name=f"Install {layout.package}", packages=[layout.package])
    operations.configuration(
        name="Install redis.conf and users.acl; CONFIG SET, ACL LOAD or restart as Redis requires",
        layout=layout,
        redis_conf=render_redis_conf(spec, environment.name, layout),
        users_acl=render_users_acl(spec, passwords),
        admin_password=passwords[ADMIN_USER],
    )
    units_enabled_and_running(name=f"Enable and start {layout.service}", units=[layout.service])


def redis_topology(environment: EnvironmentSpec, host: Host) -> Topology | None:
    """The redis group as ``host`` sees it when the environment declares Sentinel (None when it
    does not); a :class:`SpecError` naming the first problem of the group, raised before any
    host is contacted (``deploy/preflight.py`` and ``datalayer.verify`` call this too)."""
    spec = redis_section(environment, host.name)
    if spec.sentinel is None:
        return None
    group = [
        (member.name, member.data.get("private_address"))
        for member in host.inventory.get_group("redis")
        if member.data.get("env") == environment.name
    ]
    try:
        return topology(environment.name, spec.sentinel, spec.bind, group, host.name)
    except TopologyError as error:
        raise SpecError(str(error)) from None


def _with_sentinel(
    environment: EnvironmentSpec, spec: Redis, passwords: dict[str, SecretStr]
) -> None:
    """Redis and its Sentinel on one host of a Sentinel group (``redis.sentinel``)."""
    layout, sentinel_layout = DEBIAN_LAYOUT, DEBIAN_SENTINEL_LAYOUT
    assert layout.package is not None and layout.service is not None
    group = redis_topology(environment, host)
    assert group is not None
    packages_installed(
        name=f"Install {layout.package} and {sentinel_layout.package}",
        packages=[layout.package, sentinel_layout.package],
    )
    operations.replicated_configuration(
        name="Seed redis.conf and sentinel.conf once; install the deploy's files and apply them",
        layout=layout,
        sentinel_layout=sentinel_layout,
        files=SentinelFiles(spec, environment.name, passwords, layout, sentinel_layout),
        topology=group,
        passwords=passwords,
    )
    units_enabled_and_running(
        name=f"Enable and start {layout.service} and {sentinel_layout.service}",
        units=[layout.service, sentinel_layout.service],
    )
