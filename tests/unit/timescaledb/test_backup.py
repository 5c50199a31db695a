"""pgBackRest's files and PostgreSQL's archive settings as rendered from the spec; the keys;
when ``pgbackrest check`` runs."""

import configparser
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import SecretStr

from datalayer.secrets import SecretError
from datalayer.spec import load_environment, parse_environment
from datalayer.spec.timescaledb import TimescaleDb
from datalayer.timescaledb.backup.archiving import ArchiverStatus, check_reason
from datalayer.timescaledb.backup.keys import RepositoryKeys, repository_keys, sftp_key_pair
from datalayer.timescaledb.backup.layout import BackupType, archive_command, backup_units
from datalayer.timescaledb.backup.render import (
    render_backup_service,
    render_backup_timer,
    render_pgbackrest_conf,
    render_repository_keys,
)
from datalayer.timescaledb.backup.sftp import SftpServer, render_known_hosts
from datalayer.timescaledb.changes import parse_settings
from datalayer.timescaledb.config import render_postgresql_conf
from datalayer.timescaledb.layout import debian_layout
from tests.unit.spec.test_backup import S3, SFTP

ACCESS_KEY = "DO00EXAMPLEACCESSKEY"
SECRET_KEY = "example/secret+key-0123456789abcdefghij"
KEYS = RepositoryKeys(SecretStr(ACCESS_KEY), SecretStr(SECRET_KEY))


def spec_of(config: dict[str, Any], **backup: Any) -> TimescaleDb:
    config["backup"] = backup
    return parse_environment("test", {"datalayer:timescaledb": config}, source="t").timescaledb


def ini(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, comment_prefixes=("#",))
    parser.read_string(text)
    return parser


def pgbackrest_conf(spec: TimescaleDb) -> configparser.ConfigParser:
    return ini(render_pgbackrest_conf(spec, debian_layout(spec), "test"))


def test_posix_repository_and_retention(timescaledb_config: dict[str, Any]) -> None:
    conf = pgbackrest_conf(spec_of(timescaledb_config, retention_full=3))
    assert dict(conf["global"]) == {
        "repo1-type": "posix",
        "repo1-path": "/var/lib/pgbackrest",
        "repo1-retention-full": "3",
        "compress-type": "zst",
        "process-max": "1",
        "start-fast": "y",
    }


def test_stanza_is_the_debian_cluster(timescaledb_config: dict[str, Any]) -> None:
    timescaledb_config["port"] = 5433
    conf = pgbackrest_conf(spec_of(timescaledb_config, stanza="trading"))
    assert dict(conf["trading"]) == {
        "pg1-path": "/var/lib/postgresql/17/main",
        "pg1-port": "5433",
        "pg1-socket-path": "/var/run/postgresql",
    }


def test_only_backups_log_to_the_console_at_info(timescaledb_config: dict[str, Any]) -> None:
    conf = pgbackrest_conf(spec_of(timescaledb_config))
    assert conf["global:backup"]["log-level-console"] == "info"
    assert "log-level-console" not in conf["global"]


def test_s3_repository_is_configured_without_its_keys(timescaledb_config: dict[str, Any]) -> None:
    spec = spec_of(timescaledb_config, repository=S3)
    text = render_pgbackrest_conf(spec, debian_layout(spec), "test")
    assert {
        key: value for key, value in ini(text)["global"].items() if key.startswith("repo1-")
    } == {
        "repo1-type": "s3",
        "repo1-path": "/prod",
        "repo1-s3-endpoint": "fra1.digitaloceanspaces.com",
        "repo1-s3-bucket": "trading-backups",
        "repo1-s3-region": "fra1",
        "repo1-s3-uri-style": "host",
        "repo1-retention-full": "2",
    }
    assert "repo1-s3-key" not in text


SFTP_SERVER = SftpServer(address="10.110.0.30", inventory_host="backup-1")
# What pgBackRest 2.55 reads of them (src/build/config/config.yaml at release/2.55.0):
# repo-sftp-host 2432-2440, -host-port 2478-2485 (default 22), -host-user 2487-2492,
# -private-key-file 2506-2511 and -host-key-hash-type 2467-2476 (both required: no default, no
# `required: false`), -public-key-file 2522-2528, -host-key-check-type 2454-2465 (strict, the
# default, said here so that no default can loosen it), -known-host 2494-2504 (a list of files,
# searched instead of ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts: storage.c:645-685).
SFTP_OPTIONS = {
    "repo1-type": "sftp",
    "repo1-path": "/pgbackrest",
    "repo1-sftp-host": "10.110.0.30",
    "repo1-sftp-host-port": "22",
    "repo1-sftp-host-user": "pgbackrest",
    "repo1-sftp-private-key-file": "/etc/pgbackrest/sftp/id_repository",
    "repo1-sftp-public-key-file": "/etc/pgbackrest/sftp/id_repository.pub",
    "repo1-sftp-host-key-check-type": "strict",
    "repo1-sftp-known-host": "/etc/pgbackrest/sftp/known_hosts",
    "repo1-sftp-host-key-hash-type": "sha256",
    "repo1-retention-full": "2",
}


