"""pyinfra operations for Redis that pyinfra itself lacks: install its files and apply them.

Each reads facts, compares them with the wanted state, and yields commands or says ``noop``.
"""

from collections.abc import Generator, Sequence
from typing import Any

from pydantic import SecretStr
from pyinfra.api.command import StringCommand
from pyinfra.api.operation import operation
from pyinfra.context import host

from datalayer.redis.changes import AclChange, Decision, decide
from datalayer.redis.layout import RedisLayout
from datalayer.redis.passwords import ADMIN_USER
from deploy.facts import PathState, PathStates, UnitStates
from deploy.operations import WantedFile, current_text, file_commands, unit_id
from deploy.redis.facts import RedisAclChange, RedisLoadedAcl, admin_call
from deploy.stdin import hidden_stdin


def _admin_command(
    layout: RedisLayout, arguments: Sequence[str], password: SecretStr
) -> StringCommand:
    """redis-cli as the admin user over the Unix socket, the password read from stdin
    (``--askpass``) so that it is on no command line.

    redis-cli exits 0 even when Redis answers an error (or refused the login and carried on as
    the disabled default user), so the reply itself is checked: anything but OK fails the run.
    """
    return StringCommand(
        f'reply=$({admin_call(layout.socket, arguments)}) && echo "$reply" && test "$reply" = OK',
        _stdin=password.get_secret_value() + "\n",
    )


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
    wanted = [
        WantedFile(path, content.encode(), mode=0o640, user="redis", group="redis")
        for content, path in ((redis_conf, layout.config_file), (users_acl, layout.acl_file))
    ]
    found = host.get_fact(PathStates, paths=tuple(file.path for file in wanted))
    decision = _decision(layout, wanted, found, admin_password)
    for name, value in decision.runtime_settings:
        yield _admin_command(layout, ["CONFIG", "SET", name, value], admin_password)
    for file in wanted:
        yield from file_commands(file, found.get(file.path))
    if decision.restart:
        yield StringCommand(f"systemctl restart {layout.service}", "#", decision.describe())
    elif decision.acl_load:
        yield _admin_command(layout, ["ACL", "LOAD"], admin_password)
    else:
        host.noop(decision.describe())


def _decision(
    layout: RedisLayout,
    wanted: list[WantedFile],
    found: dict[str, PathState],
    admin_password: SecretStr,
) -> Decision:
    """What the server needs for ``wanted`` (redis.conf, users.acl), judged from the files
    ``found``, the unit's state and the ACL the running server has loaded."""
    assert layout.service is not None
    conf_file, acl_file = wanted
    users_acl = acl_file.content.decode()
    status = host.get_fact(UnitStates, units=(layout.service,))
    loaded_acl = host.get_fact(
        RedisLoadedAcl,
        socket=layout.socket,
        service=layout.service,
        _stdin=hidden_stdin(admin_password.get_secret_value() + "\n" + users_acl),
    )
    conf, acl = found.get(conf_file.path), found.get(acl_file.path)
    running = status.get(unit_id(layout.service))
    return decide(
        current_text(conf_file, conf),
        conf_file.content.decode(),
        # Compared on the host: users.acl's password hashes are never a fact's output.
        AclChange(changed=False, admin_changed=False)
        if acl is not None and acl.holds(acl_file.content)
        else host.get_fact(RedisAclChange, path=layout.acl_file, admin_user=ADMIN_USER,
                           _stdin=hidden_stdin(users_acl)),
        running=running is not None and running.running,
        admin_user=ADMIN_USER,
        loaded_acl=loaded_acl,
    )  # fmt: skip
