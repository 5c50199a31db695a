"""The restore drill's part of the hosts: the scratch host made ready, and the drill's timer.

``scratch_host`` installs what a restore needs with the TimescaleDB deploy's own steps (its
packages, pgBackRest's configuration and the repository's keys, the hooks' runtime and plan),
but no stanza, no archiving and no server of the source's: the restored copy gets a data
directory of its own (``drill_layout``), which ``datalayer.onhost.restore_drill`` empties and
restores into at each drill. ``restore_drill_timer`` schedules that drill on the host the spec
declares (``monitoring.restore_drill``). ``python -m datalayer.restore drill`` runs the same
step from the control machine, with the source's counts to compare.
"""

from dataclasses import dataclass, replace

from pyinfra.api.deploy import deploy
from pyinfra.context import host
from pyinfra.facts.server import LinuxDistribution
from pyinfra.operations import systemd

from datalayer.onhost.hooks.plan import HookPlan
from datalayer.onhost.restore_drill import RestoreDrillPlan
from datalayer.render import render
from datalayer.spec import EnvironmentSpec
from datalayer.spec.restore_drill import DEFAULT_DRILL_PORT
from datalayer.timescaledb.backup.keys import RepositoryKeys
from datalayer.timescaledb.backup.sftp import SftpAccess
from datalayer.timescaledb.config import SHARED_PRELOAD_LIBRARIES
from datalayer.timescaledb.layout import PostgresqlLayout, debian_layout
from datalayer.timescaledb.packages import package_plan
from deploy import apt, dpkg, operations
from deploy.onhost import plan_file, step_command, upload_step
from deploy.operations import WantedFile
from deploy.restore_drill.targets import declared_drill
from deploy.timescaledb import backup, hooks

DRILL_DIRECTORY = "/var/lib/datalayer/restore-drill"
"""Where the restored copies live on the scratch host, one data directory per version."""
TEXTFILE_DIRECTORY = "/var/lib/prometheus/node-exporter"
"""node-exporter's textfile collector directory, Debian's default for prometheus-node-exporter
(``--collector.textfile.directory``): every ``*.prom`` file there is exported."""
METRIC_FILE = f"{TEXTFILE_DIRECTORY}/datalayer_restore_drill.prom"
UNIT_DIRECTORY = "/etc/systemd/system"
SCRATCH_DEPLOY_FILE = "deploy/restore_drill/scratch.py"
"""The deploy file that makes a scratch host ready, which the command runs with pyinfra."""
ENVIRONMENT_VARIABLE = "DATALAYER_RESTORE_DRILL_ENV"
"""Tells ``SCRATCH_DEPLOY_FILE`` the source's environment."""
TARGET_VARIABLE = "DATALAYER_RESTORE_DRILL_TARGET"
"""Tells ``SCRATCH_DEPLOY_FILE`` the scratch host among the hosts pyinfra is limited to."""
STEP = "restore_drill"
"""The host-side step's name: its plan is ``plan_file(STEP)``."""


@dataclass(frozen=True)
class DrillUnit:
    """The drill's oneshot service and its timer."""

    schedule: str
    service: str = "datalayer-restore-drill.service"
    timer: str = "datalayer-restore-drill.timer"


def drill_port(environment: EnvironmentSpec) -> int:
    """The restored copy's port: the declared drill's, else the spec's default."""
    monitoring = environment.monitoring
    drill = None if monitoring is None else monitoring.restore_drill
    return DEFAULT_DRILL_PORT if drill is None else drill.port


DRILL_CLUSTER = "restore-drill"
"""postgresql-common's name of the copy's cluster (``psql --cluster 17/restore-drill``), beside
the host's own ``main``; its start.conf says ``manual``, so that no boot starts it."""


def drill_layout(environment: EnvironmentSpec) -> PostgresqlLayout:
    """postgresql-common's layout of the cluster ``DRILL_CLUSTER``, with the drill's own data
    directory; no unit runs it (``pg_ctl`` does, for the drill's span only)."""
    version = environment.timescaledb.version
    return replace(
        debian_layout(environment.timescaledb.model_copy(update={"debian_cluster": DRILL_CLUSTER})),
        data_directory=f"{DRILL_DIRECTORY}/{version}",
        pid_file=None,
        service=None,
    )


def drill_environment(environment: EnvironmentSpec) -> EnvironmentSpec:
    """``environment`` as the scratch host's pgBackRest sees it: the stanza's server is the
    restored copy, on the drill's port (the spec's values are checked; this only moves them)."""
    spec = environment.timescaledb.model_copy(update={"port": drill_port(environment)})
    return environment.model_copy(update={"timescaledb": spec})


