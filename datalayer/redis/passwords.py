"""The Redis users' passwords, read from the control machine's secrets before any host changes."""

import os
from collections.abc import Mapping

from pydantic import SecretStr

from datalayer.secrets import read_secret
from datalayer.spec.redis import Redis

ADMIN_USER = "admin"
"""The deploy's own ACL user: ACL LOAD, CONFIG SET and checks, over the Unix socket."""


def redis_passwords(spec: Redis, environ: Mapping[str, str] = os.environ) -> dict[str, SecretStr]:
    """Every ACL user's password, keyed by user name (app, reader, admin); all read before any
    is used, so one missing secret stops the deploy before anything changes."""
    return {
        "app": read_secret(spec.users.app.password_secret, environ),
        "reader": read_secret(spec.users.reader.password_secret, environ),
        ADMIN_USER: read_secret(spec.admin_password_secret, environ),
    }