def test_sftp_repository_is_reached_with_a_key_file_and_pinned_host_keys(
    timescaledb_config: dict[str, Any],
) -> None:
    spec = spec_of(timescaledb_config, repository=SFTP)
    text = render_pgbackrest_conf(spec, debian_layout(spec), "test", SFTP_SERVER)
    repository = {
        key: value for key, value in ini(text)["global"].items() if key.startswith("repo1-")
    }
    assert repository == SFTP_OPTIONS


def test_sftp_repository_on_another_port_and_user(timescaledb_config: dict[str, Any]) -> None:
    spec = spec_of(timescaledb_config, repository=SFTP | {"port": 2222, "user": "backups"})
    conf = ini(render_pgbackrest_conf(spec, debian_layout(spec), "test", SFTP_SERVER))
    assert (conf["global"]["repo1-sftp-host-port"], conf["global"]["repo1-sftp-host-user"]) == (
        "2222",
        "backups",
    )


@pytest.mark.parametrize(
    ("repository", "server"), [(SFTP, None), (S3, SFTP_SERVER)], ids=["sftp-alone", "s3-with-one"]
)
def test_sftp_server_goes_with_an_sftp_repository_only(
    timescaledb_config: dict[str, Any], repository: dict[str, Any], server: SftpServer | None
) -> None:
    spec = spec_of(timescaledb_config, repository=repository)
    with pytest.raises(ValueError, match="an SFTP repository, and only one"):
        render_pgbackrest_conf(spec, debian_layout(spec), "test", server)


HOST_KEYS = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOfTheRepositoryHost0000000000000000",
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBKey",
)


@pytest.mark.parametrize(
    ("port", "pattern"), [(22, "10.110.0.30"), (2222, "[10.110.0.30]:2222")], ids=["22", "2222"]
)
def test_known_hosts_pin_every_host_key_at_the_address(port: int, pattern: str) -> None:
    text = render_known_hosts("10.110.0.30", port, HOST_KEYS, "the spec", "test")
    entries = [line for line in text.splitlines() if not line.startswith("#")]
    assert entries == sorted(f"{pattern} {key}" for key in HOST_KEYS)


def test_self_hosted_store_is_verified_with_its_ca(timescaledb_config: dict[str, Any]) -> None:
    spec = spec_of(timescaledb_config, repository=S3 | {"ca_file": "/etc/ssl/store-ca.pem"})
    assert pgbackrest_conf(spec)["global"]["repo1-storage-ca-file"] == "/etc/ssl/store-ca.pem"


def test_keys_file_holds_both_keys(timescaledb_config: dict[str, Any]) -> None:
    spec = spec_of(timescaledb_config, repository=S3)
    text = render_repository_keys(spec.backup, KEYS, "test")
    assert dict(ini(text)["global"]) == {
        "repo1-s3-key": ACCESS_KEY,
        "repo1-s3-key-secret": SECRET_KEY,
    }
    assert "DATALAYER_BACKUP_SECRET_KEY" in text  # says where the keys come from


def test_postgresql_archives_through_pgbackrest(timescaledb_config: dict[str, Any]) -> None:
    spec = spec_of(timescaledb_config, stanza="trading", archive_timeout="5min")
    settings = parse_settings(render_postgresql_conf(spec, debian_layout(spec), "test"))
    assert settings["archive_mode"] == "on"
    assert settings["archive_command"] == "pgbackrest --stanza=trading archive-push %p"
    assert settings["archive_command"] == archive_command(spec.backup)
    assert settings["archive_timeout"] == "5min"


@pytest.mark.parametrize(("kind", "schedule"), [("full", "Sat 03:00"), ("diff", "daily")])
def test_backup_type_has_its_unit_on_its_schedule(
    timescaledb_config: dict[str, Any], kind: BackupType, schedule: str
) -> None:
    spec = spec_of(timescaledb_config, schedule_full="Sat 03:00", schedule_differential="daily")
    (unit,) = [unit for unit in backup_units(spec.backup) if unit.type == kind]
    service = ini(render_backup_service(spec, debian_layout(spec), unit, "test"))
    timer = ini(render_backup_timer(spec.backup, unit, "test"))
    assert service["Service"]["ExecStart"] == (
        f"/usr/bin/pgbackrest --stanza=main --type={kind} backup"
    )
    assert (service["Service"]["User"], service["Service"]["Type"]) == ("postgres", "oneshot")
    assert timer["Timer"]["OnCalendar"] == schedule
    assert timer["Timer"]["Unit"] == unit.service
    assert timer["Install"]["WantedBy"] == "timers.target"


LEADER_ONLY = (
    "/bin/sh -c 'test \"$$(/usr/bin/psql -XAtq -h /var/run/postgresql -p 5432 -d postgres "
    '-c "SELECT pg_is_in_recovery()")" = f\''
)


def test_cluster_members_back_up_only_while_they_lead(timescaledb_config: dict[str, Any]) -> None:
    timescaledb_config["cluster"] = {"scope": "trading-test"}
    spec = spec_of(timescaledb_config, repository=SFTP)
    service = render_backup_service(spec, debian_layout(spec), backup_units(spec.backup)[0], "t")
    assert ini(service)["Service"]["ExecCondition"] == LEADER_ONLY


