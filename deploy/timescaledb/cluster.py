"""The TimescaleDB deploy's cluster path: the same server, run by Patroni behind HAProxy.

Taken instead of the single-host path when the spec declares ``timescaledb.cluster``: the
packages, the rendered files and the post-provision hooks are the single host's; what differs
is who runs PostgreSQL (Patroni, ``deploy/patroni``), who routes clients (HAProxy,
``deploy/haproxy``), and that the hooks run on the leader alone.
"""

from collections.abc import Generator

from pydantic import SecretStr
from pyinfra.api.command import StringCommand
from pyinfra.api.operation import operation
from pyinfra.context import host
from pyinfra.facts.server import LinuxDistribution

from datalayer.apt import PackagePlan
from datalayer.cluster.members import Membership
from datalayer.onhost.hooks.plan import HookPlan
from datalayer.spec import EnvironmentSpec
from datalayer.timescaledb.backup.keys import RepositoryKeys
from datalayer.timescaledb.backup.sftp import SftpAccess
from datalayer.timescaledb.layout import patroni_layout
from datalayer.timescaledb.packages import package_plan
from deploy import apt, dpkg
from deploy.haproxy import haproxy
from deploy.patroni import patroni
from deploy.patroni.facts import PatroniMemberStatus
from deploy.timescaledb import backup, hooks

CLUSTER_PACKAGES = ("patroni", "python3-etcd", "haproxy", "curl")
"""Beside the server's: Patroni with its etcd client (Debian's patroni depends on one of
python3-etcd, -consul, -kazoo, -kubernetes, and apt picks python3-consul: without python3-etcd
Patroni 4.0.7 cannot import ``patroni.dcs.etcd3``, "Can not find suitable configuration of
distributed configuration store", seen on Debian 13), HAProxy, and curl,
with which the deploy asks Patroni's REST API (Debian 13: patroni 4.0.7, haproxy 3.0)."""


def clustered(
    environment: EnvironmentSpec,
    passwords: dict[str, SecretStr],
    plan: HookPlan,
    repository_keys: RepositoryKeys | None,
    sftp: SftpAccess | None,
    membership: Membership,
) -> None:
    """Install TimescaleDB as a member of the cluster, then the hooks on the leader alone.

    + environment, passwords, plan, repository_keys, sftp: as the single-host deploy takes them
    + membership: this host, the other members, etcd's addresses and Patroni's secrets

    Every member shares one pgBackRest repository (the spec refuses a posix one in a cluster),
    whose stanza any member creates once Patroni runs its PostgreSQL (``--no-online`` reads
    pg_control, which replicas clone from the leader, so every member names the same cluster).
    Only the leader archives and is checked with ``pgbackrest check``; every member has the
    backup timers, which back up only while it leads (``datalayer.timescaledb.backup.render``).
    """
    spec = environment.timescaledb
    cluster = spec.cluster
    assert cluster is not None
    layout = patroni_layout(spec)
    dpkg.finish_interrupted_install(
        name="Finish an interrupted package install, waiting for a running apt or dpkg",
    )
    release = host.get_fact(LinuxDistribution)["release_meta"]
    server = package_plan(spec, release["ID"], release["VERSION_CODENAME"])
    apt.install(PackagePlan(server.repositories, (*server.packages, *CLUSTER_PACKAGES)))
    patroni(
        environment=environment,
        layout=layout,
        member=membership.member,
        members=membership.topology.members,
        etcd_addresses=membership.etcd_addresses,
        secrets=membership.secrets,
    )
    repository_operations = backup.repository(environment, layout, repository_keys, sftp)
    backup.verify_and_schedule(
        environment,
        layout,
        repository_operations,
        archiving=lambda: _leads(membership.member.private_address, cluster.rest_api_port),
    )
    haproxy(environment=environment, members=membership.topology.members)
    hooks.install_runtime(plan)
    hooks_on_leader(
        name="Bring the database to the spec on the leader: roles, privileges, migrations, "
        "policies",
        address=membership.member.private_address,
        rest_api_port=cluster.rest_api_port,
        version=spec.version,
        cluster=spec.debian_cluster,
        port=spec.port,
        passwords=passwords,
    )


def _leads(address: str, rest_api_port: int) -> bool:
    """Whether this member leads now, as its Patroni says."""
    status = host.get_fact(PatroniMemberStatus, address=address, port=rest_api_port)
    return bool(status.get("role") == "primary")


@operation()
def hooks_on_leader(
    address: str,
    rest_api_port: int,
    version: int,
    cluster: str,
    port: int,
    passwords: dict[str, SecretStr],
) -> Generator[StringCommand, None, None]:
    """The post-provision hooks (``deploy.timescaledb.hooks.post_provision_hooks``) if this
    member leads when the step runs, as its Patroni says; a replica says noop.

    + address, rest_api_port: this member's REST API
    + version, cluster, port, passwords: as ``post_provision_hooks`` takes them

    Once per deploy, on one member: the leader is the only member that accepts writes, and
    what it writes reaches the replicas by replication.
    """
    status = host.get_fact(PatroniMemberStatus, address=address, port=rest_api_port)
    if status.get("role") != "primary":
        host.noop(f"the leader runs the hooks; this member is {status.get('role', 'not running')}")
        return
    yield from hooks.post_provision_hooks._inner(
        version=version, cluster=cluster, port=port, passwords=passwords
    )
