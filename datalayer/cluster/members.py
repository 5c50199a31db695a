"""What a member knows of its cluster: the other hosts (``datalayer.etcd.topology``, judged
from the inventory before connecting) and the secrets Patroni's configuration carries."""

import os
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import SecretStr

from datalayer.etcd.topology import ClusterHost, ClusterTopology
from datalayer.secrets import read_secret
from datalayer.spec.cluster import Cluster


@dataclass(frozen=True)
class ClusterSecrets:
    """The passwords Patroni's configuration carries; never printed (``SecretStr``)."""

    rest_api: SecretStr
    replication: SecretStr
    rewind: SecretStr
    etcd: SecretStr


def cluster_secrets(cluster: Cluster, environ: Mapping[str, str] = os.environ) -> ClusterSecrets:
    """Every secret Patroni needs, all read before any is used (a missing one stops the deploy
    before any change, naming the variable)."""
    return ClusterSecrets(
        rest_api=read_secret(cluster.rest_api_password_secret, environ),
        replication=read_secret(cluster.replication_password_secret, environ),
        rewind=read_secret(cluster.rewind_password_secret, environ),
        etcd=read_secret(cluster.etcd.password_secret, environ),
    )


@dataclass(frozen=True)
class Membership:
    """What one member's deploy needs to know of the cluster, judged before connecting.

    + member: this host
    + topology: the cluster's hosts: the members (``timescaledb``) and etcd's (``etcd``)
    + secrets: the passwords Patroni's configuration carries
    """

    member: ClusterHost
    topology: ClusterTopology
    secrets: ClusterSecrets

    @property
    def etcd_addresses(self) -> tuple[str, ...]:
        """Where Patroni reaches etcd: the ``etcd`` hosts' private addresses."""
        return tuple(etcd.private_address for etcd in self.topology.etcd)


def membership(name: str, topology: ClusterTopology, secrets: ClusterSecrets) -> Membership:
    """The membership of host ``name``, one of ``topology``'s members."""
    member = next(member for member in topology.members if member.name == name)
    return Membership(member, topology, secrets)
