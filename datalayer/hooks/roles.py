"""The owner role, the login roles and their per-database settings.

Login roles are created with every dangerous attribute off and kept so; their passwords arrive
as SCRAM verifiers (``build.password_changes``), so no plaintext reaches this code's host.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from psycopg import sql

from datalayer.hooks.context import Connection, Context, Statement
from datalayer.hooks.plan import LoginRolePlan
from datalayer.hooks.report import Status

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
    login: bool
    connection_limit: int


def converge_roles(context: Context, connection: Connection, verifiers: Mapping[str, str]) -> None:
    """Create or correct the owner role (NOLOGIN) and every login role."""
    plan = context.plan
    wanted = [_Wanted(plan.owner, False, -1)] + [
        _Wanted(role.name, True, role.connection_limit) for role in plan.login_roles
    ]
    rows = connection.execute(
        "SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, "
        "rolcanlogin, rolinherit, rolconnlimit FROM pg_roles WHERE rolname = ANY(%s)",
        ([role.name for role in wanted],),
    ).fetchall()
    current = {str(row[0]): dict(zip(_COLUMNS, row[1:], strict=True)) for row in rows}
    for role in wanted:
        _converge_role(context, connection, role, current.get(role.name), verifiers.get(role.name))


_COLUMNS = (*_DENIED, "rolcanlogin", "rolinherit", "rolconnlimit")


def _converge_role(
    context: Context,
    connection: Connection,
    role: _Wanted,
    current: dict[str, object] | None,
    verifier: str | None,
) -> None:
    kind = "role" if role.login else "owner role"
    options: list[Statement] = [sql.SQL("NO" + _KEYWORD[attribute]) for attribute in _DENIED]
    options += [
        sql.SQL("LOGIN" if role.login else "NOLOGIN"),
        sql.SQL("INHERIT"),
        sql.SQL("CONNECTION LIMIT {}").format(sql.Literal(role.connection_limit)),
    ]
    if current is None:
        if verifier is not None:
            options.append(sql.SQL("PASSWORD {}").format(sql.Literal(verifier)))
        statement = sql.SQL("CREATE ROLE {} WITH {}").format(
            sql.Identifier(role.name), sql.SQL(" ").join(options)
        )
        detail = "NOLOGIN" if not role.login else f"connection_limit {role.connection_limit}"
        context.converge(connection, Status.CREATED, kind, role.name, detail, [statement])
        return
    differences = [_KEYWORD[attribute] for attribute in _DENIED if current[attribute]]
    if current["rolcanlogin"] != role.login:
        differences.append("LOGIN" if role.login else "NOLOGIN")
    if not current["rolinherit"]:
        differences.append("INHERIT")
    if current["rolconnlimit"] != role.connection_limit:
        differences.append(f"connection_limit {current['rolconnlimit']} -> {role.connection_limit}")
    if verifier is not None:
        options.append(sql.SQL("PASSWORD {}").format(sql.Literal(verifier)))
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
