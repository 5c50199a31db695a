"""pyinfra operations for etcd that pyinfra itself lacks: its configuration and authentication.

Each reads facts, compares them with the wanted state, and yields commands or says ``noop``.
"""

import shlex
from collections.abc import Generator
from typing import Any

from pydantic import SecretStr
from pyinfra.api.command import StringCommand
from pyinfra.api.exceptions import OperationError
from pyinfra.api.operation import operation
from pyinfra.context import host

from datalayer.etcd.authentication import (
    NOT_ANSWERING,
    PATRONI_ROLE,
    PATRONI_USER,
    ROOT_USER,
    RootPasswordRefusedError,
    Step,
    steps,
)
from datalayer.etcd.layout import EtcdLayout
from deploy.etcd.facts import EtcdAuthentication, etcdctl_session
from deploy.facts import PathStates, UnitStates
from deploy.operations import WantedFile, file_commands, unit_id
from deploy.stdin import hidden_stdin


@operation()
def configuration(layout: EtcdLayout, environment_file: str) -> Generator[Any, None, None]:
    """Install etcd's environment file; restart a running etcd onto a changed one.

    + layout: the member's paths and unit
    + environment_file: the rendered ``/etc/default/etcd``

    Run before the package is installed, so that the package's own first start already reads
    it. etcd reads its configuration only when it starts, so a changed file restarts a running
    member; a member not running (not installed yet, or stopped) is left to be started.
    """
    wanted = WantedFile(layout.environment_file, environment_file.encode(), mode=0o644)
    found = host.get_fact(PathStates, paths=(wanted.path,)).get(wanted.path)
    commands = list(file_commands(wanted, found))
    if not commands:
        host.noop(f"{wanted.path} in place")
        return
    yield from commands
    if found is not None and found.holds(wanted.content):
        return  # only its owner or mode changed
    unit = host.get_fact(UnitStates, units=(layout.service,)).get(unit_id(layout.service))
    if unit is not None and unit.running:
        yield StringCommand(f"systemctl restart {layout.service}", "#", f"{wanted.path} changed")


_PASSWORDS = {ROOT_USER: "$root_password", PATRONI_USER: "$patroni_password"}


def step_command(step: Step, prefix: str) -> str:
    """The shell of one step, inside :func:`deploy.etcd.facts.etcdctl_session`: passwords are
    piped by the shell's ``printf`` builtin, never on a command line."""

    def with_password(user: str, verb: str) -> str:
        piped = f"printf '%s\\n' \"{_PASSWORDS[user]}\""
        return f"{piped} | as_root user {verb} {user} --interactive=false"

    return {
        Step.ADD_ROOT: with_password(ROOT_USER, "add"),
        Step.SET_ROOT_PASSWORD: with_password(ROOT_USER, "passwd"),
        Step.REPLACE_ROLE: f"as_root role delete {PATRONI_ROLE}",
        Step.ADD_ROLE: f"as_root role add {PATRONI_ROLE}",
        Step.GRANT_PERMISSION: (
            f"as_root role grant-permission {PATRONI_ROLE} --prefix=true readwrite "
            + shlex.quote(prefix)
        ),
        Step.ADD_PATRONI: with_password(PATRONI_USER, "add"),
        Step.SET_PATRONI_PASSWORD: with_password(PATRONI_USER, "passwd"),
        Step.GRANT_ROLE: f"as_root user grant-role {PATRONI_USER} {PATRONI_ROLE}",
        Step.ENABLE: "as_root auth enable",
    }[step]


@operation()
def authentication(
    endpoint: str, prefix: str, root_password: SecretStr, patroni_password: SecretStr
) -> Generator[Any, None, None]:
    """Bring etcd's users, role and authentication to the spec (``datalayer.etcd.
    authentication``), through the member at ``endpoint``; run on one member, since users and
    roles are the cluster's.

    + endpoint: the member's own client URL, e.g. ``http://127.0.0.1:2379``
    + prefix: the keys the patroni role may read and write (``/service/SCOPE/``)
    + root_password, patroni_password: the users' passwords; on stdin, never on argv

    Will not delete users or roles other than ``patroni``'s, nor revoke roles granted by hand.
    """
    stdin = hidden_stdin(
        f"{root_password.get_secret_value()}\n{patroni_password.get_secret_value()}\n"
    )
    state = host.get_fact(EtcdAuthentication, endpoint=endpoint, _stdin=stdin) or NOT_ANSWERING
    try:
        planned = steps(state, prefix)
    except RootPasswordRefusedError as refused:
        raise OperationError(str(refused)) from None
    if not planned:
        host.noop(f"authentication on; {PATRONI_USER} reads and writes {prefix} only")
        return
    script = " && ".join(step_command(step, prefix) for step in planned)
    yield StringCommand(etcdctl_session(endpoint) + script, "#", "; ".join(planned), _stdin=stdin)
