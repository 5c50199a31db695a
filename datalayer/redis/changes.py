"""Decide how to bring a running Redis onto new configuration files with least disruption.

Redis can take a new users.acl at runtime (``ACL LOAD``) and most settings (``CONFIG SET``); the
rest (listeners, files, TLS material) is read only at start. Comparing the files on the host with
the rendered ones tells what changes; the settings Redis changes at runtime are kept as data. The
ACL the server has loaded is compared too: a run whose ``ACL LOAD`` failed after writing
users.acl leaves a file that no longer differs, and only the server shows it is not in force.
"""

import dataclasses
import shlex
from dataclasses import dataclass

# Settings the redis.conf template writes that Redis 8 changes at runtime with CONFIG SET, checked
# against Debian 13's redis-server. Every other setting restarts, on purpose also those Redis 7+
# could rebind at runtime (bind, port, tls-port, tls-*-file): a listener or certificate change
# from a deploy is rare, and a restart brings all listeners up together from the file or fails
# loudly, instead of leaving a half-applied set of sockets.
# With Sentinel, the settings file also holds the replication settings, which change at runtime
# too; masterauth is a password, which goes to CONFIG SET on stdin (SECRET_SETTINGS).
RUNTIME_SETTINGS = frozenset(
    {"maxmemory", "maxmemory-policy", "appendonly", "appendfsync", "save", "protected-mode"}
    | {"min-replicas-to-write", "min-replicas-max-lag", "masteruser", "masterauth"}
)
SECRET_SETTINGS = frozenset({"masterauth"})
"""Settings whose value is a secret: set from stdin (``redis-cli -x``), never on a command line,
and named but never shown in the deploy's output."""


# Rules ACL LIST and users.acl may differ by without the users differing. ACL LOAD builds every
# user afresh: without passwords or key patterns (resetpass, resetkeys change nothing) and with
# the sanitize-payload flag, which ACL LIST always prints (Redis 8.0 src/acl.c:422-423
# ACLCreateUser, :846-905 ACLDescribeUser, :803-838 ACLDescribeSelector).
NO_OP_RULES = frozenset({"resetpass", "resetkeys", "sanitize-payload"})


@dataclass(frozen=True)
class LoadedAcl:
    """What the running server says of the users.acl the deploy wants, asked on the host
    (``deploy/redis/facts.py``) so that neither the file's nor ``ACL LIST``'s hashes leave it.

    + in_force: the server's loaded users are the ones the file declares (:func:`acl_in_force`)
    + admin_refused: the server refused the admin user's password: it has not loaded the
      users.acl that holds it, and only a restart can apply that file
    """

    in_force: bool
    admin_refused: bool = False


def acl_in_force(loaded_lines: list[str], acl_text: str) -> bool:
    """Whether ``ACL LIST``'s ``user NAME RULES`` lines are the users ``acl_text`` declares,
    compared user by user, the no-op rules left out. The host makes this comparison itself;
    this is its statement in Python, which the fact's tests hold the shell to."""

    def users(lines: list[str]) -> list[str]:
        return sorted(
            " ".join(word for word in line.split() if word not in NO_OP_RULES)
            for line in lines
            if line.startswith("user ")
        )

    return users(loaded_lines) == users(acl_text.splitlines())


@dataclass(frozen=True)
class Decision:
    """What the server needs after the files are written, and why.

    + restart_reasons: changed settings Redis reads only at start, or that it is not running
    + runtime_settings: ``(name, value)`` to ``CONFIG SET`` when no restart is needed
    + acl_changed: users.acl differs, or the server has not loaded it; ``ACL LOAD`` unless the
      restart loads it anyway
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


def masked_settings(text: str) -> str:
    """``text`` with every secret setting's line written ``NAME same``: how the host prints a
    line of the file on it that holds the wanted value (``deploy.redis.facts.RedisSettings``),
    so that the secret is compared there and never read back."""
    lines = []
    for line in text.splitlines():
        words = line.split(maxsplit=1)
        secret = bool(words) and words[0].lower() in SECRET_SETTINGS
        lines.append(f"{words[0]} same" if secret else line)
    return "\n".join(lines) + "\n"


def with_secret_values(decision: "Decision", wanted_conf: str) -> "Decision":
    """``decision``, judged on masked texts, with each secret setting's real wanted value to
    ``CONFIG SET``."""
    wanted = parse_settings(wanted_conf)
    runtime = tuple(
        (name, wanted[name] if name in SECRET_SETTINGS else value)
        for name, value in decision.runtime_settings
    )
    return dataclasses.replace(decision, runtime_settings=runtime)


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
    loaded_acl: LoadedAcl | None = None,
) -> Decision:
    """The least disruptive action that puts the ``wanted_*`` files in force.

    + current_conf: redis.conf on the host, None where missing
    + acl: how users.acl on the host differs from the wanted one
    + running: whether redis-server.service is active; if not, only a (re)start applies anything
    + admin_user: the user runtime changes are made as; if its own entry changes (a new
      password), the running server would refuse it, so only a restart applies the files
    + loaded_acl: what the running server has loaded; None when it could not be asked, and
      then the files alone decide
    """
    current = parse_settings(current_conf or "")
    wanted = parse_settings(wanted_conf)
    changed = sorted(
        name for name in current.keys() | wanted.keys() if current.get(name) != wanted.get(name)
    )
    acl_changed = acl.changed or (loaded_acl is not None and not loaded_acl.in_force)
    restart = [name for name in changed if name not in RUNTIME_SETTINGS]
    # A setting only the old file had goes back to Redis's default, which CONFIG SET cannot name.
    restart += [name for name in changed if name in RUNTIME_SETTINGS and name not in wanted]
    if acl.admin_changed:
        restart.append(f"users.acl changes the {admin_user} user")
    elif loaded_acl is not None and loaded_acl.admin_refused:
        restart.append(f"the running server refuses the {admin_user} user's password")
    if not running:
        restart = ["the server is not running", *restart]
    runtime = () if restart else tuple((name, wanted[name]) for name in changed)
    return Decision(tuple(restart), runtime, acl_changed)
