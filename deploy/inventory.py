"""The contract between a pyinfra inventory and these deploys.

Groups are named by role, and every host's data names its environment: ``env="prod"`` selects
``Pulumi.prod.yaml``. The ``env`` must be in the inventory file itself (a host's data, or a
group's ``(hosts, data)``): the whole inventory is judged while pyinfra loads it, before its
group data files and ``--data`` are merged in (``deploy/preflight.py``).

- ``timescaledb``, ``redis``, ``influxdb``: the hosts of each service; a group whose section the
  environment lacks is refused.
- ``etcd``: the DCS of a cluster (``timescaledb.cluster``), 3 or 5 hosts, which may also be in
  ``timescaledb``; refused in an environment that declares no cluster.
- ``private_address`` host data: where the cluster's other hosts reach this one, an IP address
  (e.g. ``private_address="10.110.0.10"``, a droplet's VPC address). Required, in an environment
  with a cluster, of every host of ``timescaledb`` and ``etcd``; its ``etcd`` hosts' names are
  etcd's member names.
- ``backup_repository``: the one host of an SFTP backup repository that declares no host
  (``timescaledb.backup.repository.type: sftp``), of the same ``env``, in no other role; its
  ``private_address`` is where the database hosts reach it (``deploy/backup_repository``, which
  judges that part).
- ``prometheus``: the hosts that run Prometheus for their environment (``monitoring``), which
  scrape every host of the environment's other groups at its ``private_address`` (required of
  every scraped host). Refused: a ``prometheus`` host of an environment without ``monitoring``;
  an inventory with ``prometheus`` hosts, none of them of an environment that declares
  ``monitoring``; a group that ``monitoring.prometheus.scrape_groups`` names and the inventory
  has no host of. An inventory without any ``prometheus`` host (one of an environment's other
  roles only) deploys no Prometheus, as one without the cluster's hosts deploys no cluster.

Every host is judged with its environment; then, for each environment with a cluster, its
``timescaledb`` and ``etcd`` hosts together (:func:`cluster_topology`), before any host's own
inputs (its secrets) are read.
"""

import ipaddress
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pyinfra.api.host import Host
from pyinfra.api.inventory import Inventory

from datalayer.etcd.topology import ClusterHost, ClusterTopology
from datalayer.monitoring.prometheus import (
    PROMETHEUS_GROUP,
    SCRAPE_GROUPS,
    ScrapeHost,
    scraped_groups,
)
from datalayer.spec import EnvironmentSpec, SpecError, load_environment
from datalayer.spec.errors import not_set_line, shown
from deploy.restore_drill.targets import judge_declared_drill

Judged = TypeVar("Judged")

ETCD_GROUP = "etcd"
MEMBERS_GROUP = "timescaledb"
ETCD_SIZES = (3, 5)
"""An odd count: etcd keeps a quorum (a majority) with one member lost of 3, two of 5; an even
count needs as large a majority and so survives no more losses than one member fewer."""
_MEMBER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
"""etcd member names as ETCD_INITIAL_CLUSTER lists them (NAME=URL, comma-separated)."""


def environment_name(host_name: str, data: Any) -> str:
    """The environment a host's data names; a :class:`SpecError` if it names none."""
    name = data.get("env")
    if name is None or name == "":
        raise SpecError(f"inventory: host {host_name} has no 'env' data (e.g. env='prod')")
    if not isinstance(name, str):
        raise SpecError(
            f"inventory: host {host_name}: env {shown(name)} is not an environment name "
            "(e.g. env='prod')"
        )
    return name


CLUSTER_REACHES_IT = "the IP address the cluster's other hosts reach it at"
"""Why a cluster's member or etcd host needs ``private_address``, as its refusal says."""


def private_address(host_name: str, data: Any, needed_as: str = CLUSTER_REACHES_IT) -> str:
    """The host's ``private_address`` data, an IP address; a :class:`SpecError` otherwise,
    whose line says what the address is ``needed_as``."""
    address = data.get("private_address")
    if address is None or address == "":
        raise SpecError(
            f"inventory: host {host_name} has no 'private_address' data, {needed_as} "
            "(e.g. private_address='10.110.0.10')"
        )
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        raise SpecError(
            f"inventory: host {host_name}: private_address {shown(address)} is not an IP address"
        ) from None


def _cluster_hosts(hosts: Sequence[Host]) -> tuple[ClusterHost, ...]:
    return tuple(ClusterHost(host.name, private_address(host.name, host.data)) for host in hosts)


def _check_etcd_size(environment: EnvironmentSpec, hosts: Sequence[ClusterHost]) -> None:
    count = len(hosts)
    if count in ETCD_SIZES:
        return
    names = ", ".join(host.name for host in hosts) or "none"
    reason = (
        "an even count keeps a quorum through no more losses than one host fewer"
        if count % 2 == 0 and count > 0
        else "3 keep a quorum with one lost, 5 with two"
    )
    raise SpecError(
        f"inventory: the etcd group of environment {environment.name} has {count} hosts "
        f"({names}): a cluster needs 3 or 5, since {reason}"
    )


