"""pyinfra operations for Redis that pyinfra itself lacks: install its files and apply them.

Each reads facts, compares them with the wanted state, and yields commands or says ``noop``.
"""

import shlex
from collections.abc import Generator, Sequence
from io import StringIO
from typing import Any

from pydantic import SecretStr
from pyinfra.api.command import StringCommand
from pyinfra.api.facts import FactBase
from pyinfra.api.operation import operation
from pyinfra.context import host
from pyinfra.facts.files import FileContents
from pyinfra.facts.systemd import SystemdStatus
from pyinfra.operations import files

from datalayer.redis.changes import LoadedAcl, decide
from datalayer.redis.layout import RedisLayout
from datalayer.redis.passwords import ADMIN_USER


def _admin_call(socket: str, arguments: Sequence[str]) -> str:
    """redis-cli as the admin user over the Unix socket, the password read from stdin."""
    return shlex.join(["redis-cli", "-s", socket, "--user", ADMIN_USER, "--askpass", *arguments])


class RedisLoadedAcl(FactBase[LoadedAcl | None]):
    """The ACL the running server has loaded (``ACL LIST`` as the admin user, whose password
    goes on stdin: pass it as ``_stdin``); None while the server is not running or does not
    answer, and the files alone then decide."""

    def command(self, socket: str, service: str) -> str:
        # redis-cli's own failure (no connection) is an answer here: the server was not asked.
        return (
            f"if systemctl is-active --quiet {service} && [ -S {socket} ]; then "
            f'reply=$({_admin_call(socket, ["ACL", "LIST"])} 2>&1); echo "$reply"; fi'
        )

    def process(self, output: list[str]) -> LoadedAcl | None:
        users = tuple(line for line in output if line.startswith("user "))
        if users:
            return LoadedAcl(users)
        if any("WRONGPASS" in line for line in output):
            return LoadedAcl((), admin_refused=True)
        return None


def _admin_command(
    layout: RedisLayout, arguments: Sequence[str], password: SecretStr
) -> StringCommand:
    """redis-cli as the admin user over the Unix socket, the password read from stdin
    (``--askpass``) so that it is on no command line.

    redis-cli exits 0 even when Redis answers an error (or refused the login and carried on as
    the disabled default user), so the reply itself is checked: anything but OK fails the run.
    """
    return StringCommand(
        f'reply=$({_admin_call(layout.socket, arguments)}) && echo "$reply" && test "$reply" = OK',
        _stdin=password.get_secret_value() + "\n",
    )


def _file_text(lines: list[str] | None) -> str | None:
    return None if lines is None else "\n".join(lines) + "\n"


@operation()
def configuration(
    layout: RedisLayout, redis_conf: str, users_acl: str, admin_password: SecretStr
) -> Generator[Any, None, None]:
    """Install redis.conf and users.acl, then apply them as gently as Redis allows.

    + layout: the server's paths and service
    + redis_conf: the rendered redis.conf
    + users_acl: the rendered users.acl (password hashes only)
    + admin_password: the deploy's admin user's password; sent on stdin, never on argv

    Settings Redis changes at runtime are applied with ``CONFIG SET`` before the file is written
    (so that a failure leaves the old file, and the next run tries again); a changed users.acl
    alone, or one the server has not loaded (an earlier ``ACL LOAD`` failed after the file was
    written), is applied with ``ACL LOAD``; anything else Redis reads only at start, a stopped
    server or a changed admin user restarts. Will not ``CONFIG REWRITE`` or ``ACL SAVE``: the
    rendered files stay the only source of truth.

    **Example:**

    .. code:: python

        configuration(
            name="Install redis.conf and users.acl",
            layout=DEBIAN_LAYOUT,
            redis_conf=render_redis_conf(spec, "prod"),
            users_acl=render_users_acl(spec, passwords),
            admin_password=passwords["admin"],
        )
    """
    assert layout.service is not None, "the deploy manages Redis under systemd"
    status = host.get_fact(SystemdStatus, services=layout.service)
    loaded_acl = host.get_fact(
        RedisLoadedAcl,
        socket=layout.socket,
        service=layout.service,
        _stdin=admin_password.get_secret_value() + "\n",
    )
    decision = decide(
        _file_text(host.get_fact(FileContents, path=layout.config_file)),
        redis_conf,
        _file_text(host.get_fact(FileContents, path=layout.acl_file)),
        users_acl,
        running=status.get(layout.service, False),
        admin_user=ADMIN_USER,
        loaded_acl=loaded_acl,
    )
    for name, value in decision.runtime_settings:
        yield _admin_command(layout, ["CONFIG", "SET", name, value], admin_password)
    for content, path in ((redis_conf, layout.config_file), (users_acl, layout.acl_file)):
        yield from files.put._inner(
            src=StringIO(content), dest=path, user="redis", group="redis", mode="640"
        )
    if decision.restart:
        yield StringCommand(f"systemctl restart {layout.service}", "#", decision.describe())
    elif decision.acl_load:
        yield _admin_command(layout, ["ACL", "LOAD"], admin_password)
    else:
        host.noop(decision.describe())
