"""Render redis.conf and users.acl for one environment.

Both files are rendered whole from ``templates/redis/``: the deploy installs exactly these bytes
and never edits a line in place (no ``CONFIG REWRITE``, no ``ACL SAVE``).
"""

import hashlib
from dataclasses import dataclass

from pydantic import SecretStr

from datalayer.redis.layout import DEBIAN_LAYOUT, RedisLayout
from datalayer.redis.passwords import ADMIN_USER
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

    @property
    def rules(self) -> str:
        """The ACL rules after ``user NAME``: state, password, keys, channels, commands."""
        password = "resetpass" if self.password_hash is None else f"#{self.password_hash}"
        keys = " ".join(f"~{pattern}" for pattern in self.key_patterns) or "resetkeys"
        return " ".join((self.state, password, keys, "resetchannels", "-@all", *self.commands))


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
    """The default user disabled, the deploy's admin, then the application's users."""
    default = AclLine(
        "default", "off", None, (), (),
        "Disabled: every client logs in as a named user with a password.",
    )  # fmt: skip
    admin = AclLine(
        ADMIN_USER, "on", password_hash(passwords[ADMIN_USER]), (),
        tuple(f"+{rule}" for rule in ADMIN_COMMANDS),
        "The deploy's own user (ACL LOAD, CONFIG SET, checks); no keys.",
    )  # fmt: skip
    users = [
        _user_line(name, user, passwords[name], USER_COMMENTS[name]) for name, user in spec.users
    ]
    return [default, admin, *users]


def render_redis_conf(
    spec: Redis, environment_name: str, layout: RedisLayout = DEBIAN_LAYOUT
) -> str:
    """The complete redis.conf for ``spec``."""
    return render(
        "redis/redis.conf.j2",
        environment_name=environment_name,
        spec=spec,
        layout=layout,
        save=" ".join(f"{rule.seconds} {rule.changes}" for rule in spec.persistence.save),
    )


def render_users_acl(spec: Redis, passwords: dict[str, SecretStr]) -> str:
    """The complete users.acl: password hashes only, never a password."""
    return render("redis/users.acl.j2", lines=acl_lines(spec, passwords))
