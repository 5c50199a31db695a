"""Who is in the cluster: the inventory's ``timescaledb`` hosts, and the secrets they share."""

from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import SecretStr

from datalayer.secrets import read_secret
from datalayer.spec.cluster import Cluster


@dataclass(frozen=True)
class Member:
    """One host: its inventory name (Patroni's member ``name``) and the private address the
    other members, etcd and HAProxy reach it at (its host data's ``private_address``)."""

    name: str
    address: str


@dataclass(frozen=True)
class ClusterSecrets:
    """The passwords Patroni's configuration carries; never printed (``SecretStr``)."""

    rest_api: SecretStr
    replication: SecretStr
    rewind: SecretStr
    etcd: SecretStr


def cluster_secrets(cluster: Cluster, environ: Mapping[str, str]) -> ClusterSecrets:
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
    + members: every host of the ``timescaledb`` group, in inventory order
    + etcd_addresses: the private addresses of the ``etcd`` group's hosts
    + secrets: the passwords Patroni's configuration carries
    """

    member: Member
    members: tuple[Member, ...]
    etcd_addresses: tuple[str, ...]
    secrets: ClusterSecrets
