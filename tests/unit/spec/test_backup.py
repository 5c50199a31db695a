"""The backup part of the spec: safe defaults, S3 by configuration, every bad value named."""

import shutil
import subprocess
from typing import Any

import pytest

from datalayer.secrets import secret_variables
from datalayer.spec import SpecError, parse_environment
from datalayer.spec.backup import Backup

S3 = {
    "type": "s3",
    "endpoint": "fra1.digitaloceanspaces.com",
    "bucket": "trading-backups",
    "region": "fra1",
    "path": "/prod",
    "access_key_secret": "DATALAYER_BACKUP_ACCESS_KEY",
    "secret_key_secret": "DATALAYER_BACKUP_SECRET_KEY",
}

SFTP = {"type": "sftp", "private_key_secret": "DATALAYER_BACKUP_SFTP_KEY"}

VALID_CALENDAR_EVENTS = [
    "daily",
    "weekly",
    "Sun *-*-* 01:00:00",
    "Mon..Sat *-*-* 01:00:00",
    "Mon,Wed,Fri 02:30",
    "Saturday *-*-* 03:15:00 UTC",
    "*-*-* 00/6:00:00",
    "*-*-01 04:00:00 Europe/Berlin",
    "*-*~1 05:00",
    "2027-01-01 00:00:00",
]
INVALID_CALENDAR_EVENTS = [
    "every sunday",
    "Sun 25",
    "1am",
    "Sun *-*-* 01:00:00 extra",
    "Sun;reboot",
    "Funday *-*-* 01:00:00",
    "*-*-* 25:00:00",
    "*-*-* 24:00",
    "*-13-01 00:00:00",
    "*-00-01 00:00",
    "*-*-32 00:00",
    "*-*-00 00:00",
    "*-*~32 00:00",
    "*-*-* 23:60:00",
    "*-*-* 23:59:60",
    "*-*-* 00/0:00:00",
    "*-*-* 00..25:00",
    "*-*-* 5..3:00",
    "1969-01-01 00:00",
    "*-*-* 01:00:00 Mars/Base",
    "*-*-* 01:00:00 europe/berlin",
]


def parse(timescaledb: dict[str, Any]) -> Any:
    return parse_environment("test", {"datalayer:timescaledb": timescaledb}, source="Pulumi.t.yaml")


def backup_of(timescaledb_config: dict[str, Any], backup: dict[str, Any]) -> Backup:
    timescaledb_config["backup"] = backup
    return parse(timescaledb_config).timescaledb.backup  # type: ignore[no-any-return]


def error_of(timescaledb_config: dict[str, Any], backup: dict[str, Any]) -> str:
    timescaledb_config["backup"] = backup
    with pytest.raises(SpecError) as raised:
        parse(timescaledb_config)
    return str(raised.value)


def test_backups_are_on_by_default_into_a_directory_on_the_host(
    timescaledb_config: dict[str, Any],
) -> None:
    backup = parse(timescaledb_config).timescaledb.backup
    assert backup.stanza == "main"
    assert backup.repository.type == "posix"
    assert backup.repository.path == "/var/lib/pgbackrest"
    assert backup.retention_full >= 1
    assert backup.schedule_full != backup.schedule_differential
    assert backup.archive_timeout != "0"


def test_posix_repository_needs_no_type(timescaledb_config: dict[str, Any]) -> None:
    backup = backup_of(timescaledb_config, {"repository": {"path": "/mnt/backups"}})
    assert (backup.repository.type, backup.repository.path) == ("posix", "/mnt/backups")


def test_s3_repository_by_configuration(timescaledb_config: dict[str, Any]) -> None:
    backup = backup_of(timescaledb_config, {"repository": S3, "retention_full": 4})
    assert backup.repository.type == "s3"
    assert backup.repository.uri_style == "host"
    assert backup.retention_full == 4


def test_sftp_repository_defaults_to_the_backup_repository_host(
    timescaledb_config: dict[str, Any],
) -> None:
    repository = backup_of(timescaledb_config, {"repository": SFTP}).repository
    assert repository.type == "sftp"
    assert (repository.host, repository.host_key) == (None, None)
    assert (repository.port, repository.user, repository.path) == (22, "pgbackrest", "/pgbackrest")


def test_sftp_key_is_a_secret_the_deploy_reads(timescaledb_config: dict[str, Any]) -> None:
    timescaledb_config["backup"] = {"repository": SFTP}
    assert "DATALAYER_BACKUP_SFTP_KEY" in secret_variables(parse(timescaledb_config).timescaledb)


