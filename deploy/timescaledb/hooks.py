"""The post-provision hooks on a droplet: upload their runtime, then check and apply.

The hooks' steps run on the droplet as the postgres OS user (peer authentication over the Unix
socket: no superuser password exists to leak). The control machine builds the plan from the spec
and decides which passwords must change; the droplet gets the plan (no secrets) as a file and the
new SCRAM verifiers on stdin.
"""

import json
from collections.abc import Generator

from pydantic import SecretStr
from pyinfra.api.command import StringCommand
from pyinfra.api.operation import operation
from pyinfra.context import host

from datalayer import scram
from datalayer.hooks.build import password_changes
from datalayer.onhost.hooks.plan import HookPlan
from deploy.onhost import plan_file, step_command, upload_step
from deploy.stdin import hidden_stdin
from deploy.timescaledb.facts import (
    HooksDrift,
    PostgresqlCurrentPasswords,
    PostgresqlPasswordSalts,
    current_passwords_query,
)

PLAN_FILE = plan_file("hooks")


def remote_command(mode: str, port: int) -> str:
    """The droplet's hooks command line; it holds no secret."""
    return step_command(
        "datalayer.onhost.hooks.remote", mode, PLAN_FILE, "--port", str(port), user="postgres"
    )


def install_runtime(plan: HookPlan) -> None:
    """The host-side code and the plan, all root-owned (psycopg comes with the server's
    packages, ``datalayer.timescaledb.packages``)."""
    upload_step(
        f"Upload datalayer/onhost/ and the hooks' plan for {plan.environment} "
        "(schema, roles, policies; no secrets)",
        "hooks",
        plan,
    )


@operation()
def post_provision_hooks(
    version: int, cluster: str, port: int, passwords: dict[str, SecretStr]
) -> Generator[StringCommand, None, None]:
    """Bring the database to the uploaded plan: roles, privileges, migrations, policies.

    + version, cluster, port: the running cluster
    + passwords: every login role's password; only verifiers of changed ones leave this machine

    Reads the hooks' own ``check`` as a fact; when it finds nothing to do and no password
    changed, this is a noop. Will not drop tables, roles or grants to roles the spec does not
    name.
    """
    salts = host.get_fact(
        PostgresqlPasswordSalts, version=version, cluster=cluster, roles=tuple(sorted(passwords))
    )
    candidates = {
        role: candidate
        for role, header in salts.items()
        if role in passwords
        and (candidate := scram.verifier_with(passwords[role].get_secret_value(), header))
    }
    current = (
        host.get_fact(
            PostgresqlCurrentPasswords,
            version=version,
            cluster=cluster,
            _stdin=hidden_stdin(current_passwords_query(candidates)),
        )
        if candidates
        else []
    )
    # A current role's stored verifier is its candidate; the others need a new one.
    verifiers = password_changes(passwords, {role: candidates[role] for role in current})
    check = host.get_fact(HooksDrift, command=remote_command("check", port))
    skipped = "".join(f"; {line}" for line in check["skipped"])
    if not check["drift"] and not verifiers:
        host.noop(f"the database is as the spec says{skipped}")
        return
    pending = check["drift"] + [f"password of {role}" for role in sorted(verifiers)]
    yield StringCommand(
        remote_command("apply", port),
        "#",
        "pending: " + "; ".join(pending) + skipped,
        _stdin=json.dumps(verifiers),
    )
