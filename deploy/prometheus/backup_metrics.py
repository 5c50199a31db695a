"""After each backup, the time it completed, where node_exporter's textfile collector reads it.

No exporter of Debian 13 exposes pgBackRest's backups, so each backup service of a
TimescaleDB host gets a drop-in that runs a small script after a backup that succeeded:
``pgbackrest info`` becomes ``datalayer_pgbackrest_last_backup_completion_timestamp_seconds``
by backup type, which PostgresFullBackupStale and PostgresDifferentialBackupStale read.
"""

from pyinfra.api.deploy import deploy
from pyinfra.operations import server

from datalayer.monitoring.exporters import TEXTFILE_DIRECTORY
from datalayer.monitoring.rules import (
    BACKUP_METRICS_SCRIPT,
    render_backup_metrics_drop_in,
    render_backup_metrics_script,
)
from datalayer.spec import EnvironmentSpec
from datalayer.timescaledb.backup.layout import PGBACKREST_PATHS, backup_units
from deploy.operations import WantedDirectory, WantedFile, files_in_place

DROP_IN = "datalayer-backup-metrics.conf"


@deploy("Backup metrics")
def backup_metrics(environment: EnvironmentSpec) -> None:
    """Install the script and a drop-in for each backup service that runs it after a backup.

    + environment: the validated environment spec, with ``monitoring``

    Will not change the backup units themselves, nor start a backup or the script: the
    metric appears with the next backup that succeeds.
    """
    units = backup_units(environment.timescaledb.backup)
    directories = [
        WantedDirectory("/usr/local/lib/datalayer", mode=0o755),
        *(
            WantedDirectory(f"{PGBACKREST_PATHS.unit_directory}/{unit.service}.d", mode=0o755)
            for unit in units
        ),
    ]
    files_in_place(
        name=f"Install {BACKUP_METRICS_SCRIPT}",
        files=[
            WantedFile(
                BACKUP_METRICS_SCRIPT,
                render_backup_metrics_script(environment, TEXTFILE_DIRECTORY).encode(),
                mode=0o755,
            )
        ],
        directories=directories[:1],
    )
    drop_ins = files_in_place(
        name="Run it after each backup (a drop-in of each backup service)",
        files=[
            WantedFile(
                f"{PGBACKREST_PATHS.unit_directory}/{unit.service}.d/{DROP_IN}",
                render_backup_metrics_drop_in(environment, unit.service).encode(),
                mode=0o644,
            )
            for unit in units
        ],
        directories=directories[1:],
    )
    server.shell(
        name="Reload systemd for the backup services' drop-ins",
        commands=["systemctl daemon-reload"],
        _if=drop_ins.did_change,
    )
