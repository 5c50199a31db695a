"""pgBackRest for a TimescaleDB cluster: where its files go, what they say, which commands run.

Pure functions of the spec, so that the droplet deploy and the container path write the same
bytes. Secrets (an S3 repository's keys) are read here from the control machine's environment
and written only to the keys file, which the deploy installs without ever printing it.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import SecretStr

from datalayer.render import render
from datalayer.secrets import read_secret
from datalayer.spec.backup import Backup
from datalayer.spec.timescaledb import TimescaleDb
from datalayer.timescaledb.layout import PostgresqlLayout


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


@dataclass(frozen=True)
class RepositoryKeys:
    """An S3 repository's access key pair, kept masked until the keys file is rendered."""

    access_key: SecretStr
    secret_key: SecretStr


def repository_keys(
    backup: Backup, environ: Mapping[str, str] = os.environ
) -> RepositoryKeys | None:
    """The repository's keys from the secrets the spec names; None for a repository that needs
    none (posix). Read before the deploy starts, so a missing one changes nothing."""
    repository = backup.repository
    if repository.type != "s3":
        return None
    return RepositoryKeys(
        access_key=read_secret(repository.access_key_secret, environ),
        secret_key=read_secret(repository.secret_key_secret, environ),
    )


def render_pgbackrest_conf(spec: TimescaleDb, layout: PostgresqlLayout, environment: str) -> str:
    """The complete pgbackrest.conf: the repository, retention, and the cluster as a stanza."""
    return render(
        "timescaledb/pgbackrest.conf.j2",
        environment=environment,
        paths=PGBACKREST_PATHS,
        backup=spec.backup,
        repository=spec.backup.repository,
        layout=layout,
        port=spec.port,
    )


def render_repository_keys(backup: Backup, keys: RepositoryKeys, environment: str) -> str:
    """The keys file of an S3 repository. Holds the secrets in clear: install it unprinted."""
    return render(
        "timescaledb/pgbackrest-keys.conf.j2",
        environment=environment,
        paths=PGBACKREST_PATHS,
        repository=backup.repository,
        access_key=keys.access_key.get_secret_value(),
        secret_key=keys.secret_key.get_secret_value(),
    )


def render_backup_service(
    backup: Backup, layout: PostgresqlLayout, unit: BackupUnit, environment: str
) -> str:
    """The oneshot service that takes one backup of ``unit``'s type."""
    return render(
        "timescaledb/pgbackrest-backup.service.j2",
        environment=environment,
        paths=PGBACKREST_PATHS,
        stanza=backup.stanza,
        layout=layout,
        unit=unit,
    )


def render_backup_timer(backup: Backup, unit: BackupUnit, environment: str) -> str:
    """The timer that starts ``unit``'s service on its schedule."""
    return render(
        "timescaledb/pgbackrest-backup.timer.j2",
        environment=environment,
        paths=PGBACKREST_PATHS,
        stanza=backup.stanza,
        unit=unit,
    )


@dataclass(frozen=True)
class StanzaStatus:
    """What ``pgbackrest info`` says of a stanza: its status code and message, and its backups.

    Codes are pgBackRest's: 0 ok, 1 missing stanza path, 2 no valid backups, 3 missing stanza
    data, 99 other (e.g. the repository cannot be reached).
    """

    code: int
    message: str
    backups: int

    @property
    def exists(self) -> bool:
        """The stanza is in the repository (with or without backups): stanza-create is done."""
        return self.code not in (1, 3)


@dataclass(frozen=True)
class ArchiverStatus:
    """The running server's archive settings and ``pg_stat_archiver``'s counters."""

    archive_mode: str
    archive_command: str
    archived_count: int
    failed_count: int
    last_archived_wal: str
    failing: bool
    """The last attempt to archive failed (no success since the last failure)."""


def check_reason(
    archiver: ArchiverStatus | None, expected_command: str, repository_changing: bool
) -> str | None:
    """Why ``pgbackrest check`` must run now, or None when archiving is known to work.

    The check forces a WAL switch and waits until the segment is in the repository: proof that
    archive_command, the configuration and the repository fit together. It runs whenever one
    of them may have changed or the server reports trouble; a deploy that changes nothing on a
    server that archives without failures does not run it, so a second deploy changes nothing.
    """
    if repository_changing:
        return "pgBackRest's configuration or stanza changed"
    if archiver is None:
        return "PostgreSQL was not running"
    if archiver.archive_mode != "on" or archiver.archive_command != expected_command:
        return "PostgreSQL was not archiving with pgBackRest yet"
    if archiver.failing:
        return "the last archive attempt failed"
    return None
