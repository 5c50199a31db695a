"""Where pgBackRest's files live on a host, and what systemd and PostgreSQL run.

The paths are pgBackRest's and systemd's own defaults; the backup units and archive_command
follow from the spec's backup section.
"""

from dataclasses import dataclass
from typing import Literal

from datalayer.spec.backup import Backup


@dataclass(frozen=True)
class PgbackrestPaths:
    """Where pgBackRest's files live on a host.

    ``/etc/pgbackrest/pgbackrest.conf`` is pgBackRest's own default; Debian's package still ships
    the older ``/etc/pgbackrest.conf``, which pgBackRest reads only when the new one is missing,
    so the managed file always wins. Files in the include directory are read after it.
    """

    config_file: str = "/etc/pgbackrest/pgbackrest.conf"
    config_directory: str = "/etc/pgbackrest"
    include_directory: str = "/etc/pgbackrest/conf.d"
    keys_file: str = "/etc/pgbackrest/conf.d/repository-keys.conf"
    sftp_private_key_file: str = "/etc/pgbackrest/sftp/id_repository"
    """An SFTP repository's private key (repo1-sftp-private-key-file): postgres's, mode 600."""
    sftp_public_key_file: str = "/etc/pgbackrest/sftp/id_repository.pub"
    """Its public key (repo1-sftp-public-key-file), which libssh2 built without OpenSSL needs."""
    sftp_known_hosts_file: str = "/etc/pgbackrest/sftp/known_hosts"
    """The SFTP server's pinned host keys (repo1-sftp-known-host), the only file searched."""
    sftp_directory: str = "/etc/pgbackrest/sftp"
    unit_directory: str = "/etc/systemd/system"


PGBACKREST_PATHS = PgbackrestPaths()

BackupType = Literal["full", "diff"]


@dataclass(frozen=True)
class BackupUnit:
    """A scheduled backup: a oneshot service running ``pgbackrest backup``, and its timer."""

    type: BackupType
    schedule: str

    @property
    def service(self) -> str:
        return f"pgbackrest-backup-{self.type}.service"

    @property
    def timer(self) -> str:
        return f"pgbackrest-backup-{self.type}.timer"

    @property
    def description(self) -> str:
        return "full backup" if self.type == "full" else "differential backup"

    @property
    def schedule_key(self) -> str:
        """The spec key that sets the schedule, for the timer's header."""
        return "schedule_full" if self.type == "full" else "schedule_differential"


def backup_units(backup: Backup) -> tuple[BackupUnit, ...]:
    """The full and the differential backup, each on its schedule."""
    return (
        BackupUnit("full", backup.schedule_full),
        BackupUnit("diff", backup.schedule_differential),
    )


def archive_command(backup: Backup, wal_archive_directory: str | None = None) -> str:
    """PostgreSQL's archive_command: push each finished WAL segment to the stanza's repository.

    pgBackRest reads everything else (repository, keys) from its configuration files, so the
    command holds nothing secret and stays the same when the repository moves. Where the layout
    names a WAL archive directory instead (containers, whose images carry no pgBackRest), each
    segment is copied there, never over an archived one, as PostgreSQL's documentation does.
    """
    if wal_archive_directory is not None:
        return f"test ! -f {wal_archive_directory}/%f && cp %p {wal_archive_directory}/%f"
    return f"pgbackrest --stanza={backup.stanza} archive-push %p"


def restore_command(backup: Backup) -> str:
    """PostgreSQL's restore_command: fetch a WAL segment from the stanza's repository, the
    counterpart of :func:`archive_command` (``%f`` the segment's name, ``%p`` where to put it).
    A member restored from the repository replays with it the WAL its backup needs and the
    leader no longer keeps."""
    return f'pgbackrest --stanza={backup.stanza} archive-get %f "%p"'


def restore_from_repository_command(backup: Backup) -> str:
    """``pgbackrest restore`` of the stanza's latest backup as a standby, into the data
    directory pgBackRest's configuration names (``pg1-path``): ``--delta`` keeps the files
    that match the backup, so that a data directory still holding most of them is rebuilt
    quickly, and an empty or missing one is filled whole."""
    return f"pgbackrest --stanza={backup.stanza} --delta --type=standby restore"
