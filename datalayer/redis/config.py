"""Render redis.conf and users.acl for one environment.

Both files are rendered whole from ``templates/redis/``: the deploy installs exactly these bytes
and never edits a line in place (no ``CONFIG REWRITE``, no ``ACL SAVE``).
"""

import hashlib
from dataclasses import dataclass

from pydantic import SecretStr

from datalayer.redis.layout import DEBIAN_LAYOUT, RedisLayout
from datalayer.redis.passwords import ADMIN_USER, MONITOR_USER, REPLICATION_USER, SENTINEL_USER
from datalayer.render import render
from datalayer.spec.redis import AclUser, Redis

# What the deploy's admin user needs and nothing more: log in, load the ACL file, read and set
# configuration, and the read-only checks the deploy and testinfra make (ACL DRYRUN asks the ACL
# about a command without running it). No keys, no channels.
ADMIN_COMMANDS = (
    "@connection", "acl|load", "acl|list", "acl|getuser", "acl|whoami", "acl|dryrun",
    "config|get", "config|set", "info", "ping",
)  # fmt: skip


@dataclass(frozen=True)
class AclLine:
    """One rendered users.acl record, with the comment written above it."""

    user: str
    state: str
    password_hash: str | None
    key_patterns: tuple[str, ...]
    commands: tuple[str, ...]
    comment: str
    channels: tuple[str, ...] = ()
    """Pub/Sub channels the user may use (``&channel``); none but Sentinel's user has any."""

    @property
    def rules(self) -> str:
        """The ACL rules after ``user NAME``: state, password, keys, channels, commands."""
        password = "resetpass" if self.password_hash is None else f"#{self.password_hash}"
        keys = " ".join(f"~{pattern}" for pattern in self.key_patterns) or "resetkeys"
        channels = ("resetchannels", *(f"&{channel}" for channel in self.channels))
        return " ".join((self.state, password, keys, *channels, "-@all", *self.commands))


# With Sentinel, redis.conf is Redis's own file (it rewrites it at every failover): the deploy
# changes a setting there as Redis itself does, CONFIG SET then CONFIG REWRITE.
SENTINEL_ADMIN_COMMANDS = ("config|rewrite",)

# What a replica sends its master (Redis's documentation, "Replication" > "Authentication", and
# src/replication.c: syncWithMaster sends AUTH, REPLCONF and PSYNC, and pings the master).
REPLICATION_COMMANDS = ("+psync", "+replconf", "+ping")

# What Sentinel sends a monitored Redis (Redis 8.0 src/sentinel.c: sentinelSendSlaveOf's
# MULTI/SLAVEOF/CONFIG REWRITE/CLIENT KILL/EXEC, 4874-4921; INFO and PING,
# sentinelSendPeriodicCommands, 3139-3150; PUBLISH of its hello, sentinelSendHello, 3029; the
# hello SUBSCRIBE, 2456; CLIENT SETNAME, 2349; ROLE and SCRIPT KILL as Redis's documentation's
# "Redis-Sentinel ACL" list has them), on its hello channel only.
SENTINEL_COMMANDS = (
    "+multi", "+slaveof", "+ping", "+exec", "+subscribe", "+config|rewrite", "+role",
    "+publish", "+info", "+client|setname", "+client|kill", "+script|kill",
)  # fmt: skip
SENTINEL_HELLO_CHANNEL = "__sentinel__:hello"
"""Where Sentinels announce themselves (src/sentinel.c SENTINEL_HELLO_CHANNEL)."""

MONITOR_COMMANDS = (
    "+ping", "+info", "+client|setname", "+slowlog|len", "+slowlog|get", "+latency|latest",
    "+latency|histogram",
)  # fmt: skip
"""What the Prometheus exporter's user may run: exactly what redis_exporter v1.69.0 sends with
the options ``templates/exporters/prometheus-redis-exporter.j2`` sets. INFO ALL, falling back
to INFO (exporter/exporter.go:692-695), CLIENT SETNAME (672, on by default), SLOWLOG LEN and
GET 1 (slowlog.go:9, 13), LATENCY LATEST and HISTOGRAM (latency.go:27, 57); PING only with
ping-on-connect (662), granted so that a check can ask it. No CONFIG: its config command is
``-``, which skips CONFIG GET * (exporter.go:677-690: it would show masterauth), INFO has
maxmemory too. No CLIENT LIST: sent only with export-client-list, off by default (clients.go:
127, main.go:91). No key, no channel."""