def test_declared_sftp_host_key_is_kept_without_its_comment(
    timescaledb_config: dict[str, Any],
) -> None:
    declared = SFTP | {"host": "backup-1.internal", "host_key": f"{HOST_KEY} root@backup-1"}
    repository = backup_of(timescaledb_config, {"repository": declared}).repository
    assert repository.type == "sftp"
    assert repository.host_key == HOST_KEY


def test_s3_keys_are_secrets_the_deploy_reads(timescaledb_config: dict[str, Any]) -> None:
    timescaledb_config["backup"] = {"repository": S3}
    variables = secret_variables(parse(timescaledb_config).timescaledb)
    assert {"DATALAYER_BACKUP_ACCESS_KEY", "DATALAYER_BACKUP_SECRET_KEY"} <= set(variables)


# ssh-keygen -t ed25519's public key format: the type, then base64 of (string type, string key).
HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"

BAD_BACKUPS = [
    # (backup section, the key and value the message names, the reason it gives)
    ({"retention_full": 0}, "retention_full: 0", "greater than or equal to 1"),
    ({"retention_full": "two"}, "retention_full: 'two'", "a valid integer"),
    ({"process_max": 0}, "process_max: 0", "greater than or equal to 1"),
    ({"stanza": "Main"}, "stanza: 'Main'", "must be a lower-case SQL identifier"),
    ({"compress_type": "xz"}, "compress_type: 'xz'", "Input should be 'none', 'bz2'"),
    ({"archive_timeout": "1.5s"}, "archive_timeout: '1.5s'", "is not a PostgreSQL duration"),
    ({"archive_timeout": True}, "archive_timeout: True", "expected a duration"),
    ({"schedule_full": "sundays"}, "schedule_full: 'sundays'", "is not a systemd calendar event"),
    (
        {"schedule_full": "daily", "schedule_differential": "daily"},
        "backup:",
        "schedule_full and schedule_differential must differ",
    ),
    ({"repository": {"type": "ftp"}}, "repository:", "type 'ftp' is not a repository type"),
    ({"repository": "s3"}, "repository: 's3'", "expected a mapping with a type of 'posix'"),
    ({"repository": {"path": "b"}}, "repository.path: 'b'", "must be an absolute path"),
    ({"repository": {"path": "/b", "bukket": "x"}}, "repository.bukket: 'x'", "unknown key"),
    (
        {"repository": S3 | {"bucket": "Trading_Backups"}},
        "repository.bucket: 'Trading_Backups'",
        "is not an S3 bucket name",
    ),
    (
        {"repository": S3 | {"endpoint": "https://fra1.digitaloceanspaces.com"}},
        "repository.endpoint: 'https://fra1.digitaloceanspaces.com'",
        "must be a host name without scheme",
    ),
    ({"repository": S3 | {"region": "FRA 1"}}, "repository.region: 'FRA 1'", "not a region name"),
    (
        {"repository": SFTP | {"host": "sftp://backup-1"}},
        "repository.host: 'sftp://backup-1'",
        "must be a host name or an IP address",
    ),
    ({"repository": SFTP | {"port": 0}}, "repository.port: 0", "greater than or equal to 1"),
    ({"repository": SFTP | {"user": "root"}}, "repository.user: 'root'", "is a system account"),
    ({"repository": SFTP | {"user": "Backup"}}, "repository.user: 'Backup'", "not a Unix user"),
    ({"repository": SFTP | {"path": "/"}}, "repository.path: '/'", "must be a directory below /"),
    (
        {"repository": SFTP | {"path": "/../srv"}},
        "repository.path: '/../srv'",
        "cannot hold '.' or '..'",
    ),
    (
        {"repository": SFTP | {"private_key_secret": "sftp-key"}},
        "repository.private_key_secret: '***'",
        "String should match pattern",
    ),
    (
        {"repository": SFTP | {"host": "backup-1.internal"}},
        "repository:",
        "host 'backup-1.internal' needs host_key",
    ),
    (
        {"repository": SFTP | {"host_key": HOST_KEY}},
        "repository:",
        "host_key is for a declared host",
    ),
    (
        {"repository": SFTP | {"host": "10.0.0.3", "host_key": "ssh-dss AAAAB3NzaC1kc3M="}},
        "repository.host_key: 'ssh-dss AAAAB3NzaC1kc3M='",
        "is not an SSH public host key line",
    ),
    (
        {"repository": SFTP | {"host": "10.0.0.3", "host_key": "ssh-rsa " + HOST_KEY.split()[1]}},
        "repository.host_key:",
        "holds a key that is not of type ssh-rsa",
    ),
    (
        {"repository": S3 | {"access_key_secret": "lower"}},
        "repository.access_key_secret: '***'",
        "String should match pattern",
    ),
    (
        {"repository": S3 | {"secret_key_secret": S3["access_key_secret"]}},
        "repository:",
        "access_key_secret and secret_key_secret must name different secrets",
    ),
]


