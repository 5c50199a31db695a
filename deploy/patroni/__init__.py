"""The Patroni deploy: PostgreSQL run by Patroni on etcd, one member per ``timescaledb`` host.

Called by the TimescaleDB deploy (``deploy/timescaledb``) when the spec declares
``timescaledb.cluster``, after PostgreSQL's packages are in place and etcd runs.
"""

from collections.abc import Sequence
from os.path import dirname

from pyinfra.api.deploy import deploy
from pyinfra.context import host
from pyinfra.operations import server

from datalayer.cluster.members import ClusterSecrets
from datalayer.cluster.patroni import (
    dynamic_configuration,
    patroni_config_path,
    render_patroni_config,
    replication_hba_lines,
)
from datalayer.cluster.timings import timings
from datalayer.etcd.topology import ClusterHost
from datalayer.monitoring.exporters import postgres_hba_lines
from datalayer.spec import EnvironmentSpec
from datalayer.timescaledb.config import render_pg_hba_conf, render_postgresql_conf
from datalayer.timescaledb.layout import PostgresqlLayout
from deploy.operations import (
    WantedDirectory,
    WantedFile,
    checked_file_installed,
    files_in_place,
    units_enabled_and_running,
)
from deploy.patroni import operations

START_CONF = (
    "# start.conf: written by datalayer (deploy/patroni). Patroni starts this cluster (its\n"
    "# patroni@ unit); postgresql-common's postgresql@ unit must never start it too.\n"
    "manual\n"
)
PG_IDENT_CONF = (
    "# pg_ident.conf: written by datalayer (deploy/patroni): no user name maps; peer\n"
    "# authentication maps each OS user to the role of the same name.\n"
)
BOOTSTRAP_TIMEOUT = 300
"""Seconds a member may take to run PostgreSQL once Patroni starts: the leader's initdb, or a
replica's base backup of the leader (a first deploy of three members starts them together)."""


@deploy("Patroni")
def patroni(
    environment: EnvironmentSpec,
    layout: PostgresqlLayout,
    member: ClusterHost,
    members: Sequence[ClusterHost],
    etcd_addresses: Sequence[str],
    secrets: ClusterSecrets,
) -> None:
    """Make this host a member of the cluster ``environment`` declares, run by Patroni.

    + environment: the validated environment spec, with ``timescaledb.cluster``
    + layout: the member's paths (``datalayer.timescaledb.layout.patroni_layout``)
    + member, members: this host and every member (inventory name, private address)
    + etcd_addresses: the private addresses of the ``etcd`` group's hosts
    + secrets: the REST API's, replication's, rewind's and etcd's passwords

    The rendered postgresql.conf and pg_hba.conf are installed
    whole; Patroni includes the first and reads the second. A changed file is put in force by
    ``patronictl reload``; a setting only a restart applies by ``patronictl restart
    --pending``, replicas first, the leader last. Will not drop a cluster that holds data, nor
    restart PostgreSQL outside Patroni.
    """
    spec = environment.timescaledb
    cluster = spec.cluster
    assert cluster is not None, "the Patroni deploy needs timescaledb.cluster"
    assert layout.service is not None
    postgresql_conf = render_postgresql_conf(spec, layout, environment.name)
    config_path = patroni_config_path(layout)
    address, port = member.private_address, cluster.rest_api_port
    operations.debian_cluster_replaced(
        name=f"Drop the empty {layout.cluster_name} cluster the package made, for Patroni",
        version=layout.version,
        cluster=layout.cluster,
        data_directory=layout.data_directory,
    )
    pg_hba_conf = render_pg_hba_conf(
        spec,
        environment.name,
        replication_hba_lines(cluster, members, spec.tls.enabled),
        postgres_hba_lines(environment),
    )
    files = files_in_place(
        name=f"Install {layout.postgresql_conf}, pg_hba.conf, pg_ident.conf and start.conf",
        # pg_dropcluster removes the version's data directory parent with its last cluster.
        directories=[
            WantedDirectory(directory, mode=0o755, user="postgres", group="postgres")
            for directory in (layout.config_directory, dirname(layout.data_directory))
        ],
        files=[
            _postgres_file(layout.postgresql_conf, postgresql_conf, 0o644),
            _postgres_file(layout.pg_hba_conf, pg_hba_conf, 0o640),
            _postgres_file(layout.pg_ident_conf, PG_IDENT_CONF, 0o640),
            _postgres_file(f"{layout.config_directory}/start.conf", START_CONF, 0o644),
        ],
    )
    configuration = checked_file_installed(
        name=f"Install {config_path}, checked by Patroni's validator",
        wanted=WantedFile(
            config_path,
            render_patroni_config(
                spec, layout, environment.name, postgresql_conf, member, etcd_addresses, secrets
            ).encode(),
            mode=0o600,
            user="postgres",
            group="postgres",
        ),
        check="patroni --validate-config --ignore-listen-port {candidate}",
        checker="Patroni's validator",
    )
    started = units_enabled_and_running(
        name=f"Enable and start {layout.service}", units=[layout.service]
    )
    operations.running(
        name="Wait until Patroni runs PostgreSQL",
        timeout=BOOTSTRAP_TIMEOUT,
        unit=layout.service,
        address=address,
        port=port,
    )
    loop_wait = timings(cluster.recovery_time_target).loop_wait
    server.shell(
        name="Put the changed files in force through Patroni (patronictl reload)",
        commands=[
            operations.patronictl(config_path, "reload", cluster.scope, host.name, "--force")
            # Patroni reloads in its next loop and only then flags a restart the change owes,
            # which the restart steps below read.
            + f" && sleep {loop_wait + 1}"
        ],
        _if=lambda: (files.did_change() or configuration.did_change()) and not started.did_change(),
    )
    operations.dynamic_configuration(
        name="Bring Patroni's DCS configuration to the spec (on the leader)",
        wanted=dynamic_configuration(cluster, postgresql_conf),
        config_path=config_path,
        scope=cluster.scope,
        settle=loop_wait + 1,
        address=address,
        port=port,
    )
    for role in ("replica", "primary"):
        operations.restart_owed(
            name=f"Restart PostgreSQL through Patroni if it owes a restart ({role})",
            role=role,
            config_path=config_path,
            scope=cluster.scope,
            address=address,
            port=port,
        )


def _postgres_file(path: str, content: str, mode: int) -> WantedFile:
    """A file of the postgres user's, which Patroni and PostgreSQL read."""
    return WantedFile(path, content.encode(), mode=mode, user="postgres", group="postgres")
