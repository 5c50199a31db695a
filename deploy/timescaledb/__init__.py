"""The TimescaleDB deploy: PostgreSQL with the timescaledb extension, tuned and locked down.

Run by ``deploy/site.py`` on the inventory's ``timescaledb`` group; callable from any other
pyinfra deploy as ``timescaledb(environment, passwords, plan, repository_keys, sftp)``.
"""

from pydantic import SecretStr
from pyinfra.api.deploy import deploy
from pyinfra.context import host
from pyinfra.facts.server import LinuxDistribution

from datalayer.cluster.members import Membership
from datalayer.monitoring.exporters import postgres_hba_lines
from datalayer.onhost.hooks.plan import HookPlan
from datalayer.spec import EnvironmentSpec
from datalayer.timescaledb.backup.keys import RepositoryKeys
from datalayer.timescaledb.backup.sftp import SftpAccess
from datalayer.timescaledb.config import render_pg_hba_conf, render_postgresql_conf
from datalayer.timescaledb.layout import debian_layout
from datalayer.timescaledb.packages import package_plan
from deploy import apt, dpkg
from deploy.operations import units_enabled_and_running
from deploy.timescaledb import backup, hooks, operations
from deploy.timescaledb.cluster import clustered


@deploy("TimescaleDB")
def timescaledb(
    environment: EnvironmentSpec,
    passwords: dict[str, SecretStr],
    plan: HookPlan,
    repository_keys: RepositoryKeys | None,
    sftp: SftpAccess | None,
    membership: Membership | None = None,
) -> None:
    """Install, configure and start TimescaleDB as ``environment`` declares, archiving its WAL
    and backing it up with pgBackRest, then run the post-provision hooks.

    With ``timescaledb.cluster`` declared, the host is a member of the cluster instead
    (``deploy.timescaledb.cluster.clustered``): Patroni runs PostgreSQL, HAProxy routes
    clients, the hooks run on the leader.

    + environment: the validated environment spec
    + passwords: every login role's password (``datalayer.secrets.role_passwords``), read before
      the deploy starts so that a missing secret stops it before any change
    + plan: the hooks' plan (``datalayer.hooks.build.build_plan``), built before the deploy
      starts for the same reason
    + repository_keys: the backup repository's keys (``datalayer.timescaledb.backup.keys.
      repository_keys``), read before the deploy starts too; None when it needs none
    + sftp: an SFTP repository's key pair and server (``deploy.preflight``), judged before the
      deploy starts; None for any other repository
    + membership: the cluster as this member sees it, judged before the deploy starts; given
      exactly when the spec declares ``timescaledb.cluster``
    """
    spec = environment.timescaledb
    if spec.cluster is not None:
        assert membership is not None, "a cluster member's deploy needs its membership"
        clustered(environment, passwords, plan, repository_keys, sftp, membership)
        return
    layout = debian_layout(spec)
    assert layout.service is not None  # the Debian layout always runs under systemd
    dpkg.finish_interrupted_install(
        name="Finish an interrupted package install, waiting for a running apt or dpkg",
    )
    release = host.get_fact(LinuxDistribution)["release_meta"]
    apt.install(package_plan(spec, release["ID"], release["VERSION_CODENAME"]))
    operations.cluster(
        name=f"Create the PostgreSQL {layout.cluster_name} cluster if missing",
        version=spec.version,
        cluster=spec.debian_cluster,
        data_directory=layout.data_directory,
    )
    repository_operations = backup.repository(environment, layout, repository_keys, sftp)
    operations.configuration(
        name="Install postgresql.conf and pg_hba.conf; reload or restart as PostgreSQL requires",
        layout=layout,
        postgresql_conf=render_postgresql_conf(spec, layout, environment.name),
        pg_hba_conf=render_pg_hba_conf(
            spec, environment.name, monitoring_lines=postgres_hba_lines(environment)
        ),
    )
    units_enabled_and_running(name=f"Enable and start {layout.service}", units=[layout.service])
    backup.verify_and_schedule(environment, layout, repository_operations)
    hooks.install_runtime(plan)
    hooks.post_provision_hooks(
        name="Bring the database to the spec: roles, privileges, migrations, policies",
        version=spec.version,
        cluster=spec.debian_cluster,
        port=spec.port,
        passwords=passwords,
    )