@pytest.mark.parametrize(("backup", "named", "reason"), BAD_BACKUPS)
def test_bad_backup_value_is_named_on_one_line(
    timescaledb_config: dict[str, Any], backup: dict[str, Any], named: str, reason: str
) -> None:
    error = error_of(timescaledb_config, backup)
    prefix = "Pulumi.t.yaml: datalayer:timescaledb."
    assert error.startswith(prefix + (named if named == "backup:" else f"backup.{named}")), error
    assert reason in error
    assert len(error.splitlines()) == 1, error


@pytest.mark.parametrize("missing", ["endpoint", "bucket", "region", "path", "secret_key_secret"])
def test_s3_repository_without_a_required_key_is_named(
    timescaledb_config: dict[str, Any], missing: str
) -> None:
    repository = {key: value for key, value in S3.items() if key != missing}
    error = error_of(timescaledb_config, {"repository": repository})
    assert (
        error == f"Pulumi.t.yaml: datalayer:timescaledb.backup.repository.{missing}: Field required"
    )


@pytest.mark.parametrize(
    ("setting", "field"),
    [
        ("archive_mode", "(fixed: on"),
        ("archive_command", "(fixed: pgBackRest's archive-push"),
        ("archive_timeout", "timescaledb.backup.archive_timeout"),
    ],
)
def test_archive_settings_cannot_be_overridden(
    timescaledb_config: dict[str, Any], setting: str, field: str
) -> None:
    timescaledb_config["settings"] = {setting: "x"}
    with pytest.raises(SpecError) as raised:
        parse(timescaledb_config)
    assert f"settings.{setting} cannot be overridden here; set {field}" in str(raised.value)


@pytest.mark.parametrize("event", VALID_CALENDAR_EVENTS)
def test_calendar_event_is_accepted(timescaledb_config: dict[str, Any], event: str) -> None:
    backup = backup_of(
        timescaledb_config, {"schedule_full": "monthly", "schedule_differential": event}
    )
    assert backup.schedule_differential == event


@pytest.mark.parametrize("event", INVALID_CALENDAR_EVENTS)
def test_calendar_event_is_refused(timescaledb_config: dict[str, Any], event: str) -> None:
    assert "is not a systemd calendar event" in error_of(
        timescaledb_config, {"schedule_differential": event}
    )


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
@pytest.mark.parametrize(
    ("event", "valid"),
    [(event, True) for event in VALID_CALENDAR_EVENTS]
    + [(event, False) for event in INVALID_CALENDAR_EVENTS],
)
def test_calendar_events_are_judged_as_systemd_judges_them(event: str, valid: bool) -> None:
    analyzed = subprocess.run(
        ["systemd-analyze", "calendar", event], capture_output=True, text=True, check=False
    )
    assert (analyzed.returncode == 0) is valid, analyzed.stderr


@pytest.mark.parametrize(
    "path",
    ["/", "/etc", "/etc/", "/usr", "/usr/local/backups", "/var", "/var/lib", "/bin", "/home",
     "/root", "/proc/self", "/var/lib/postgresql", "/etc/pgbackrest", "/srv/../etc"],
)  # fmt: skip
def test_repository_path_that_is_a_system_directory_is_refused(
    timescaledb_config: dict[str, Any], path: str
) -> None:
    message = error_of(timescaledb_config, {"repository": {"type": "posix", "path": path}})
    assert f"datalayer:timescaledb.backup.repository.path: {path!r} " in message
    assert len(message.splitlines()) == 1


@pytest.mark.parametrize("path", ["/var/lib/pgbackrest", "/srv/backups/trading", "/mnt/backup"])
def test_repository_path_of_its_own_is_accepted(
    timescaledb_config: dict[str, Any], path: str
) -> None:
    backup = backup_of(timescaledb_config, {"repository": {"type": "posix", "path": path}})
    assert backup.repository.path == path
