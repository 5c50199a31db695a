"""What pgBackRest's files say: its configuration, the keys file and the backup units.

Each renders one whole template; the keys file is the only one that holds a secret in clear.
"""

from datalayer.render import render
from datalayer.spec.backup import Backup
from datalayer.spec.timescaledb import TimescaleDb
from datalayer.timescaledb.backup.keys import RepositoryKeys
from datalayer.timescaledb.backup.layout import PGBACKREST_PATHS, BackupUnit
from datalayer.timescaledb.backup.sftp import SftpServer
from datalayer.timescaledb.layout import PostgresqlLayout


def render_pgbackrest_conf(
    spec: TimescaleDb,
    layout: PostgresqlLayout,
    environment_name: str,
    sftp_server: SftpServer | None = None,
) -> str:
    """The complete pgbackrest.conf: the repository, retention, and the cluster as a stanza.

    + sftp_server: where an SFTP repository is reached (the inventory may name it); only for one
    """
    if (spec.backup.repository.type == "sftp") != (sftp_server is not None):
        raise ValueError("an SFTP repository, and only one, is rendered with its server")
    return render(
        "timescaledb/pgbackrest.conf.j2",
        environment_name=environment_name,
        paths=PGBACKREST_PATHS,
        backup=spec.backup,
        repository=spec.backup.repository,
        layout=layout,
        port=spec.port,
        sftp_server=sftp_server,
    )


def render_repository_keys(backup: Backup, keys: RepositoryKeys, environment_name: str) -> str:
    """The keys file of an S3 repository. Holds the secrets in clear: install it unprinted."""
    return render(
        "timescaledb/pgbackrest-keys.conf.j2",
        environment_name=environment_name,
        paths=PGBACKREST_PATHS,
        repository=backup.repository,
        access_key=keys.access_key.get_secret_value(),
        secret_key=keys.secret_key.get_secret_value(),
    )


def render_backup_service(
    spec: TimescaleDb, layout: PostgresqlLayout, unit: BackupUnit, environment_name: str
) -> str:
    """The oneshot service that takes one backup of ``unit``'s type.

    In a cluster every member has the timers, so that the schedule survives any failover, and
    the service backs up only on the member that leads: on the others its ``ExecCondition=``
    skips it, which systemd does not count as a failure (systemd.service(5), ExecCondition=:
    exit status 1 to 254). pgBackRest itself refuses a backup from a standby without
    ``backup-standby`` ("unable to find primary cluster").
    """
    return render(
        "timescaledb/pgbackrest-backup.service.j2",
        environment_name=environment_name,
        paths=PGBACKREST_PATHS,
        stanza=spec.backup.stanza,
        layout=layout,
        unit=unit,
        port=spec.port,
        leader_only=spec.cluster is not None,
    )


def render_backup_timer(backup: Backup, unit: BackupUnit, environment_name: str) -> str:
    """The timer that starts ``unit``'s service on its schedule."""
    return render(
        "timescaledb/pgbackrest-backup.timer.j2",
        environment_name=environment_name,
        paths=PGBACKREST_PATHS,
        stanza=backup.stanza,
        unit=unit,
    )
