"""Whether a member must rejoin its running cluster: a host whose data directory is gone.

A member starts as one of a new cluster (``ETCD_INITIAL_CLUSTER_STATE`` unset: etcd's default
``new``) until its data directory holds a write-ahead log, and is then restarted from that log,
whatever the initial settings say (``server/etcdserver/server.go:411-472`` at v3.5.16). A
host whose log is gone (a replaced droplet, a wiped disk) while the other members still run
the cluster cannot start as new: etcd asks its peers first and stops with ``member ... has
already been bootstrapped`` (:437-446, ``isMemberBootstrapped``). It must be removed from the
cluster, added again (``etcdctl member remove``, ``member add``), and started once with
``existing``, which joins through the peers (:411-436). This module decides that from what the
host and its peers report; ``deploy.etcd.operations.membership`` makes the calls.
"""

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Member:
    """One line of ``etcdctl member list``: ``ID, STATUS, NAME, PEER URLS, CLIENT URLS,
    IS LEARNER`` (``makeMemberListTable``, ``etcdctl/ctlv3/command/printer.go:164-185`` at
    v3.5.16); a member added but not started yet is ``unstarted``, without a name."""

    id: str
    status: str
    name: str
    peer_urls: str


@dataclass(frozen=True)
class MembershipState:
    """+ has_log: the host's data directory holds a write-ahead log
    + members: the cluster's members as a peer lists them; empty when none answered"""

    has_log: bool
    members: tuple[Member, ...]


def parse_membership(lines: Sequence[str]) -> MembershipState:
    """The ``EtcdMembership`` fact's output: ``log`` or ``no-log``, then ``member`` lines."""
    members = []
    for line in lines:
        kind, _, rest = line.partition(" ")
        if kind == "member":
            fields = rest.split(", ")
            members.append(Member(fields[0], fields[1], fields[2], fields[3]))
    return MembershipState(has_log="log" in lines, members=tuple(members))


def member_to_replace(state: MembershipState, name: str) -> Member | None:
    """The cluster's record of member ``name`` when the host must rejoin: its log is gone and
    the running cluster lists it as started. None otherwise: a host with its log restarts from
    it, and one that no peer lists as started (a new cluster, still bootstrapping) starts new.
    """
    if state.has_log:
        return None
    for member in state.members:
        if member.name == name and member.status == "started":
            return member
    return None