def cluster_topology(environment: EnvironmentSpec, hosts: Sequence[Host]) -> ClusterTopology | None:
    """The cluster's hosts among ``hosts`` (those whose env is ``environment``), judged: None
    where the environment declares no cluster, which then may have no ``etcd`` host, and where
    ``hosts`` hold no member and no etcd host (an inventory of the environment's other roles,
    such as its Redis hosts, deploys no part of the cluster)."""
    etcd_hosts = [host for host in hosts if ETCD_GROUP in host.groups]
    member_hosts = [host for host in hosts if MEMBERS_GROUP in host.groups]
    cluster = environment.timescaledb.cluster
    if cluster is None:
        if etcd_hosts:
            raise SpecError(
                not_set_line(
                    f"Pulumi.{environment.name}.yaml",
                    "timescaledb.cluster",
                    f"host {etcd_hosts[0].name} is in the etcd group, which runs a cluster's DCS",
                )
            )
        return None
    if not etcd_hosts and not member_hosts:
        return None
    for host in etcd_hosts:
        if not _MEMBER_NAME.fullmatch(host.name):
            raise SpecError(
                f"inventory: host {shown(host.name)} of the etcd group: an etcd member name "
                "is letters, digits, '.', '_' and '-', at most 63"
            )
    topology = ClusterTopology(
        etcd=_cluster_hosts(etcd_hosts),
        members=_cluster_hosts(member_hosts),
    )
    _check_etcd_size(environment, topology.etcd)
    addresses = [host.private_address for host in topology.etcd]
    for address in addresses:
        if addresses.count(address) > 1:
            raise SpecError(
                f"inventory: private_address {address} is given to more than one host of the "
                "etcd group: each member needs its own"
            )
    if cluster.synchronous_mode_strict and len(topology.members) == 1:
        raise SpecError(
            f"Pulumi.{environment.name}.yaml: datalayer:timescaledb.cluster."
            "synchronous_mode_strict is true with one host in the timescaledb group "
            f"({topology.members[0].name}): with no replica to confirm them, writes would wait "
            "forever"
        )
    return topology


def scrape_hosts(
    environment: EnvironmentSpec, hosts: Sequence[Host]
) -> dict[str, tuple[ScrapeHost, ...]] | None:
    """What the ``prometheus`` hosts among ``hosts`` (those of ``environment``) scrape: the
    hosts of each scraped group, at their ``private_address``; None where no host of
    ``environment`` is in ``prometheus``. A :class:`SpecError` for a ``prometheus`` host of an
    environment without ``monitoring``, a ``scrape_groups`` entry with no host here, or a
    scraped host without a ``private_address``."""
    prometheus_hosts = [host for host in hosts if PROMETHEUS_GROUP in host.groups]
    if not prometheus_hosts:
        return None
    if environment.monitoring is None:
        raise SpecError(
            not_set_line(
                f"Pulumi.{environment.name}.yaml",
                "monitoring",
                f"host {prometheus_hosts[0].name} is in the prometheus group, which runs the "
                "environment's Prometheus",
            )
        )
    present = [group for group in SCRAPE_GROUPS if any(group in host.groups for host in hosts)]
    for group in environment.monitoring.prometheus.scrape_groups or ():
        if group not in present:
            raise SpecError(
                f"Pulumi.{environment.name}.yaml: datalayer:monitoring.prometheus.scrape_groups "
                f"names {group}, a group with no host of environment {environment.name} in the "
                f"inventory (its groups: {', '.join(present)})"
            )
    return {
        group: tuple(
            ScrapeHost(host.name, tuple(host.groups), private_address(host.name, host.data))
            for host in hosts
            if group in host.groups
        )
        for group in scraped_groups(environment, present)
    }


def _check_monitored(environments: Sequence[EnvironmentSpec], hosts: Sequence[Host]) -> None:
    """An inventory with ``prometheus`` hosts must have one for every environment of its own
    that declares ``monitoring``: otherwise that environment's exporters run unscraped."""
    watched = {
        environment_name(host.name, host.data) for host in hosts if PROMETHEUS_GROUP in host.groups
    }
    if not watched:
        return
    for environment in environments:
        if environment.monitoring is not None and environment.name not in watched:
            raise SpecError(
                f"inventory: environment {environment.name} declares monitoring, but no host "
                "of it is in the prometheus group, which holds hosts of environment "
                f"{', '.join(sorted(watched))} only"
            )


def judge_inventory(
    inventory: Inventory,
    judge: Callable[[EnvironmentSpec, Host, ClusterTopology | None], Judged],
) -> dict[str, Judged]:
    """``judge`` of every host of ``inventory`` with its environment and its environment's
    cluster topology, by host name.

    Each environment is read and validated once, however many hosts name it; the first host
    whose data, environment, cluster or ``judge`` fails stops the whole inventory with its one
    line.
    """
    environments: dict[str, EnvironmentSpec] = {}
    hosts: dict[str, list[Host]] = {}
    for host in inventory:
        name = environment_name(host.name, host.data)
        if name not in environments:
            environments[name] = load_environment(name)
        hosts.setdefault(name, []).append(host)
    topologies = {
        name: cluster_topology(environment, hosts[name])
        for name, environment in environments.items()
    }
    for name, environment in environments.items():
        scrape_hosts(environment, hosts[name])
    _check_monitored(list(environments.values()), list(inventory))
    for environment in environments.values():
        judge_declared_drill(environment, inventory)
    judged: dict[str, Judged] = {}
    for host in inventory:
        name = environment_name(host.name, host.data)
        judged[host.name] = judge(environments[name], host, topologies[name])
    return judged
