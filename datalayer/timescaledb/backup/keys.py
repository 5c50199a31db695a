"""A repository's keys, read from the control machine's environment: an S3 repository's key
pair, or the SSH key the members log in to an SFTP repository with.

Read before the deploy starts, kept masked, and written only to the keys file (the private key
file), which the deploy installs without ever printing it.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import SecretStr

from datalayer.secrets import SshKeyPair, read_secret, read_ssh_private_key
from datalayer.spec.backup import Backup


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


def sftp_key_pair(backup: Backup, environ: Mapping[str, str] = os.environ) -> SshKeyPair | None:
    """An SFTP repository's SSH key pair from the secret the spec names; None for any other
    repository. Read before the deploy starts, so a missing or unusable key changes nothing."""
    repository = backup.repository
    if repository.type != "sftp":
        return None
    return read_ssh_private_key(repository.private_key_secret, environ)
