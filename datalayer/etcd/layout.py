"""Where etcd keeps its files and how it runs: Debian 13's etcd-server 3.5.16 under systemd.

Read from the package itself (``apt-get download etcd-server``, 3.5.16-4): its unit
``/usr/lib/systemd/system/etcd.service`` runs ``/usr/bin/etcd`` as user ``etcd`` with
``Environment=ETCD_DATA_DIR=/var/lib/etcd/default`` and ``EnvironmentFile=-/etc/default/%p``
(so ``/etc/default/etcd``, a conffile of comments only), and its postinst creates the ``etcd``
user with home ``/var/lib/etcd`` (mode 0700), then enables and starts the unit. Started so, etcd
bootstraps a one-member cluster named after the host in ``/var/lib/etcd/default``, and once a
data directory holds a write-ahead log etcd ignores every ``initial-*`` setting on later starts
(``server/etcdserver/server.go:357,472`` at v3.5.16, ``case haveWAL``).

Hence the deploy writes ``/etc/default/etcd`` before the package is installed (apt keeps a
conffile already on disk: pyinfra's ``noninteractive_apt`` passes ``--force-confold``), so the
package's first start is already a member of the declared cluster; and it keeps the cluster in a
data directory of its own, so a one-member cluster left in ``/var/lib/etcd/default`` by a
package installed earlier is never taken for ours (it is left where it is: not ours to delete).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class EtcdLayout:
    """Paths, unit and packages of one etcd member."""

    environment_file: str
    data_directory: str
    service: str
    server_package: str
    client_package: str


DEBIAN_LAYOUT = EtcdLayout(
    environment_file="/etc/default/etcd",
    # Under the etcd user's home, which the postinst makes 0700 and owns; etcd creates it.
    data_directory="/var/lib/etcd/datalayer",
    service="etcd.service",
    server_package="etcd-server",
    # etcdctl: the deploy's authentication step and the checks use it on the host.
    client_package="etcd-client",
)
