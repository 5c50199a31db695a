"""The HAProxy deploy: on every cluster member, the read-write and read-only ports.

Called by the TimescaleDB deploy (``deploy/timescaledb``) after Patroni, whose REST API
answers HAProxy's checks.
"""

from collections.abc import Sequence

from pyinfra.api.deploy import deploy
from pyinfra.operations import server

from datalayer.cluster.haproxy import HAPROXY_CONFIG, render_haproxy_config
from datalayer.etcd.topology import ClusterHost
from datalayer.spec import EnvironmentSpec
from deploy.operations import WantedFile, checked_file_installed, units_enabled_and_running

SERVICE = "haproxy"


@deploy("HAProxy")
def haproxy(environment: EnvironmentSpec, members: Sequence[ClusterHost]) -> None:
    """Install haproxy.cfg, checked by ``haproxy -c`` first, and run HAProxy.

    + environment: the validated environment spec, with ``timescaledb.cluster``
    + members: every member (inventory name, private address), the servers of both ports

    A changed file is put in force by a reload (``systemctl reload haproxy``: Debian's unit
    checks the file again and hands the ports to a new process, which lets the old one finish
    its sessions); never a restart, which would cut every client's session.
    """
    installed = checked_file_installed(
        name=f"Install {HAPROXY_CONFIG}, checked by haproxy -c",
        wanted=WantedFile(
            HAPROXY_CONFIG,
            render_haproxy_config(environment.timescaledb, environment.name, members).encode(),
            mode=0o644,
        ),
        check="haproxy -c -q -f {candidate}",
        checker="HAProxy",
    )
    started = units_enabled_and_running(name=f"Enable and start {SERVICE}", units=[SERVICE])
    server.shell(
        name="Reload HAProxy onto the new configuration",
        commands=[f"systemctl reload {SERVICE}"],
        _if=lambda: installed.did_change() and not started.did_change(),
    )
