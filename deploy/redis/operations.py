"""pyinfra operations for Redis that pyinfra itself lacks: install its files and apply them.

Each reads facts, compares them with the wanted state, and yields commands or says ``noop``.
"""

import shlex
from collections.abc import Generator, Sequence
from typing import Any

from pydantic import SecretStr
from pyinfra.api.command import StringCommand
from pyinfra.api.operation import operation
from pyinfra.context import host

from datalayer.redis.changes import (
    SECRET_SETTINGS,
    AclChange,
    Decision,
    decide,
    masked_settings,
    with_secret_values,
)
from datalayer.redis.layout import RedisLayout, SentinelLayout
from datalayer.redis.passwords import ADMIN_USER, SENTINEL_USER
from datalayer.redis.sentinel import SEED_MARKER, SentinelFiles, Topology
from deploy.facts import PathState, PathStates, UnitStates
from deploy.operations import WantedFile, file_commands, unit_id
from deploy.redis.facts import (
    RedisAclChange,
    RedisLoadedAcl,
    RedisSettings,
    SeededFiles,
    SentinelKnownMasters,
    SentinelSecretsInForce,
    SentinelSettings,
    admin_call,
)
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
    wanted = _redis_files(layout.config_file, redis_conf, layout, users_acl)
    found = host.get_fact(PathStates, paths=tuple(file.path for file in wanted))
    decision = _decision(layout, wanted, found, admin_password)
    for name, value in decision.runtime_settings:
        yield _setting_command(layout, name, value, admin_password)
    for file in wanted:
        yield from file_commands(file, found.get(file.path))
    if decision.restart:
        yield StringCommand(f"systemctl restart {layout.service}", "#", decision.describe())
    elif decision.acl_load:
        yield _admin_command(layout, ["ACL", "LOAD"], admin_password)
    else:
        host.noop(decision.describe())


def _redis_files(
    settings_path: str, settings: str, layout: RedisLayout, users_acl: str
) -> list[WantedFile]:
    """The deploy's settings file and users.acl, Redis's to read and nobody else's."""
    return [
        WantedFile(path, content.encode(), mode=0o640, user="redis", group="redis")
        for content, path in ((settings, settings_path), (users_acl, layout.acl_file))
    ]


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
    wanted_conf = conf_file.content.decode()
    # Read back only when it differs, its secrets compared on the host, which prints each as
    # 'NAME same' or 'NAME changed' (masked_settings writes the wanted file's that way).
    current_conf = (
        None
        if conf is None
        else masked_settings(wanted_conf)
        if conf.holds(conf_file.content)
        else host.get_fact(
            RedisSettings,
            path=conf_file.path,
            secret_names=tuple(sorted(SECRET_SETTINGS)),
            _stdin=hidden_stdin(wanted_conf),
        )
    )
    decision = decide(
        current_conf,
        masked_settings(wanted_conf),
        # Compared on the host: users.acl's password hashes are never a fact's output.
        AclChange(changed=False, admin_changed=False)
        if acl is not None and acl.holds(acl_file.content)
        else host.get_fact(RedisAclChange, path=layout.acl_file, admin_user=ADMIN_USER,
                           _stdin=hidden_stdin(users_acl)),
        running=running is not None and running.running,
        admin_user=ADMIN_USER,
        loaded_acl=loaded_acl,
    )  # fmt: skip
    return with_secret_values(decision, wanted_conf)


def _secret_command(
    socket: str, arguments: Sequence[str], admin_password: SecretStr, secret: SecretStr
) -> StringCommand:
    """redis-cli as the admin user over ``socket`` with ``secret`` as its last argument, both
    passwords on stdin: the admin's through ``REDISCLI_AUTH`` (read by the shell's ``read``,
    which leaves the rest of stdin unread), the secret through ``-x``, which reads the last
    argument from stdin as it is (pyinfra ends stdin with a newline, taken off by ``$(cat)``).
    Anything but OK fails the run."""
    call = shlex.join(["redis-cli", "-s", socket, "--user", ADMIN_USER, "-x", *arguments])
    return StringCommand(
        "IFS= read -r REDISCLI_AUTH && export REDISCLI_AUTH && value=$(cat) && "
        f'reply=$(printf %s "$value" | {call}) && echo "$reply" && test "$reply" = OK',
        _stdin=f"{admin_password.get_secret_value()}\n{secret.get_secret_value()}\n",
    )


