"""Decide how to bring a running Redis onto new configuration files with least disruption.

Redis can take a new users.acl at runtime (``ACL LOAD``) and most settings (``CONFIG SET``); the
rest (listeners, files, TLS material) is read only at start. Comparing the files on the host with
the rendered ones tells what changes; the settings Redis changes at runtime are kept as data.
"""

import shlex
from dataclasses import dataclass

# Settings the redis.conf template writes that Redis 8 changes at runtime with CONFIG SET, checked
# against Debian 13's redis-server. Every other setting restarts, on purpose also those Redis 7+
# could rebind at runtime (bind, port, tls-port, tls-*-file): a listener or certificate change
# from a deploy is rare, and a restart brings all listeners up together from the file or fails
# loudly, instead of leaving a half-applied set of sockets.
RUNTIME_SETTINGS = frozenset(
    {"maxmemory", "maxmemory-policy", "appendonly", "appendfsync", "save", "protected-mode"}
)


@dataclass(frozen=True)
class Decision:
    """What the server needs after the files are written, and why.

    + restart_reasons: changed settings Redis reads only at start, or that it is not running
    + runtime_settings: ``(name, value)`` to ``CONFIG SET`` when no restart is needed
    + acl_changed: users.acl differs; ``ACL LOAD`` unless the restart loads it anyway
    """

    restart_reasons: tuple[str, ...]
    runtime_settings: tuple[tuple[str, str], ...]
    acl_changed: bool

    @property
    def restart(self) -> bool:
        return bool(self.restart_reasons)

    @property
    def acl_load(self) -> bool:
        return self.acl_changed and not self.restart

    def describe(self) -> str:
        """One line for the deploy's output."""
        if self.restart:
            return f"restart Redis ({', '.join(self.restart_reasons)})"
        actions = [f"CONFIG SET {name}" for name, _ in self.runtime_settings]
        if self.acl_load:
            actions.append("ACL LOAD")
        return ", ".join(actions) or "configuration unchanged, no reload or restart"


def parse_settings(text: str) -> dict[str, str]:
    """Settings of a redis.conf text, by lower-cased name: the arguments joined by one space, as
    ``CONFIG SET`` takes them. A repeated directive (Debian's several ``save`` lines) is joined
    into one value in file order, which is how Redis reads it."""
    settings: dict[str, list[str]] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, *arguments = shlex.split(line, posix=True)
        settings.setdefault(name.lower(), []).append(" ".join(arguments))
    return {name: " ".join(value for value in values if value) for name, values in settings.items()}


def user_rules(acl_text: str, user: str) -> str | None:
    """The rules of ``user`` in a users.acl text, None if the file does not declare it."""
    for line in acl_text.splitlines():
        words = line.split(maxsplit=2)
        if len(words) >= 2 and words[0] == "user" and words[1] == user:
            return words[2] if len(words) == 3 else ""
    return None


@dataclass(frozen=True)
class AclChange:
    """How the users.acl on the host differs from the rendered one.

    + changed: the files differ (or none is installed yet)
    + admin_changed: the admin user's own entry differs, which the running server would refuse
      to carry out any change as
    """

    changed: bool
    admin_changed: bool


def acl_change(current_acl: str | None, wanted_acl: str, admin_user: str) -> AclChange:
    """Compare two users.acl texts (``None``: no file); the deploy has the host make the same
    comparison (``deploy/redis/facts.py``), so that the password hashes never leave it."""
    changed = (current_acl or "") != wanted_acl
    admin_changed = changed and user_rules(current_acl or "", admin_user) != user_rules(
        wanted_acl, admin_user
    )
    return AclChange(changed, admin_changed)


def decide(
    current_conf: str | None,
    wanted_conf: str,
    acl: AclChange,
    *,
    running: bool,
    admin_user: str,
) -> Decision:
    """The least disruptive action that puts the ``wanted_*`` files in force.

    + current_conf: redis.conf on the host, None where missing
    + acl: how users.acl on the host differs from the wanted one
    + running: whether redis-server.service is active; if not, only a (re)start applies anything
    + admin_user: the user runtime changes are made as; if its own entry changes (a new
      password), the running server would refuse it, so only a restart applies the files
    """
    current = parse_settings(current_conf or "")
    wanted = parse_settings(wanted_conf)
    changed = sorted(
        name for name in current.keys() | wanted.keys() if current.get(name) != wanted.get(name)
    )
    restart = [name for name in changed if name not in RUNTIME_SETTINGS]
    # A setting only the old file had goes back to Redis's default, which CONFIG SET cannot name.
    restart += [name for name in changed if name in RUNTIME_SETTINGS and name not in wanted]
    if acl.admin_changed:
        restart.append(f"users.acl changes the {admin_user} user")
    if not running:
        restart = ["the server is not running", *restart]
    runtime = () if restart else tuple((name, wanted[name]) for name in changed)
    return Decision(tuple(restart), runtime, acl.changed)
