"""WAL archiving and backups of the TimescaleDB cluster with pgBackRest, in two steps.

``repository`` comes before PostgreSQL's configuration: pgBackRest's files and the stanza exist
before the server restarts with archive_mode on, so its first archive attempt already succeeds.
``verify_and_schedule`` comes once the server runs: ``pgbackrest check`` proves that archiving
works, then systemd timers take the full and differential backups.
"""

from pydantic import SecretStr
from pyinfra.api.operation import OperationMeta
from pyinfra.operations import systemd

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
from deploy import operations
from deploy.operations import WantedDirectory, WantedFile
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

    directories = [
        WantedDirectory(paths.config_directory, mode=0o755),
        WantedDirectory(paths.include_directory, mode=0o750, group="postgres"),
    ]
    if backup.repository.type == "posix":
        directories.append(
            WantedDirectory(backup.repository.path, mode=0o750, user="postgres", group="postgres")
        )
    configuration = operations.files_in_place(
        name=f"Install {paths.config_file}, creating "
        + ", ".join(directory.path for directory in directories)
        + " if missing",
        files=[
            WantedFile(paths.config_file, pgbackrest_conf.encode(), mode=0o640, group="postgres")
        ],
        directories=directories,
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
    unit_files = operations.files_in_place(
        name="Install the backup units: "
        + ", ".join(f"{unit.service}, {unit.timer} ({unit.schedule})" for unit in units),
        files=[
            WantedFile(f"{PGBACKREST_PATHS.unit_directory}/{name}", content.encode(), mode=0o644)
            for unit in units
            for name, content in (
                (unit.service, render_backup_service(backup, layout, unit, environment.name)),
                (unit.timer, render_backup_timer(backup, unit, environment.name)),
            )
        ],
    )
    systemd.daemon_reload(
        name="Reload systemd for the changed backup units",
        _if=unit_files.did_change,
    )
    # daemon-reload alone puts a changed OnCalendar= in force: no timer restart is needed.
    operations.units_enabled_and_running(
        name=f"Enable and start {', '.join(unit.timer for unit in units)}",
        units=[unit.timer for unit in units],
    )