def drill_plan(environment: EnvironmentSpec) -> RestoreDrillPlan:
    """What the host-side step needs, its configuration files rendered here."""
    layout = drill_layout(environment)
    port = drill_port(environment)
    context = {"environment_name": environment.name, "layout": layout}
    return RestoreDrillPlan(
        environment=environment.name,
        stanza=environment.timescaledb.backup.stanza,
        version=layout.version,
        data_directory=layout.data_directory,
        config_directory=layout.config_directory,
        port=port,
        socket_directory=layout.socket_directory,
        database=environment.timescaledb.database,
        postgresql_conf=render(
            "restore_drill/postgresql.conf.j2",
            port=port,
            shared_preload_libraries=SHARED_PRELOAD_LIBRARIES,
            **context,
        ),
        pg_hba_conf=render("restore_drill/pg_hba.conf.j2", **context),
        pg_ident_conf=render("restore_drill/pg_ident.conf.j2", **context),
        start_conf=render("restore_drill/start.conf.j2", **context),
        log_file=f"{DRILL_DIRECTORY}/{layout.version}.log",
        hooks_command=hooks.remote_command("check", port),
        metric_file=METRIC_FILE,
    )


def drill_command(mode: str, *arguments: str) -> str:
    """The host-side step's command line (as root: it switches to postgres itself)."""
    return step_command("datalayer.onhost.restore_drill", mode, plan_file(STEP), *arguments)


@deploy("Restore drill scratch host")
def scratch_host(
    environment: EnvironmentSpec,
    keys: RepositoryKeys | None,
    sftp: SftpAccess | None,
    hooks_plan: HookPlan,
) -> None:
    """Make this host ready to restore ``environment``'s stanza: TimescaleDB's packages,
    pgBackRest reading the source's repository, the hooks' runtime and the drill's plan.

    + environment: the source's validated environment spec (its repository is s3 or sftp)
    + keys, sftp: the repository's keys or SSH key and server, judged before the deploy
    + hooks_plan: the hooks' plan (``datalayer.hooks.build.build_plan``), for their check

    Will not create a stanza, start a server or touch the cluster Debian's package creates:
    the restored copy is the drill's, in ``drill_layout``'s directory.
    """
    dpkg.finish_interrupted_install(
        name="Finish an interrupted package install, waiting for a running apt or dpkg",
    )
    release = host.get_fact(LinuxDistribution)["release_meta"]
    apt.install(package_plan(environment.timescaledb, release["ID"], release["VERSION_CODENAME"]))
    scratch = drill_environment(environment)
    backup.repository_files(scratch, drill_layout(environment), keys, sftp)
    hooks.install_runtime(hooks_plan)
    upload_step(
        f"Upload datalayer/onhost/ and the restore drill's plan for {environment.name}",
        STEP,
        drill_plan(environment),
    )


@deploy("Restore drill timer")
def restore_drill_timer(environment: EnvironmentSpec) -> None:
    """Schedule the drill on this scratch host (``scratch_host`` made it ready), when
    ``monitoring.restore_drill.schedule`` says.

    + environment: the source's validated environment spec, which declares the drill

    Each run restores the latest backup, runs the hooks' check against the copy, writes the
    metrics of its success to node-exporter's textfile directory and stops the copy.
    """
    drill = declared_drill(environment)
    assert drill is not None, "the timer is deployed on the declared drill's host"
    unit = DrillUnit(drill.schedule)
    context = {
        "environment_name": environment.name,
        "unit_directory": UNIT_DIRECTORY,
        "stanza": environment.timescaledb.backup.stanza,
        "unit": unit,
    }
    unit_files = operations.files_in_place(
        name=f"Install {unit.service} and {unit.timer} ({unit.schedule})",
        files=[
            WantedFile(
                f"{UNIT_DIRECTORY}/{unit.service}",
                render(
                    "restore_drill/restore-drill.service.j2",
                    command=drill_command("scheduled"),
                    **context,
                ).encode(),
                mode=0o644,
            ),
            WantedFile(
                f"{UNIT_DIRECTORY}/{unit.timer}",
                render("restore_drill/restore-drill.timer.j2", **context).encode(),
                mode=0o644,
            ),
        ],
    )
    systemd.daemon_reload(
        name="Reload systemd for the changed restore drill units", _if=unit_files.did_change
    )
    operations.units_enabled_and_running(name=f"Enable and start {unit.timer}", units=[unit.timer])
