"""Verify a TimescaleDB host's WAL archiving and backups against its environment spec.

Runs with ``tests/infra/test_timescaledb.py`` on every host of the ``timescaledb`` group: pgBackRest
installed and configured, the server archiving through it, the stanza in the repository, and the
backup timers scheduled. Two tests make the server archive one more WAL segment (``pgbackrest
check`` and the switch test): a few kilobytes in the repository, which is what proves it works.
"""

import json
import time
from typing import Any

import pytest

from datalayer.spec.timescaledb import TimescaleDb
from datalayer.timescaledb.backup.layout import PGBACKREST_PATHS, archive_command, backup_units
from datalayer.timescaledb.layout import PostgresqlLayout
from tests.infra.postgresql import journal, query

ARCHIVE_WAIT_SECONDS = 60


def _pgbackrest(host: Any, spec: TimescaleDb, command: str) -> Any:
    """``pgbackrest --stanza=STANZA COMMAND`` as postgres; ``command`` is written by the tests."""
    return host.run("runuser -u postgres -- pgbackrest --stanza=%s " + command, spec.backup.stanza)


def _archiver(host: Any, layout: PostgresqlLayout) -> tuple[int, int]:
    archived, failed = query(
        host, layout, "SELECT archived_count, failed_count FROM pg_stat_archiver"
    ).split("|")
    return int(archived), int(failed)


def test_pgbackrest_is_installed(host: Any) -> None:
    assert host.package("pgbackrest").is_installed


def test_server_archives_with_pgbackrest(
    host: Any, spec: TimescaleDb, layout: PostgresqlLayout
) -> None:
    assert query(host, layout, "SHOW archive_mode") == "on"
    assert query(host, layout, "SHOW archive_command") == archive_command(spec.backup)


@pytest.mark.parametrize(
    ("path", "mode"),
    [(PGBACKREST_PATHS.config_file, 0o640), (PGBACKREST_PATHS.include_directory, 0o750)],
)
def test_pgbackrest_files_are_readable_by_postgres_only(host: Any, path: str, mode: int) -> None:
    found = host.file(path)
    assert (found.user, found.group, found.mode) == ("root", "postgres", mode)


def test_repository_keys_are_readable_by_postgres_only(host: Any, spec: TimescaleDb) -> None:
    keys = host.file(PGBACKREST_PATHS.keys_file)
    if spec.backup.repository.type != "s3":
        assert not keys.exists, "a posix repository needs no keys file"
        return
    assert (keys.user, keys.group, keys.mode) == ("root", "postgres", 0o640)


def test_sftp_private_key_is_readable_by_postgres_alone(host: Any, spec: TimescaleDb) -> None:
    key = host.file(PGBACKREST_PATHS.sftp_private_key_file)
    if spec.backup.repository.type != "sftp":
        assert not key.exists, "only an SFTP repository needs an SSH key"
        return
    assert (key.user, key.group, key.mode) == ("postgres", "postgres", 0o600)


def test_posix_repository_belongs_to_postgres(host: Any, spec: TimescaleDb) -> None:
    repository = spec.backup.repository
    if repository.type != "posix":
        pytest.skip("the repository is in object storage")
    directory = host.file(repository.path)
    assert directory.is_directory
    assert (directory.user, directory.group, directory.mode) == ("postgres", "postgres", 0o750)


def test_stanza_is_in_the_repository(host: Any, spec: TimescaleDb) -> None:
    result = _pgbackrest(host, spec, "--output=json info")
    assert result.rc == 0, result.stderr
    (stanza,) = json.loads(result.stdout)
    # 0: ok; 2: no backup yet (the first scheduled one has not run).
    assert stanza["status"]["code"] in (0, 2), stanza["status"]["message"]


def test_pgbackrest_check_passes(host: Any, spec: TimescaleDb, writable_server: None) -> None:
    result = _pgbackrest(host, spec, "check")
    assert result.rc == 0, result.stdout + result.stderr


def test_switched_wal_is_archived_without_failures(
    host: Any, spec: TimescaleDb, layout: PostgresqlLayout, writable_server: None
) -> None:
    archived, failed = _archiver(host, layout)
    # A restore point is a WAL record, so the switch always finishes a segment to archive.
    query(host, layout, "SELECT pg_create_restore_point('datalayer verify')")
    segment = query(host, layout, "SELECT pg_walfile_name(pg_switch_wal())")
    deadline = time.monotonic() + ARCHIVE_WAIT_SECONDS
    while _archiver(host, layout)[0] <= archived and time.monotonic() < deadline:
        time.sleep(1)
    now_archived, now_failed = _archiver(host, layout)
    assert now_archived > archived, f"{segment} not archived within {ARCHIVE_WAIT_SECONDS} s"
    assert now_failed == failed, journal(host, str(layout.service))


@pytest.mark.parametrize("kind", ["full", "diff"])
def test_backup_timer_is_enabled_and_scheduled(host: Any, spec: TimescaleDb, kind: str) -> None:
    (unit,) = [unit for unit in backup_units(spec.backup) if unit.type == kind]
    timer = host.service(unit.timer)
    assert timer.is_enabled, journal(host, unit.timer)
    assert timer.is_running, journal(host, unit.timer)
    # systemd shows the schedule in its normalized form ('daily' is '*-*-* 00:00:00').
    analyzed = host.check_output("systemd-analyze calendar %s", unit.schedule)
    normalized = next(
        line.split(":", 1)[1].strip()
        for line in analyzed.splitlines()
        if line.strip().startswith("Normalized form:")
    )
    calendar = host.check_output("systemctl show --property TimersCalendar --value %s", unit.timer)
    assert f"OnCalendar={normalized} ;" in calendar
    assert "next_elapse=" in calendar, calendar