def test_a_single_host_backs_up_unconditionally(timescaledb_config: dict[str, Any]) -> None:
    spec = spec_of(timescaledb_config)
    service = render_backup_service(spec, debian_layout(spec), backup_units(spec.backup)[0], "t")
    assert "ExecCondition" not in ini(service)["Service"]


RENDERERS: dict[str, Callable[[TimescaleDb], str]] = {
    "pgbackrest.conf": lambda spec: render_pgbackrest_conf(spec, debian_layout(spec), "test"),
    "repository keys": lambda spec: render_repository_keys(spec.backup, KEYS, "test"),
    "backup service": lambda spec: render_backup_service(
        spec, debian_layout(spec), backup_units(spec.backup)[0], "test"
    ),
    "backup timer": lambda spec: render_backup_timer(
        spec.backup, backup_units(spec.backup)[0], "test"
    ),
    "known hosts": lambda spec: render_known_hosts("10.110.0.30", 22, HOST_KEYS, "x", "test"),
}


@pytest.mark.parametrize("render_file", RENDERERS.values(), ids=RENDERERS.keys())
def test_every_file_opens_with_the_managed_header(
    timescaledb_config: dict[str, Any], render_file: Callable[[TimescaleDb], str]
) -> None:
    first, second = render_file(spec_of(timescaledb_config, repository=S3)).splitlines()[:2]
    assert "rendered from templates/timescaledb/" in first
    assert "edits here are overwritten" in second


@pytest.mark.parametrize("name", ["sandbox", "dev", "prod"])
def test_every_environment_renders(name: str) -> None:
    spec = load_environment(name).timescaledb
    assert "[main]" in render_pgbackrest_conf(spec, debian_layout(spec), name)


def test_posix_repository_needs_no_keys(timescaledb_config: dict[str, Any]) -> None:
    assert repository_keys(spec_of(timescaledb_config).backup, {}) is None


@pytest.mark.parametrize("repository", [{"type": "posix"}, S3], ids=["posix", "s3"])
def test_only_an_sftp_repository_needs_an_ssh_key(
    timescaledb_config: dict[str, Any], repository: dict[str, Any]
) -> None:
    assert sftp_key_pair(spec_of(timescaledb_config, repository=repository).backup, {}) is None


def test_missing_sftp_key_names_its_secret(timescaledb_config: dict[str, Any]) -> None:
    backup = spec_of(timescaledb_config, repository=SFTP).backup
    with pytest.raises(SecretError, match="secret DATALAYER_BACKUP_SFTP_KEY is not set"):
        sftp_key_pair(backup, {})


def test_s3_keys_are_read_from_their_secrets(timescaledb_config: dict[str, Any]) -> None:
    environ = {"DATALAYER_BACKUP_ACCESS_KEY": ACCESS_KEY, "DATALAYER_BACKUP_SECRET_KEY": SECRET_KEY}
    keys = repository_keys(spec_of(timescaledb_config, repository=S3).backup, environ)
    assert keys is not None
    assert keys.access_key.get_secret_value() == ACCESS_KEY
    assert SECRET_KEY not in repr(keys)


def test_missing_s3_key_names_its_secret(timescaledb_config: dict[str, Any]) -> None:
    backup = spec_of(timescaledb_config, repository=S3).backup
    with pytest.raises(SecretError, match="secret DATALAYER_BACKUP_SECRET_KEY is not set"):
        repository_keys(backup, {"DATALAYER_BACKUP_ACCESS_KEY": ACCESS_KEY})


# --- When the deploy runs `pgbackrest check` ---------------------------------------------------

COMMAND = "pgbackrest --stanza=main archive-push %p"
HEALTHY = ArchiverStatus("on", COMMAND, 12, 0, "00000001000000000000000C", failing=False)


def test_healthy_archiving_on_an_unchanged_repository_needs_no_check() -> None:
    assert check_reason(HEALTHY, COMMAND, repository_changing=False) is None


def test_old_failures_since_recovered_need_no_check() -> None:
    recovered = ArchiverStatus("on", COMMAND, 12, 3, "00000001000000000000000C", failing=False)
    assert check_reason(recovered, COMMAND, repository_changing=False) is None


UNPROVEN = [
    (HEALTHY, True, "pgBackRest's configuration or stanza changed"),
    (None, False, "PostgreSQL was not running"),
    (ArchiverStatus("off", "", 0, 0, "", failing=False), False, "not archiving with pgBackRest"),
    (ArchiverStatus("on", "cp %p /x", 5, 0, "", failing=False), False, "not archiving with"),
    (ArchiverStatus("on", COMMAND, 12, 1, "", failing=True), False, "last archive attempt failed"),
]


@pytest.mark.parametrize(("archiver", "changing", "reason"), UNPROVEN)
def test_check_runs_when_archiving_is_unproven(
    archiver: ArchiverStatus | None, changing: bool, reason: str
) -> None:
    found = check_reason(archiver, COMMAND, repository_changing=changing)
    assert found is not None
    assert reason in found
