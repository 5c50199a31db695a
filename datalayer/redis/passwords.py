"""The Redis users' passwords, read from the control machine's secrets before any host changes."""

import os
from collections.abc import Mapping

from pydantic import SecretStr

from datalayer.secrets import read_secrets
from datalayer.spec.redis import Redis

ADMIN_USER = "admin"
"""The deploy's own ACL user: ACL LOAD, CONFIG SET and checks, over the Unix socket."""


def user_secrets(spec: Redis) -> dict[str, str]:
    """Each ACL user's password secret, by user name: every application user under its name in
    ``spec.users`` (app, reader), then the deploy's admin.

    The one map of users to secrets: the deploy reads the passwords through it, and the
    container's users.acl and the Pulumi stack's client URLs take theirs through it.
    """
    return {name: user.password_secret for name, user in spec.users} | {
        ADMIN_USER: spec.admin_password_secret
    }


def redis_passwords(spec: Redis, environ: Mapping[str, str] = os.environ) -> dict[str, SecretStr]:
    """Every ACL user's password, keyed by user name (app, reader, admin); all read before any
    is used, so one missing secret stops the deploy before anything changes."""
    secrets = read_secrets(spec, environ)
    return {user: secrets[name] for user, name in user_secrets(spec).items()}