def _setting_command(
    layout: RedisLayout, name: str, value: str, admin_password: SecretStr
) -> StringCommand:
    """``CONFIG SET name value``; a secret's value on stdin, never on a command line."""
    if name in SECRET_SETTINGS:
        return _secret_command(
            layout.socket, ["CONFIG", "SET", name], admin_password, SecretStr(value)
        )
    return _admin_command(layout, ["CONFIG", "SET", name, value], admin_password)


def _sentinel_command(
    layout: SentinelLayout, arguments: Sequence[str], password: SecretStr
) -> StringCommand:
    """redis-cli as Sentinel's admin user over its Unix socket, the password on stdin; anything
    but OK fails the run, as :func:`_admin_command` for Redis."""
    return StringCommand(
        f'reply=$({admin_call(layout.socket, arguments)}) && echo "$reply" && test "$reply" = OK',
        _stdin=password.get_secret_value() + "\n",
    )


@operation()
def replicated_configuration(
    layout: RedisLayout,
    sentinel_layout: SentinelLayout,
    files: SentinelFiles,
    topology: Topology,
    passwords: dict[str, SecretStr],
) -> Generator[Any, None, None]:
    """Seed redis.conf and sentinel.conf once, keep the deploy's own files in place, and bring
    both servers onto them; with Sentinel declared, in place of :func:`configuration`.

    + layout, sentinel_layout: the servers' paths and units
    + files: the rendered files (``datalayer.redis.sentinel.SentinelFiles``)
    + topology: the redis group as this host sees it
    + passwords: every ACL user's password; the admin's goes on stdin, never on argv

    A file not seeded yet (the package's own) is replaced by its seed: the master is the one a
    Sentinel of the group already knows, else (the first deploy) the group's first host; the
    package's Sentinel, which monitors 127.0.0.1, is stopped first. A seeded file is left to
    Redis and Sentinel, who rewrite it at every failover. Settings Redis changes at runtime are
    applied with ``CONFIG SET`` and written into Redis's own file with ``CONFIG REWRITE``;
    Sentinel's with ``SENTINEL SET``. Will not restart a running, seeded Redis: a setting Redis
    reads only at start stops the run with the reason (restart it by hand, replicas first).
    """
    assert layout.service is not None, "the deploy manages Redis under systemd"
    admin_password = passwords[ADMIN_USER]
    settings_path = files.settings_path
    wanted = _redis_files(settings_path, files.settings, layout, files.users_acl)
    sentinel_acl = WantedFile(
        sentinel_layout.acl_file, files.sentinel_users_acl.encode(), 0o640, "redis", "redis"
    )
    seeds = (layout.config_file, sentinel_layout.config_file)
    seeded = host.get_fact(SeededFiles, paths=seeds, marker=SEED_MARKER)
    redis_seeded = layout.config_file in seeded
    sentinel_seeded = sentinel_layout.config_file in seeded
    if not sentinel_seeded:
        yield StringCommand(
            f"systemctl stop {sentinel_layout.service}",
            "#", "the package's Sentinel monitors 127.0.0.1 until its file is seeded",
        )  # fmt: skip
    # Asked only while a seed is to be written: once both files are seeded, Sentinel decides.
    master = (
        None
        if redis_seeded and sentinel_seeded
        else _known_master(topology, files.sentinel_port, files.master_name, admin_password)
    )
    found = host.get_fact(PathStates, paths=(*(file.path for file in wanted), sentinel_acl.path))
    decision = _decision(layout, wanted, found, admin_password)
    running = "the server is not running" not in decision.restart_reasons
    if redis_seeded and decision.restart and running:
        # One line on stderr and a failed command, as a refused postgresql.conf is reported
        # (deploy/timescaledb/operations.py), before anything changes on this host.
        refusal = (
            f"{layout.config_file}: not changed: Redis would need a restart "
            f"({', '.join(decision.restart_reasons)}), and the deploy restarts no running server "
            "under Sentinel: restart the replicas, fail over (SENTINEL FAILOVER), restart the old "
            "master"
        )
        yield StringCommand(f"echo {shlex.quote(refusal)} >&2; exit 1")
        return
    for name, value in decision.runtime_settings:
        yield _setting_command(layout, name, value, admin_password)
    for file in wanted:
        yield from file_commands(file, found.get(file.path), show_diff=False)
    if master is not None and not redis_seeded:
        seed = files.redis_seed(None if master == topology.own_address else master)
        yield from file_commands(
            WantedFile(layout.config_file, seed.encode(), 0o640, "redis", "redis"), None
        )
    if decision.restart or not redis_seeded:
        yield StringCommand(f"systemctl restart {layout.service}", "#", decision.describe())
    else:
        if decision.runtime_settings:
            yield _admin_command(layout, ["CONFIG", "REWRITE"], admin_password)
        if decision.acl_load:
            yield _admin_command(layout, ["ACL", "LOAD"], admin_password)
    sentinel_acl_found = found.get(sentinel_acl.path)
    yield from file_commands(sentinel_acl, sentinel_acl_found, show_diff=False)
    if master is not None and not sentinel_seeded:
        seed = files.sentinel_seed(master)
        yield from file_commands(
            WantedFile(sentinel_layout.config_file, seed.encode(), 0o640, "redis", "redis"),
            None,
            show_diff=False,
        )
        yield StringCommand(f"systemctl restart {sentinel_layout.service}")
        return
    if sentinel_acl_found is None or not sentinel_acl_found.holds(sentinel_acl.content):
        yield _sentinel_command(sentinel_layout, ["ACL", "LOAD"], admin_password)
    current = host.get_fact(
        SentinelSettings,
        socket=sentinel_layout.socket,
        master_name=files.master_name,
        _stdin=hidden_stdin(admin_password.get_secret_value() + "\n"),
    )
    changes = [
        (name, value)
        for name, value in files.sentinel_settings
        if current is not None and current.get(name) != value
    ]
    for name, value in changes:
        yield _sentinel_command(
            sentinel_layout, ["SENTINEL", "SET", files.master_name, name, value], admin_password
        )
    sentinel_password = passwords[SENTINEL_USER]
    secrets_in_force = host.get_fact(
        SentinelSecretsInForce,
        path=sentinel_layout.config_file,
        master_name=files.master_name,
        _stdin=hidden_stdin(sentinel_password.get_secret_value() + "\n"),
    )
    if secrets_in_force is False:
        # A new sentinel password: the ACL files above carry its hash; Sentinel logs in with it.
        for arguments in (
            ["SENTINEL", "SET", files.master_name, "auth-pass"],
            ["SENTINEL", "CONFIG", "SET", "sentinel-pass"],
        ):
            yield _secret_command(
                sentinel_layout.socket, arguments, admin_password, sentinel_password
            )
    changed = decision.restart or decision.runtime_settings or decision.acl_load
    if not (changed or changes or secrets_in_force is False):
        host.noop("Redis and Sentinel configured; Sentinel's files left to it")


def _known_master(
    topology: Topology, port: int, master_name: str, admin_password: SecretStr
) -> str:
    """The master a Sentinel of the group knows, else the group's first host."""
    answers = host.get_fact(
        SentinelKnownMasters,
        addresses=topology.peers,
        port=port,
        master_name=master_name,
        _stdin=hidden_stdin(admin_password.get_secret_value() + "\n"),
    )
    known = [answer for answer in answers if answer in topology.addresses]
    return known[0] if known else topology.bootstrap_master
