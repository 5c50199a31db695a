"""etcd's passwords, read from the control machine's secrets before any host changes."""

import os
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import SecretStr

from datalayer.secrets import read_secrets
from datalayer.spec.cluster import Etcd


@dataclass(frozen=True)
class EtcdPasswords:
    """+ root: etcd's root user (the deploy's)  + patroni: the user Patroni logs in as"""

    root: SecretStr
    patroni: SecretStr


def etcd_passwords(spec: Etcd, environ: Mapping[str, str] = os.environ) -> EtcdPasswords:
    """Both passwords, read like every other secret (``NAME`` or ``NAME_FILE``); both are read
    before either is used, so one missing secret stops the deploy before any change."""
    secrets = read_secrets(spec, environ)
    return EtcdPasswords(
        root=secrets[spec.root_password_secret], patroni=secrets[spec.password_secret]
    )
