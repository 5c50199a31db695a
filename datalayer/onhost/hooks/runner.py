"""The hooks in order: check everything that can stop them, then converge item by item.

Order matters: roles before the database privileges that name them, the database before its
extension, the extension's version before any other statement loads it in the database,
migrations before the policies and privileges on what they create, continuous aggregates before
the privilege step so that it covers them too.
"""

from collections.abc import Mapping

from datalayer.onhost.hooks import database, extension, migrations, policies, privileges, roles
from datalayer.onhost.hooks.context import Connect, Connection, Context
from datalayer.onhost.hooks.plan import HookPlan
from datalayer.onhost.hooks.report import HookError, Outcome, Report, Status

MAINTENANCE_DATABASE = "postgres"


def run_hooks(
    connect: Connect,
    plan: HookPlan,
    verifiers: Mapping[str, str],
    *,
    check: bool,
    report: Report,
) -> list[Outcome]:
    """Converge the server to ``plan`` (or, with ``check``, only report what differs).

    + connect: opens a superuser connection to a database of the server
    + plan: what to converge to (``datalayer.hooks.build.build_plan``)
    + verifiers: SCRAM verifiers of the login roles whose password must be set
    + check: report drift, change nothing
    + report: called with each outcome as it happens

    Raises :class:`HookError` before any change when the server or the database contradicts the
    plan (not a superuser, an edition without a required feature, an unknown per-role setting,
    an extension version it cannot reach, a migration changed after it was applied), and at the
    item that failed otherwise. (A database the hooks create is new: its extension is checked
    once it exists, before anything is created in it.)
    """
    context = Context(plan, check, report)
    with connect(MAINTENANCE_DATABASE) as maintenance:
        _check_superuser(maintenance)
        license_name = policies.edition(maintenance)
        policies.check_edition(plan, license_name)
        _check_role_settings(maintenance, plan)
        exists = database.database_exists(maintenance, plan.database)
        if exists:
            state, target = extension.check_extension(
                connect, maintenance, plan.database, plan.extension_version
            )
            with connect(plan.database) as connection:
                migrations.check_ledger(context, connection)
        roles.converge_roles(context, maintenance, verifiers)
        database.converge_database(context, maintenance, exists)
        if check and not exists:
            for migration in plan.migrations:
                context.tell(Status.CREATED, "migration", f"{migration.version}_{migration.name}")
            return context.outcomes
        if not exists:
            state, target = extension.check_extension(
                connect, maintenance, plan.database, plan.extension_version
            )
    extension.converge_extension(context, connect, state, target)
    with connect(plan.database) as connection:
        database.converge_database_privileges(context, connection)
        database.converge_public_schema_create(context, connection)
        roles.converge_role_settings(context, connection)
        migrations.converge_migrations(context, connection)
        policies.converge_hypertables(context, connection, license_name)
        policies.converge_continuous_aggregates(context, connection, license_name)
        privileges.converge_schema_privileges(context, connection)
    return context.outcomes


def _check_superuser(connection: Connection) -> None:
    row = connection.execute(
        "SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user"
    ).fetchone()
    if row is None or not row[1]:
        user = "?" if row is None else row[0]
        raise HookError(f"the hooks need a superuser connection; connected as {user}")


def _check_role_settings(connection: Connection, plan: HookPlan) -> None:
    """Every per-role setting must exist and be one a role may have set for it: context user.

    The spec refuses the rest already (against the catalogue); this is the running server's word
    on the same rule. A superuser-context setting (session_replication_role, which turns off
    triggers and foreign keys) set by the hooks, a superuser, would apply at each login."""
    names = sorted({name for role in plan.login_roles for name in role.settings})
    rows = connection.execute(
        "SELECT name, context FROM pg_settings WHERE name = ANY(%s)", (names,)
    ).fetchall()
    contexts = {str(name): str(context) for name, context in rows}
    for role in plan.login_roles:
        for name, value in role.settings.items():
            context = contexts.get(name)
            if context is None:
                raise HookError(
                    f"role {role.name}: settings.{name} = {value!r} is not a setting this server "
                    "knows"
                )
            if context != "user":
                raise HookError(
                    f"role {role.name}: settings.{name} cannot be set per role (its context is "
                    f"{context})"
                )