USER_COMMENTS = {
    "app": "The application reads and writes its keys.",
    "reader": "Dashboards and analysts read its keys.",
}
"""The line written above each application user's record in users.acl, by user name."""


def password_hash(password: SecretStr) -> str:
    """The SHA-256 hex digest Redis stores for a password (ACL '#<hash>' syntax)."""
    return hashlib.sha256(password.get_secret_value().encode()).hexdigest()


def _user_line(name: str, user: AclUser, password: SecretStr, comment: str) -> AclLine:
    commands = (*(f"+{rule}" for rule in user.allowed), *(f"-{rule}" for rule in user.denied))
    return AclLine(name, "on", password_hash(password), tuple(user.key_patterns), commands, comment)


def acl_lines(spec: Redis, passwords: dict[str, SecretStr]) -> list[AclLine]:
    """The default user disabled, the deploy's admin, then the application's users, and the
    exporter's user when ``passwords`` holds its password (``monitoring`` declared)."""
    default = AclLine(
        "default", "off", None, (), (),
        "Disabled: every client logs in as a named user with a password.",
    )  # fmt: skip
    admin_commands = ADMIN_COMMANDS + (SENTINEL_ADMIN_COMMANDS if spec.sentinel else ())
    admin = AclLine(
        ADMIN_USER, "on", password_hash(passwords[ADMIN_USER]), (),
        tuple(f"+{rule}" for rule in admin_commands),
        "The deploy's own user (ACL LOAD, CONFIG SET, checks); no keys.",
    )  # fmt: skip
    users = [
        _user_line(name, user, passwords[name], USER_COMMENTS[name]) for name, user in spec.users
    ]
    if MONITOR_USER in passwords:
        monitor = AclLine(
            MONITOR_USER, "on", password_hash(passwords[MONITOR_USER]), (), MONITOR_COMMANDS,
            "The Prometheus exporter reads INFO, SLOWLOG and LATENCY; no keys, no CONFIG.",
        )  # fmt: skip
        users.append(monitor)
    if spec.sentinel is None:
        return [default, admin, *users]
    replication = AclLine(
        REPLICATION_USER, "on", password_hash(passwords[REPLICATION_USER]), (),
        REPLICATION_COMMANDS, "Replicas log in to their master as this user; no keys.",
    )  # fmt: skip
    sentinel = AclLine(
        SENTINEL_USER, "on", password_hash(passwords[SENTINEL_USER]), (),
        SENTINEL_COMMANDS, "Sentinel monitors and reconfigures Redis as this user; no keys.",
        channels=(SENTINEL_HELLO_CHANNEL,),
    )  # fmt: skip
    return [default, admin, *users, replication, sentinel]


def settings_path(spec: Redis, layout: RedisLayout = DEBIAN_LAYOUT) -> str:
    """Where the deploy's settings file goes: redis.conf itself, or with Sentinel the record of
    the settings the deploy applied to Redis's own redis.conf."""
    if spec.sentinel is None:
        return layout.config_file
    if layout.settings_file is None:
        raise ValueError(f"{layout.config_file}'s layout has no settings file for Sentinel")
    return layout.settings_file


def render_redis_conf(
    spec: Redis,
    environment_name: str,
    layout: RedisLayout = DEBIAN_LAYOUT,
    replication_password: SecretStr | None = None,
    path: str | None = None,
) -> str:
    """The complete settings for ``spec``, as the file at ``path`` (default
    :func:`settings_path`): with Sentinel they also say how a replica logs in to its master
    (masteruser, masterauth: the replication user's password, ``replication_password``, in
    clear, as Redis needs it)."""
    if spec.sentinel is not None and replication_password is None:
        raise ValueError("redis.sentinel is declared: the replication user's password is needed")
    return render(
        "redis/redis.conf.j2",
        environment_name=environment_name,
        path=path or settings_path(spec, layout),
        spec=spec,
        layout=layout,
        save=" ".join(f"{rule.seconds} {rule.changes}" for rule in spec.persistence.save),
        replication_user=REPLICATION_USER,
        replication_password=(
            None if replication_password is None else replication_password.get_secret_value()
        ),
    )


def render_users_acl(spec: Redis, passwords: dict[str, SecretStr]) -> str:
    """The complete users.acl: password hashes only, never a password."""
    return render("redis/users.acl.j2", lines=acl_lines(spec, passwords))
