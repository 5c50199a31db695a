"""Secrets: read from the environment or a named file, refused when missing or weak, never shown."""

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from datalayer.secrets import (
    SecretError,
    read_secret,
    read_secrets,
    read_ssh_private_key,
    role_passwords,
    secret_variables,
)
from datalayer.spec import load_environment

GOOD = "s3cure-and-long-enough"


def test_secret_from_variable() -> None:
    assert read_secret("X_PASSWORD", {"X_PASSWORD": GOOD}).get_secret_value() == GOOD


def test_secret_from_file_named_by_variable(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_text(GOOD + "\n")
    path.chmod(0o600)
    environ = {"X_PASSWORD_FILE": str(path)}
    assert read_secret("X_PASSWORD", environ).get_secret_value() == GOOD


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o644], ids=lambda mode: f"{mode:04o}")
def test_secret_file_open_to_group_or_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "secret"
    path.write_text(GOOD + "\n")
    path.chmod(mode)
    with pytest.raises(SecretError) as refused:
        read_secret("X_PASSWORD", {"X_PASSWORD_FILE": str(path)})
    assert str(refused.value).startswith(
        f"secret X_PASSWORD: X_PASSWORD_FILE is readable by group or others (mode {mode:04o};"
    )
    assert GOOD not in str(refused.value)


def test_missing_secret_names_the_variable() -> None:
    with pytest.raises(
        SecretError, match="secret X_PASSWORD is not set: export X_PASSWORD, or X_PASSWORD_FILE"
    ):
        read_secret("X_PASSWORD", {})


def test_unreadable_secret_file_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(SecretError, match="X_PASSWORD: cannot read X_PASSWORD_FILE="):
        read_secret("X_PASSWORD", {"X_PASSWORD_FILE": str(tmp_path / "absent")})


def test_short_secret_is_refused_without_showing_it() -> None:
    with pytest.raises(SecretError) as raised:
        read_secret("X_PASSWORD", {"X_PASSWORD": "hunter2"})
    assert "shorter than 16" in str(raised.value)
    assert "hunter2" not in str(raised.value)


def test_secret_is_masked_when_printed() -> None:
    secret = read_secret("X_PASSWORD", {"X_PASSWORD": GOOD})
    assert GOOD not in str(secret)
    assert GOOD not in repr(secret)


def test_role_passwords_reads_every_role_of_the_spec() -> None:
    spec = load_environment("sandbox").timescaledb
    environ = {"DATALAYER_APP_PASSWORD": GOOD, "DATALAYER_READER_PASSWORD": GOOD + "!"}
    assert set(role_passwords(spec, environ)) == {"app", "reader"}


def test_role_passwords_stops_at_the_first_missing_one() -> None:
    spec = load_environment("sandbox").timescaledb
    with pytest.raises(SecretError, match="DATALAYER_READER_PASSWORD"):
        role_passwords(spec, {"DATALAYER_APP_PASSWORD": GOOD})


def test_secret_variables_collects_every_section() -> None:
    assert secret_variables(load_environment("sandbox")) == [
        "DATALAYER_APP_PASSWORD",
        "DATALAYER_READER_PASSWORD",
        "DATALAYER_REDIS_APP_PASSWORD",
        "DATALAYER_REDIS_READER_PASSWORD",
        "DATALAYER_REDIS_ADMIN_PASSWORD",
        "DATALAYER_MONITOR_PASSWORD",
        "DATALAYER_REDIS_MONITOR_PASSWORD",
    ]


def test_secret_variables_includes_influxdb_where_declared() -> None:
    variables = secret_variables(load_environment("prod"))
    assert {"DATALAYER_INFLUXDB_ADMIN_PASSWORD", "DATALAYER_INFLUXDB_ADMIN_TOKEN"} <= set(variables)


def test_read_secrets_reads_every_secret_the_walk_finds_by_name() -> None:
    spec = load_environment("prod").influxdb
    assert spec is not None
    environ = {
        "DATALAYER_INFLUXDB_ADMIN_PASSWORD": GOOD,
        "DATALAYER_INFLUXDB_ADMIN_TOKEN": GOOD + "!",
    }
    secrets = read_secrets(spec, environ)
    assert {name: secret.get_secret_value() for name, secret in secrets.items()} == environ


def test_read_secrets_stops_at_the_first_missing_one() -> None:
    spec = load_environment("prod").influxdb
    assert spec is not None
    with pytest.raises(SecretError, match="secret DATALAYER_INFLUXDB_ADMIN_TOKEN is not set"):
        read_secrets(spec, {"DATALAYER_INFLUXDB_ADMIN_PASSWORD": GOOD})


# --- SSH private keys (an SFTP repository's) ---------------------------------------------------


def openssh_private_key(key: ed25519.Ed25519PrivateKey, passphrase: bytes | None = None) -> str:
    encryption = (
        serialization.NoEncryption()
        if passphrase is None
        else serialization.BestAvailableEncryption(passphrase)
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, encryption
    ).decode()


def test_ssh_private_key_gives_its_public_key(tmp_path: Path) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    text = openssh_private_key(key)  # each serialization differs: its check number is random
    path = tmp_path / "key"
    path.write_text(text)
    path.chmod(0o600)
    pair = read_ssh_private_key("SFTP_KEY", {"SFTP_KEY_FILE": str(path)})
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    assert pair.public_key == public.decode()
    assert pair.private_key.get_secret_value() == text
    assert "PRIVATE" not in repr(pair)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("Valid-not-a-key-0123456789", "is not an unencrypted SSH private key"),
        (
            openssh_private_key(ed25519.Ed25519PrivateKey.generate(), b"passphrase"),
            "is an encrypted SSH private key",
        ),
    ],
    ids=["not-a-key", "encrypted"],
)
def test_unusable_ssh_private_key_is_refused_without_showing_it(value: str, reason: str) -> None:
    with pytest.raises(SecretError, match=reason) as raised:
        read_ssh_private_key("SFTP_KEY", {"SFTP_KEY": value})
    assert value.splitlines()[0] not in str(raised.value)
