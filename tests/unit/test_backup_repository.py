"""The backup repository host's files: the SFTP user's sshd drop-in, its key, its limits."""

from typing import Any

import pytest

from datalayer.backup_repository import (
    REPOSITORY_HOST_LAYOUT,
    render_authorized_keys,
    render_limits,
    render_sshd_config,
    repository_directories,
)
from datalayer.spec import parse_environment
from datalayer.spec.backup import SftpRepository
from tests.unit.spec.test_backup import HOST_KEY, SFTP

MEMBERS_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMembersPublicKey000000000000000000000000"


def repository_of(timescaledb_config: dict[str, Any], **changes: Any) -> SftpRepository:
    timescaledb_config["backup"] = {"repository": SFTP | changes}
    spec = parse_environment("test", {"datalayer:timescaledb": timescaledb_config}, source="t")
    repository = spec.timescaledb.backup.repository
    assert isinstance(repository, SftpRepository)
    return repository


def match_block(text: str) -> dict[str, str]:
    """The settings of the drop-in's one Match block, by keyword."""
    lines = [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]
    assert lines[0].startswith("Match ")
    return dict(line.split(" ", 1) for line in lines[1:])


def test_sftp_user_is_matched_and_confined_to_sftp_in_its_chroot(
    timescaledb_config: dict[str, Any],
) -> None:
    text = render_sshd_config(repository_of(timescaledb_config, user="backups"), "test")
    assert "Match User backups" in text.splitlines()
    assert match_block(text) == {
        "AuthenticationMethods": "publickey",
        "AuthorizedKeysFile": REPOSITORY_HOST_LAYOUT.authorized_keys_file,
        "ChrootDirectory": REPOSITORY_HOST_LAYOUT.chroot_directory,
        "ForceCommand": "internal-sftp",
        "DisableForwarding": "yes",
        "PermitTTY": "no",
        "PermitTunnel": "no",
        "PermitUserRC": "no",
    }


def test_members_key_is_the_one_restricted_key() -> None:
    entries = [
        line for line in render_authorized_keys(MEMBERS_KEY, "prod").splitlines() if line[0] != "#"
    ]
    assert entries == [f"restrict {MEMBERS_KEY} pgbackrest@prod"]


def test_sftp_user_may_open_files_up_to_the_hard_limit(timescaledb_config: dict[str, Any]) -> None:
    text = render_limits(repository_of(timescaledb_config), "test")
    assert [line for line in text.splitlines() if line and line[0] != "#"] == [
        "pgbackrest soft nofile 1048576"
    ]


@pytest.mark.parametrize(
    ("path", "directories"),
    [
        ("/pgbackrest", ["/srv/backup-repository/pgbackrest"]),
        (
            "/trading/prod",
            ["/srv/backup-repository/trading", "/srv/backup-repository/trading/prod"],
        ),
    ],
    ids=["one-level", "two-levels"],
)
def test_repository_lies_below_the_chroot(
    timescaledb_config: dict[str, Any], path: str, directories: list[str]
) -> None:
    assert list(repository_directories(repository_of(timescaledb_config, path=path))) == directories


RENDERERS = {
    "sshd drop-in": lambda repository: render_sshd_config(repository, "test"),
    "authorized keys": lambda _repository: render_authorized_keys(HOST_KEY, "test"),
    "limits": lambda repository: render_limits(repository, "test"),
}


@pytest.mark.parametrize("render_file", RENDERERS.values(), ids=RENDERERS.keys())
def test_every_file_opens_with_the_managed_header(
    timescaledb_config: dict[str, Any], render_file: Any
) -> None:
    first, second = render_file(repository_of(timescaledb_config)).splitlines()[:2]
    assert "rendered from templates/backup_repository/" in first
    assert "edits here are overwritten" in second
