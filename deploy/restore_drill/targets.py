"""Which hosts a restore drill may restore onto: any host of the inventory but the source's.

The source is what the drill checks: the environment's ``timescaledb`` hosts, its ``etcd``
hosts and its ``backup_repository`` host. A drill onto one of them would restore over the data
(or next to the repository) it is meant to prove, so both the command (``--target``) and the
spec (``monitoring.restore_drill.host``) are refused with one line before any host is contacted.
"""

from collections.abc import Iterable

from pyinfra.api.host import Host

from datalayer.spec import EnvironmentSpec, SpecError
from datalayer.spec.backup import BACKUP_REPOSITORY_GROUP
from datalayer.spec.restore_drill import RestoreDrill

SOURCE_GROUPS = ("timescaledb", "etcd", BACKUP_REPOSITORY_GROUP)
"""The groups whose hosts of the source's environment are the source."""


def source_hosts(environment: EnvironmentSpec, hosts: Iterable[Host]) -> list[Host]:
    """The hosts of ``hosts`` that make up ``environment``'s source, in inventory order."""
    return [
        host
        for host in hosts
        if host.data.get("env") == environment.name
        and any(group in host.groups for group in SOURCE_GROUPS)
    ]


def refuse_source_target(
    environment: EnvironmentSpec, hosts: Iterable[Host], target: str, given_as: str
) -> None:
    """A :class:`SpecError` when ``target`` is a host of ``environment``'s source.

    + given_as: how the user named it, for the line (``--target``, the spec key)
    """
    for host in source_hosts(environment, hosts):
        if host.name == target:
            groups = ", ".join(group for group in SOURCE_GROUPS if group in host.groups)
            raise SpecError(
                f"inventory: {given_as} {target} is a host of the source ({groups} of env "
                f"{environment.name}): a drill restores onto a scratch host, never over the "
                "data it checks"
            )


def declared_drill(environment: EnvironmentSpec) -> RestoreDrill | None:
    """The spec's scheduled drill, if it declares one."""
    return None if environment.monitoring is None else environment.monitoring.restore_drill


def is_declared_drill_host(environment: EnvironmentSpec, host_name: str) -> bool:
    """Whether ``host_name`` runs ``environment``'s scheduled drill."""
    drill = declared_drill(environment)
    return drill is not None and drill.host == host_name


def judge_declared_drill(environment: EnvironmentSpec, hosts: Iterable[Host]) -> None:
    """The spec's scheduled drill against the inventory: a repository its host can reach, and
    a host that is no host of the source."""
    drill = declared_drill(environment)
    if drill is None:
        return
    key = f"Pulumi.{environment.name}.yaml's monitoring.restore_drill"
    repository = environment.timescaledb.backup.repository
    if repository.type == "posix":
        raise SpecError(
            f"inventory: {key} is declared, but timescaledb.backup.repository is posix "
            f"({repository.path} on the source), which no scratch host can reach: use an s3 or "
            "sftp repository"
        )
    refuse_source_target(environment, hosts, drill.host, f"{key}.host")
