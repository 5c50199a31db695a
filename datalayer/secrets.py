"""Secrets come from the control machine's environment, never from the repository.

A secret named ``NAME`` is read from the environment variable ``NAME`` or, docker-style, from the
file named by ``NAME_FILE``. Values are wrapped in :class:`pydantic.SecretStr` so that a stray
``print``, log line or traceback shows ``**********`` instead of the password.
"""

import os
import secrets
import stat
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from pydantic import BaseModel, SecretStr

from datalayer.spec.timescaledb import TimescaleDb

MINIMUM_LENGTH = 16
# SCRAM's SASLprep is the identity on printable ASCII, so the verifier computed here is the one
# PostgreSQL computes; other characters would need a full SASLprep implementation.
_ALLOWED = frozenset(string.ascii_letters + string.digits + string.punctuation)


class SecretError(ValueError):
    """A secret that is missing or unusable; raised before any host is touched."""


def read_secret(variable: str, environ: Mapping[str, str] = os.environ) -> SecretStr:
    """The secret ``variable`` from the environment or the file ``variable_FILE`` names."""
    return checked_secret(variable, _secret_text(variable, environ))


def _secret_text(variable: str, environ: Mapping[str, str]) -> str:
    """The text of the secret ``variable``, unchecked: from the environment or its file."""
    if variable in environ:
        value = environ[variable]
    elif f"{variable}_FILE" in environ:
        path = Path(environ[f"{variable}_FILE"])
        try:
            _check_private(variable, path)
            value = path.read_text().rstrip("\n")
        except OSError as error:
            raise SecretError(
                f"secret {variable}: cannot read {variable}_FILE={path} ({error.strerror})"
            ) from None
    else:
        raise SecretError(
            f"secret {variable} is not set: export {variable}, or {variable}_FILE naming a file "
            "that holds it"
        )
    return value


def _check_private(variable: str, path: Path) -> None:
    """Refuse a secret file that its group or others may read or write, as ssh refuses such a
    private key (``permissions 0644 are too open``): whoever else can read it has the secret."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise SecretError(
            f"secret {variable}: {variable}_FILE is readable by group or others "
            f"(mode {mode:04o}; {path}): chmod 600 it"
        )


def checked_secret(variable: str, value: str) -> SecretStr:
    """``value`` as the secret ``variable``, if it is usable: long enough, printable ASCII."""
    if len(value) < MINIMUM_LENGTH:
        raise SecretError(f"secret {variable} is shorter than {MINIMUM_LENGTH} characters")
    if not set(value) <= _ALLOWED:
        raise SecretError(f"secret {variable} must be printable ASCII without spaces")
    return SecretStr(value)


@dataclass(frozen=True)
class SshKeyPair:
    """An SSH private key, kept masked, and the public key it derives, in OpenSSH's forms."""

    private_key: SecretStr
    """The OpenSSH private key file's text, ending in a line break (libssh2 reads it as is)."""
    public_key: str
    """``TYPE BASE64``, as an authorized_keys line holds it."""


_SSH_KEY_TYPES = (ed25519.Ed25519PrivateKey, ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)


def read_ssh_private_key(variable: str, environ: Mapping[str, str] = os.environ) -> SshKeyPair:
    """The secret ``variable`` as an unencrypted OpenSSH or PEM private key (ed25519, ECDSA,
    RSA), and its public key.

    A key spans lines, so it skips :func:`checked_secret`'s one-line rule; it is judged by
    parsing it instead. Nothing of the key reaches the message of a refusal.
    """
    text = _secret_text(variable, environ).strip() + "\n"
    loaders = (serialization.load_ssh_private_key, serialization.load_pem_private_key)
    key: object = None
    for load in loaders:
        try:
            key = load(text.encode(), password=None)
            break
        except TypeError:
            raise SecretError(
                f"secret {variable} is an encrypted SSH private key: give it without a "
                "passphrase (it is kept like every secret: a file only its owner reads)"
            ) from None
        except ValueError:
            continue
    if key is None:
        raise SecretError(
            f"secret {variable} is not an unencrypted SSH private key (OpenSSH or PEM; "
            "ssh-keygen -t ed25519 -N '' writes one)"
        )
    if not isinstance(key, _SSH_KEY_TYPES):
        raise SecretError(f"secret {variable} is a {type(key).__name__}: use ed25519, ECDSA or RSA")
    public_key = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return SshKeyPair(SecretStr(text), public_key.decode())


def read_secrets(model: BaseModel, environ: Mapping[str, str] = os.environ) -> dict[str, SecretStr]:
    """Every secret ``model`` names, by name: the walk (:func:`secret_variables`) by which the
    Pulumi program reads the stack's secrets, read here from the control machine for pyinfra.
    All are read before any is used, so one missing secret stops a deploy before any change."""
    return {name: read_secret(name, environ) for name in secret_variables(model)}


def role_passwords(
    spec: TimescaleDb, environ: Mapping[str, str] = os.environ
) -> dict[str, SecretStr]:
    """Every login role's password, keyed by role name; all are read before any is used."""
    return {role.name: read_secrets(role, environ)[role.password_secret] for role in spec.roles}


SSH_KEY_FIELD = "private_key_secret"
"""The spec's name for a field whose secret is an SSH private key (an SFTP repository's),
which :func:`read_ssh_private_key` reads and :func:`generated_secret` makes as a key."""


def secret_variables(model: BaseModel) -> list[str]:
    """Every secret a spec (or part of one) names, in declaration order.

    The spec's convention: a field whose name ends in ``_secret`` holds the name of a secret.
    The quickstart generates these for the sandbox; a new section gets covered by following it.
    """
    return list(dict.fromkeys(variable for _, variable in _secret_fields(model)))


def ssh_key_variables(model: BaseModel) -> frozenset[str]:
    """The secrets of :func:`secret_variables` that are SSH private keys."""
    return frozenset(
        variable for field, variable in _secret_fields(model) if field == SSH_KEY_FIELD
    )


def generated_secret(*, ssh_key: bool) -> str:
    """A new secret for a sandbox: a random password, or a new unencrypted ed25519 private key
    in OpenSSH's format where the secret is an SSH key."""
    if not ssh_key:
        return secrets.token_urlsafe(24)
    key = ed25519.Ed25519PrivateKey.generate()
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode()


def _secret_fields(model: BaseModel) -> list[tuple[str, str]]:
    """``(field name, secret name)`` of every secret ``model`` names, in declaration order."""
    found: list[tuple[str, str]] = []
    for name, value in model:
        if name.endswith("_secret") and isinstance(value, str):
            found.append((name, value))
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, BaseModel):
                found += _secret_fields(item)
    return found
