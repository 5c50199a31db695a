"""The hosts of a cluster as the inventory gives them: names and private addresses.

The inventory contract (``deploy/inventory.py``) reads them once, before any host is contacted;
the etcd configuration and Patroni's take them from here, so every member names its peers the
same way.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class ClusterHost:
    """One host of the ``etcd`` or ``timescaledb`` group.

    + name: the inventory's host name, which is also the etcd member's name
    + private_address: host data ``private_address``, the IP address the other hosts reach it at
    """

    name: str
    private_address: str


@dataclass(frozen=True)
class ClusterTopology:
    """Every host of a cluster, in inventory order.

    + etcd: the ``etcd`` group (3 or 5 hosts), the DCS members
    + members: the ``timescaledb`` group, the Patroni members
    """

    etcd: tuple[ClusterHost, ...]
    members: tuple[ClusterHost, ...]

    def etcd_host(self, name: str) -> ClusterHost:
        """The etcd member ``name``; a KeyError if that host is not in the etcd group."""
        for found in self.etcd:
            if found.name == name:
                return found
        raise KeyError(name)
