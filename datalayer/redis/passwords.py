"""The Redis users' passwords, read from the control machine's secrets before any host changes."""

import os
from collections.abc import Mapping

from pydantic import SecretStr

from datalayer.secrets import read_secrets
from datalayer.spec.redis import Redis

ADMIN_USER = "admin"
"""The deploy's own ACL user: ACL LOAD, CONFIG SET and checks, over the Unix socket."""
REPLICATION_USER = "replication"
"""The ACL user replicas log in to their master as (masteruser), with Sentinel declared."""
MONITOR_USER = "monitor"
"""The ACL user the Prometheus exporter logs in as, with ``monitoring`` declared
(``datalayer.monitoring.exporters``): its password joins the others in the deploy's map."""
SENTINEL_USER = "sentinel"
"""The ACL user Sentinel logs in to Redis and to the other Sentinels as, with Sentinel
declared."""


def user_secrets(spec: Redis) -> dict[str, str]:
    """Each ACL user's password secret, by user name: every application user under its name in
    ``spec.users`` (app, reader), then the deploy's admin, then (with Sentinel) the replication
    and sentinel users.

    The one map of users to secrets: the deploy reads the passwords through it, and the
    container's users.acl and the Pulumi stack's client URLs take theirs through it.
    """
    secrets = {name: user.password_secret for name, user in spec.users}
    secrets[ADMIN_USER] = spec.admin_password_secret
    if spec.sentinel is not None:
        secrets[REPLICATION_USER] = spec.sentinel.replication_password_secret
        secrets[SENTINEL_USER] = spec.sentinel.sentinel_password_secret
    return secrets


def redis_passwords(spec: Redis, environ: Mapping[str, str] = os.environ) -> dict[str, SecretStr]:
    """Every ACL user's password, keyed by user name (app, reader, admin); all read before any
    is used, so one missing secret stops the deploy before anything changes."""
    secrets = read_secrets(spec, environ)
    return {user: secrets[name] for user, name in user_secrets(spec).items()}
