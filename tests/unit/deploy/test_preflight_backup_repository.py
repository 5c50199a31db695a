"""The deploy's judgement of an SFTP repository before it connects: where the members reach it,
which key the repository host authorizes, and a key that cannot be used."""

import copy
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from pyinfra.api.inventory import Inventory

from datalayer.paths import REPOSITORY_ROOT
from datalayer.secrets import SecretError
from datalayer.spec import EnvironmentSpec, parse_environment
from datalayer.timescaledb.backup.sftp import SftpServer
from deploy.preflight import DeployInputs, deploy_inputs
from tests.unit.spec.bad_input import default_secrets

KEY_SECRET = "DATALAYER_BACKUP_SFTP_KEY"
MEMBER = "db-1"
REPOSITORY_HOST = "backup-1"
PRIVATE_ADDRESS = "10.110.0.30"


def sftp_environment() -> EnvironmentSpec:
    document = yaml.safe_load((REPOSITORY_ROOT / "Pulumi.sandbox.yaml").read_text())
    config: dict[str, Any] = copy.deepcopy(document["config"])
    # Beside the point here, and it would need the member's private_address too.
    config.pop("datalayer:monitoring", None)
    config["datalayer:timescaledb"]["backup"] = {
        "repository": {"type": "sftp", "private_key_secret": KEY_SECRET}
    }
    return parse_environment("sandbox", config, source="Pulumi.sandbox.yaml")


def inputs_of(host_name: str) -> DeployInputs:
    inventory = Inventory(  # type: ignore[no-untyped-call]
        ([MEMBER, REPOSITORY_HOST], {}),
        timescaledb=([(MEMBER, {"env": "sandbox"})], {}),
        backup_repository=(
            [(REPOSITORY_HOST, {"env": "sandbox", "private_address": PRIVATE_ADDRESS})],
            {},
        ),
    )
    return deploy_inputs(sftp_environment(), inventory.get_host(host_name), None)


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> ed25519.Ed25519PrivateKey:
    private_key = ed25519.Ed25519PrivateKey.generate()
    text = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode()
    for name, value in {**default_secrets(), KEY_SECRET: text}.items():
        monkeypatch.setenv(name, value)
    return private_key


def public_line(key: ed25519.Ed25519PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )


def test_member_reaches_the_repository_host_at_its_private_address(
    key: ed25519.Ed25519PrivateKey,
) -> None:
    member = inputs_of(MEMBER).timescaledb
    assert member is not None and member.sftp is not None
    assert member.sftp.server == SftpServer(PRIVATE_ADDRESS, REPOSITORY_HOST)
    assert member.sftp.key_pair.public_key == public_line(key)


def test_repository_host_authorizes_the_members_public_key(
    key: ed25519.Ed25519PrivateKey,
) -> None:
    repository_host = inputs_of(REPOSITORY_HOST)
    assert repository_host.timescaledb is None
    assert repository_host.backup_repository_key == public_line(key)


@pytest.mark.parametrize("host_name", [MEMBER, REPOSITORY_HOST])
def test_unusable_key_stops_every_host_before_connecting(
    key: ed25519.Ed25519PrivateKey, monkeypatch: pytest.MonkeyPatch, host_name: str
) -> None:
    monkeypatch.setenv(KEY_SECRET, "Valid-but-not-a-key-0123456789")
    with pytest.raises(SecretError) as refused:
        inputs_of(host_name)
    assert str(refused.value) == (
        f"secret {KEY_SECRET} is not an unencrypted SSH private key (OpenSSH or PEM; "
        "ssh-keygen -t ed25519 -N '' writes one)"
    )
