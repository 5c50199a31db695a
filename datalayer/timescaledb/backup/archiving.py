"""Decide whether ``pgbackrest check`` must run, from what the server and the repository report.

The deploy's facts fill ``StanzaStatus`` and ``ArchiverStatus``; ``check_reason`` is the decision,
a pure function, as ``changes.py`` decides between reload and restart.
"""

from dataclasses import dataclass


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
