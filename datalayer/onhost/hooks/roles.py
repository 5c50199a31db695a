"""The owner role, the login roles and their per-database settings.

Login roles are created with every dangerous attribute off and kept so; their passwords arrive
as SCRAM verifiers (``build.password_changes``), so no plaintext reaches this code's host.

The owner role has LOGIN but no password. TimescaleDB runs every policy job (compression,
retention, continuous-aggregate refresh) in a background worker that connects as the job's
owner, and refuses a role without LOGIN ("permission denied to start background process as
role"); a background worker does not pass through pg_hba.conf. People and programs do: with no
password and pg_hba.conf rejecting the owner on every line type before any other rule
(``datalayer.timescaledb.config.hba_lines``), nobody can log in as it.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from psycopg import sql

from datalayer.onhost.hooks.context import Connection, Context, Statement
from datalayer.onhost.hooks.plan import LoginRolePlan
from datalayer.onhost.hooks.report import Status

# Attributes no role the hooks manage may have; all are set NO and checked on every run.
_DENIED = ("rolsuper", "rolcreaterole", "rolcreatedb", "rolreplication", "rolbypassrls")
_KEYWORD = {
    "rolsuper": "SUPERUSER",
    "rolcreaterole": "CREATEROLE",
    "rolcreatedb": "CREATEDB",
    "rolreplication": "REPLICATION",
    "rolbypassrls": "BYPASSRLS",
    "rolcanlogin": "LOGIN",
    "rolinherit": "INHERIT",
}


@dataclass(frozen=True)
class _Wanted:
    name: str
    owner: bool
    connection_limit: int


def converge_roles(context: Context, connection: Connection, verifiers: Mapping[str, str]) -> None:
    """Create or correct the owner role (LOGIN for its jobs, no password), every login role
    and the exporter's role, then the exporter role's one membership."""
    plan = context.plan
    wanted = [_Wanted(plan.owner, True, -1)] + [
        _Wanted(role.name, False, role.connection_limit) for role in plan.login_roles
    ]
    if plan.monitor_role is not None:
        wanted.append(_Wanted(plan.monitor_role.name, False, plan.monitor_role.connection_limit))
    # pg_authid, not pg_roles: the owner's password must be NULL, and only pg_authid shows it
    # (the hooks run as a superuser).
    rows = connection.execute(
        "SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, "
        "rolcanlogin, rolinherit, rolconnlimit, rolpassword IS NOT NULL FROM pg_authid "
        "WHERE rolname = ANY(%s)",
        ([role.name for role in wanted],),
    ).fetchall()
    current = {str(row[0]): dict(zip(_COLUMNS, row[1:], strict=True)) for row in rows}
    for role in wanted:
        _converge_role(context, connection, role, current.get(role.name), verifiers.get(role.name))
    if plan.monitor_role is not None:
        _converge_monitor_membership(context, connection, plan.monitor_role.name)


MONITOR_MEMBERSHIP = "pg_monitor"
"""The exporter role's only membership: PostgreSQL's predefined role that reads every
statistics view and setting (pg_read_all_stats, pg_read_all_settings, pg_stat_scan_tables),
and no table."""


def _converge_monitor_membership(context: Context, connection: Connection, role: str) -> None:
    """Exactly ``pg_monitor`` among the roles ``role`` is a member of: granted if missing, any
    other membership (given by hand) revoked."""
    rows = connection.execute(
        "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
        "JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = %s",
        (role,),
    ).fetchall()
    held = {str(row[0]) for row in rows}
    statements: list[Statement] = []
    changes: list[str] = []
    if MONITOR_MEMBERSHIP not in held:
        statements.append(
            sql.SQL("GRANT {} TO {}").format(
                sql.Identifier(MONITOR_MEMBERSHIP), sql.Identifier(role)
            )
        )
        changes.append(f"+{MONITOR_MEMBERSHIP}")
    for other in sorted(held - {MONITOR_MEMBERSHIP}):
        statements.append(
            sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(other), sql.Identifier(role))
        )
        changes.append(f"-{other}")
    if not statements:
        context.tell(Status.UNCHANGED, "role membership", role)
        return
    status = Status.CREATED if not held else Status.CHANGED
    context.converge(connection, status, "role membership", role, ", ".join(changes), statements)


_COLUMNS = (*_DENIED, "rolcanlogin", "rolinherit", "rolconnlimit", "has_password")


_OWNER_DETAIL = "LOGIN for its policy jobs, no password; pg_hba.conf rejects it"


def _converge_role(
    context: Context,
    connection: Connection,
    role: _Wanted,
    current: dict[str, object] | None,
    verifier: str | None,
) -> None:
    kind = "owner role" if role.owner else "role"
    options: list[Statement] = [sql.SQL("NO" + _KEYWORD[attribute]) for attribute in _DENIED]
    options += [
        sql.SQL("LOGIN"),
        sql.SQL("INHERIT"),
        sql.SQL("CONNECTION LIMIT {}").format(sql.Literal(role.connection_limit)),
    ]
    if role.owner:
        options.append(sql.SQL("PASSWORD NULL"))
    elif verifier is not None:
        options.append(sql.SQL("PASSWORD {}").format(sql.Literal(verifier)))
    if current is None:
        statement = sql.SQL("CREATE ROLE {} WITH {}").format(
            sql.Identifier(role.name), sql.SQL(" ").join(options)
        )
        detail = _OWNER_DETAIL if role.owner else f"connection_limit {role.connection_limit}"
        context.converge(connection, Status.CREATED, kind, role.name, detail, [statement])
        return
    differences = [_KEYWORD[attribute] for attribute in _DENIED if current[attribute]]
    if not current["rolcanlogin"]:
        differences.append("LOGIN" + (" (for its policy jobs)" if role.owner else ""))
    if not current["rolinherit"]:
        differences.append("INHERIT")
    if current["rolconnlimit"] != role.connection_limit:
        differences.append(f"connection_limit {current['rolconnlimit']} -> {role.connection_limit}")
    if role.owner and current["has_password"]:
        differences.append("password removed")
    if verifier is not None:
        differences.append("password")
    if not differences:
        context.tell(Status.UNCHANGED, kind, role.name)
        return
    statement = sql.SQL("ALTER ROLE {} WITH {}").format(
        sql.Identifier(role.name), sql.SQL(" ").join(options)
    )
    context.converge(
        connection, Status.CHANGED, kind, role.name, ", ".join(differences), [statement]
    )


def converge_role_settings(context: Context, connection: Connection) -> None:
    """Per-role settings in the application database, exactly as the spec lists them."""
    for role in context.plan.login_roles:
        _converge_settings(context, connection, role)


def _converge_settings(context: Context, connection: Connection, role: LoginRolePlan) -> None:
    database = context.plan.database
    row = connection.execute(
        "SELECT s.setconfig FROM pg_db_role_setting s "
        "JOIN pg_roles r ON r.oid = s.setrole JOIN pg_database d ON d.oid = s.setdatabase "
        "WHERE r.rolname = %s AND d.datname = %s",
        (role.name, database),
    ).fetchone()
    entries = [] if row is None or row[0] is None else list(row[0])  # type: ignore[call-overload]
    current = dict(str(entry).split("=", 1) for entry in entries)
    statements: list[Statement] = []
    changes: list[str] = []
    prefix = sql.SQL("ALTER ROLE {} IN DATABASE {}").format(
        sql.Identifier(role.name), sql.Identifier(database)
    )
    for name, value in role.settings.items():
        if current.get(name) != value:
            statements.append(
                sql.SQL("{} SET {} = {}").format(
                    prefix, sql.Identifier(*name.split(".")), sql.Literal(value)
                )
            )
            changes.append(f"{name} {current.get(name, '(default)')} -> {value}")
    for name in sorted(current.keys() - role.settings.keys()):
        statements.append(sql.SQL("{} RESET {}").format(prefix, sql.Identifier(*name.split("."))))
        changes.append(f"{name} {current[name]} -> (default)")
    label = f"{role.name} in {database}"
    if not statements:
        context.tell(Status.UNCHANGED, "role settings", label)
        return
    context.converge(
        connection, Status.CHANGED, "role settings", label, ", ".join(changes), statements
    )
