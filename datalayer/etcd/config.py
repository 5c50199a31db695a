"""Render etcd's configuration for one member, and the endpoints its clients use.

The whole of ``/etc/default/etcd`` is rendered from ``templates/etcd/etcd.env.j2``: every member's
name, URLs and the initial cluster come from the inventory's ``etcd`` group (names and
``private_address``), the ports from the spec (``timescaledb.cluster.etcd``).

``ETCD_INITIAL_CLUSTER_STATE`` is always ``new``. etcd reads it only while the data directory
holds no write-ahead log (``server/etcdserver/server.go:411-472`` at v3.5.16: ``case
!haveWAL && !cfg.NewCluster`` joins, ``case !haveWAL && cfg.NewCluster`` bootstraps, ``case
haveWAL`` restarts from the log, ignoring it), so on every later start it changes nothing and a
rerun renders the same bytes. ``existing`` is only for a member added to a running cluster with
``etcdctl member add``, which this deploy does not do: it bootstraps a cluster and keeps it,
and changing the members of a running cluster is left to the operator (see the README).
"""

from datalayer.etcd.layout import DEBIAN_LAYOUT, EtcdLayout
from datalayer.etcd.topology import ClusterTopology
from datalayer.render import render
from datalayer.spec.cluster import Etcd


def _url(address: str, port: int) -> str:
    # Plain HTTP: the members and Patroni talk on the private network; see the README.
    return f"http://{address}:{port}"


def cluster_token(environment_name: str) -> str:
    """``ETCD_INITIAL_CLUSTER_TOKEN``: one per environment, so that members of two
    environments' clusters never take each other for peers while bootstrapping."""
    return f"datalayer-{environment_name}"


def client_endpoints(spec: Etcd, topology: ClusterTopology) -> list[str]:
    """Every member's client URL (``http://ADDRESS:PORT``), in inventory order: where Patroni
    and etcdctl on the other hosts reach the DCS."""
    return [_url(host.private_address, spec.client_port) for host in topology.etcd]


def render_environment_file(
    spec: Etcd,
    environment_name: str,
    topology: ClusterTopology,
    member_name: str,
    layout: EtcdLayout = DEBIAN_LAYOUT,
) -> str:
    """The complete ``/etc/default/etcd`` of the etcd member ``member_name``."""
    return render(
        "etcd/etcd.env.j2",
        environment_name=environment_name,
        layout=layout,
        member=topology.etcd_host(member_name),
        peers=topology.etcd,
        cluster_token=cluster_token(environment_name),
        peer_url=lambda host: _url(host.private_address, spec.peer_port),
        client_url=lambda address: _url(address, spec.client_port),
    )


def local_client_url(spec: Etcd) -> str:
    """The client URL on the member's own loopback, where the deploy's etcdctl connects."""
    return _url("127.0.0.1", spec.client_port)
