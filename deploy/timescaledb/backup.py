"""WAL archiving and backups of the TimescaleDB cluster with pgBackRest, in two steps.

``repository`` comes before PostgreSQL's configuration: pgBackRest's files and the stanza exist
before the server restarts with archive_mode on, so its first archive attempt already succeeds.
``verify_and_schedule`` comes once the server runs: ``pgbackrest check`` proves that archiving
works, then systemd timers take the full and differential backups.
"""

from io import StringIO

from pydantic import SecretStr
from pyinfra.api.operation import OperationMeta
from pyinfra.operations import files, systemd
from pyinfra.operations.util import any_changed

from datalayer.spec import EnvironmentSpec
from datalayer.timescaledb.backup.keys import RepositoryKeys
from datalayer.timescaledb.backup.layout import PGBACKREST_PATHS, archive_command, backup_units
from datalayer.timescaledb.backup.render import (
    render_backup_service,
    render_backup_timer,
    render_pgbackrest_conf,
    render_repository_keys,
)
from datalayer.timescaledb.layout import PostgresqlLayout
from deploy.timescaledb import pgbackrest


def repository(
    environment: EnvironmentSpec, layout: PostgresqlLayout, keys: RepositoryKeys | None
) -> tuple[OperationMeta, ...]:
    """pgBackRest's configuration, the repository directory and the stanza.

    + environment: the validated environment spec
    + layout: the cluster's paths (pgBackRest's stanza points at its data directory)
    + keys: the S3 repository's keys (``repository_keys``), None for a posix repository

    Returns the operations that change the repository (configuration, keys, stanza): whether
    they did is what ``verify_and_schedule`` needs to know. Nothing here reads the host while the
    deploy is prepared: a host whose package install was cut has no postgres user to read it as
    until ``deploy.dpkg.finish_interrupted_install`` has run.
    """
    backup = environment.timescaledb.backup
    paths = PGBACKREST_PATHS
    pgbackrest_conf = render_pgbackrest_conf(environment.timescaledb, layout, environment.name)
    keys_file = None if keys is None else render_repository_keys(backup, keys, environment.name)

    files.directory(
        name=f"Create {paths.config_directory}",
        path=paths.config_directory,
        user="root",
        group="root",
        mode="755",
    )
    files.directory(
        name=f"Create {paths.include_directory}, readable by postgres only",
        path=paths.include_directory,
        user="root",
        group="postgres",
        mode="750",
    )
    if backup.repository.type == "posix":
        files.directory(
            name=f"Create the pgBackRest repository {backup.repository.path}",
            path=backup.repository.path,
            user="postgres",
            group="postgres",
            mode="750",
        )
    configuration = files.put(
        name=f"Install {paths.config_file}",
        src=StringIO(pgbackrest_conf),
        dest=paths.config_file,
        user="root",
        group="postgres",
        mode="640",
    )
    keys_installed = pgbackrest.repository_keys(
        name=(
            "Remove the keys of an earlier S3 repository, if any"
            if keys_file is None
            else f"Install the S3 repository keys in {paths.keys_file}"
        ),
        path=paths.keys_file,
        content=None if keys_file is None else SecretStr(keys_file),
    )
    stanza = pgbackrest.stanza(
        name=f"Create the pgBackRest stanza {backup.stanza} if missing",
        stanza=backup.stanza,
    )
    return configuration, keys_installed, stanza


def verify_and_schedule(
    environment: EnvironmentSpec,
    layout: PostgresqlLayout,
    repository_operations: tuple[OperationMeta, ...],
) -> None:
    """Check that the running server archives, then schedule the backups.

    + environment: the validated environment spec
    + layout: the cluster's paths and service
    + repository_operations: what ``repository`` returned
    """
    spec = environment.timescaledb
    backup = spec.backup
    pgbackrest.check(
        name=f"Check that PostgreSQL archives to stanza {backup.stanza} (pgbackrest check)",
        stanza=backup.stanza,
        version=layout.version,
        cluster=layout.cluster,
        archive_command=archive_command(backup),
        repository_operations=repository_operations,
    )
    units = backup_units(backup)
    services = [
        files.put(
            name=f"Install {unit.service}",
            src=StringIO(render_backup_service(backup, layout, unit, environment.name)),
            dest=f"{PGBACKREST_PATHS.unit_directory}/{unit.service}",
            user="root",
            group="root",
            mode="644",
        )
        for unit in units
    ]
    timers = [
        files.put(
            name=f"Install {unit.timer} ({unit.schedule})",
            src=StringIO(render_backup_timer(backup, unit, environment.name)),
            dest=f"{PGBACKREST_PATHS.unit_directory}/{unit.timer}",
            user="root",
            group="root",
            mode="644",
        )
        for unit in units
    ]
    systemd.daemon_reload(
        name="Reload systemd for the changed backup units",
        _if=any_changed(*services, *timers),
    )
    # daemon-reload alone puts a changed OnCalendar= in force: no timer restart is needed.
    for unit in units:
        systemd.service(
            name=f"Enable and start {unit.timer}",
            service=unit.timer,
            running=True,
            enabled=True,
        )
