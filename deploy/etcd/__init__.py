"""The etcd deploy: Debian's etcd-server as one member of the cluster's DCS, with authentication.

Run by ``deploy/site.py`` on the inventory's ``etcd`` group, before TimescaleDB (Patroni needs
the DCS); callable from any other pyinfra deploy as ``etcd(environment, topology, passwords)``.
"""

from pyinfra.api.deploy import deploy
from pyinfra.context import host

from datalayer.etcd.authentication import patroni_prefix
from datalayer.etcd.config import local_client_url, render_environment_file
from datalayer.etcd.layout import DEBIAN_LAYOUT
from datalayer.etcd.passwords import EtcdPasswords
from datalayer.etcd.topology import ClusterTopology
from datalayer.spec import EnvironmentSpec
from datalayer.spec.cluster import Cluster
from deploy import dpkg
from deploy.etcd import operations
from deploy.operations import packages_installed, units_enabled_and_running


def cluster_section(environment: EnvironmentSpec) -> Cluster:
    """The environment's cluster; preflight refuses an ``etcd`` group without one."""
    cluster = environment.timescaledb.cluster
    assert cluster is not None, "deploy/inventory.py refuses an etcd group without a cluster"
    return cluster


@deploy("etcd")
def etcd(environment: EnvironmentSpec, topology: ClusterTopology, passwords: EtcdPasswords) -> None:
    """Install, configure and start this host's etcd member, and turn authentication on.

    + environment: the validated environment spec, with ``timescaledb.cluster``
    + topology: the inventory's etcd and timescaledb hosts (``deploy.inventory``)
    + passwords: root's and patroni's etcd passwords, read before the deploy starts

    The configuration is written before the package is installed: Debian's postinst starts etcd
    at once, and a first start without it would bootstrap a one-member cluster
    (``datalayer.etcd.layout``). Users and roles are the cluster's, so the first host of the
    etcd group sets them, once every member runs.
    """
    cluster = cluster_section(environment)
    layout = DEBIAN_LAYOUT
    dpkg.finish_interrupted_install(
        name="Finish an interrupted package install, waiting for a running apt or dpkg",
    )
    operations.configuration(
        name="Install etcd's configuration; restart etcd if it changed",
        layout=layout,
        environment_file=render_environment_file(
            cluster.etcd, environment.name, topology, host.name, layout
        ),
    )
    packages_installed(
        name=f"Install {layout.server_package} and {layout.client_package}",
        packages=[layout.server_package, layout.client_package],
    )
    units_enabled_and_running(name=f"Enable and start {layout.service}", units=[layout.service])
    if host.name == topology.etcd[0].name:
        operations.authentication(
            name="Turn etcd's authentication on, Patroni's user limited to its keys",
            endpoint=local_client_url(cluster.etcd),
            prefix=patroni_prefix(cluster.scope),
            root_password=passwords.root,
            patroni_password=passwords.patroni,
        )
