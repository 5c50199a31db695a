"""The signed-repository step: a key reaches apt's keyring only with the pinned fingerprint.

The operation runs through the real pyinfra on ``@local``, fetching a key that real ``gpg``
generated for the test from a ``file://`` URL (curl reads those as it reads https), into a
keyring under the test's own directory. No apt source is added and no package installed.
"""

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from datalayer.apt import AptRepository


@dataclass(frozen=True)
class PublishedKey:
    path: Path
    fingerprint: str


def primary_fingerprints(path: Path) -> list[str]:
    """The fingerprints of the primary keys in an OpenPGP key file (not their subkeys')."""
    listing = subprocess.run(
        ["gpg", "--show-keys", "--with-colons", str(path)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    fingerprints, after_primary = [], False
    for fields in (line.split(":") for line in listing.splitlines()):
        if fields[0] == "fpr" and after_primary:
            fingerprints.append(fields[9])
        after_primary = fields[0] == "pub"
    return fingerprints


def publish(directory: Path, users: list[str]) -> PublishedKey:
    """Fresh signing keys for ``users``, ASCII-armoured in one file as publishers serve theirs;
    the fingerprint is the first key's."""
    home = directory / "gnupg"
    home.mkdir(mode=0o700)
    gpg = ["gpg", "--batch", "--homedir", str(home), "--passphrase", ""]
    for user in users:
        subprocess.run(
            [*gpg, "--quick-generate-key", user, "ed25519", "sign"],
            check=True, capture_output=True,
        )  # fmt: skip
    key = directory / "repository.asc"
    key.write_bytes(
        subprocess.run([*gpg, "--armor", "--export"], check=True, capture_output=True).stdout
    )
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False)
    return PublishedKey(key, primary_fingerprints(key)[0])


@pytest.fixture(scope="module")
def published_key(tmp_path_factory: pytest.TempPathFactory) -> PublishedKey:
    """One fresh signing key and its fingerprint."""
    return publish(tmp_path_factory.mktemp("publisher"), ["Test Repository <repo@example.org>"])


@pytest.fixture(scope="module")
def key_file_with_a_stranger(tmp_path_factory: pytest.TempPathFactory) -> PublishedKey:
    """A key file that holds the pinned key and, beside it, a key nobody pinned."""
    return publish(
        tmp_path_factory.mktemp("publisher"),
        ["Test Repository <repo@example.org>", "Stranger <stranger@example.org>"],
    )


def install_key(
    key: PublishedKey, keyring: Path, fingerprint: str
) -> subprocess.CompletedProcess[str]:
    """``deploy.apt.signing_key`` for ``key`` run by pyinfra on this machine; its result."""
    deploy = keyring.parent / "install_key.py"
    deploy.write_text(
        "from deploy.apt import signing_key\n"
        "signing_key(\n"
        '    name="Install the test repository signing key, checked by fingerprint",\n'
        f"    url={key.path.as_uri()!r},\n"
        f"    keyring={str(keyring)!r},\n"
        f"    fingerprint={fingerprint!r},\n"
        ")\n"
    )
    pyinfra = Path(sys.executable).with_name("pyinfra")
    return subprocess.run(
        [str(pyinfra), "-y", "-v", "@local", str(deploy)],
        cwd=keyring.parent, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip


@pytest.mark.parametrize(
    "key_file",
    ["published_key", "key_file_with_a_stranger"],
    ids=["the-key-alone", "beside-a-stranger"],
)
def test_only_the_key_with_the_pinned_fingerprint_is_installed(
    key_file: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    published: PublishedKey = request.getfixturevalue(key_file)
    keyring = tmp_path / "repository.asc"
    result = install_key(published, keyring, published.fingerprint)
    assert result.returncode == 0, result.stdout + result.stderr
    assert primary_fingerprints(keyring) == [published.fingerprint]


def test_key_with_another_fingerprint_is_refused(
    published_key: PublishedKey, tmp_path: Path
) -> None:
    keyring = tmp_path / "repository.asc"
    other = "B97B0AFCAA1A47F044F244A07FCC7D46ACCC4CF8"  # PGDG's: a real key, just not this one
    result = install_key(published_key, keyring, other)
    assert result.returncode != 0, result.stdout
    assert not keyring.exists()


def test_keyring_that_holds_the_key_is_left_alone(
    published_key: PublishedKey, tmp_path: Path
) -> None:
    keyring = tmp_path / "repository.asc"
    install_key(published_key, keyring, published_key.fingerprint)
    result = install_key(published_key, keyring, published_key.fingerprint)
    assert f"{keyring} holds key {published_key.fingerprint}" in result.stdout + result.stderr


@pytest.mark.parametrize(
    "fingerprint",
    ["ACCC4CF8", "7FCC7D46ACCC4CF8", "b97b0afcaa1a47f044f244a07fcc7d46accc4cf8", "B97B 0AFC"],
    ids=["short-id", "long-id", "lower-case", "spaced"],
)
def test_repository_refuses_anything_but_a_full_fingerprint(fingerprint: str) -> None:
    with pytest.raises(ValueError, match=rf"apt repository pgdg: key_fingerprint '{fingerprint}'"):
        AptRepository(
            "pgdg", "https://example.org/key.asc", fingerprint, "https://example.org", "x"
        )
