"""The application database and who may connect to it.

PUBLIC loses CONNECT and TEMPORARY on the database and CREATE on every schema in it; the login
roles get CONNECT, the owner role CREATE (for the schemas the migrations make) and CONNECT (for
the background workers that run its TimescaleDB policy jobs: without it each job run fails with
``permission denied for database``). Grants to other roles are left alone: they are somebody
else's decision.
"""

from psycopg import sql

from datalayer.onhost.hooks.acl import PUBLIC, describe, grants_by_grantee, regrant
from datalayer.onhost.hooks.context import Connection, Context, Statement
from datalayer.onhost.hooks.report import Status


def database_exists(connection: Connection, database: str) -> bool:
    row = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
    return row.fetchone() is not None


def converge_database(context: Context, connection: Connection, exists: bool) -> None:
    """Create the application database (UTF8, from template0) if it does not exist."""
    database = context.plan.database
    if exists:
        context.tell(Status.UNCHANGED, "database", database)
        return
    statement = sql.SQL("CREATE DATABASE {} WITH TEMPLATE template0 ENCODING 'UTF8'").format(
        sql.Identifier(database)
    )
    # CREATE DATABASE cannot run inside a transaction block.
    context.converge(
        connection, Status.CREATED, "database", database, "", [statement], transaction=False
    )


def converge_database_privileges(context: Context, connection: Connection) -> None:
    """Exactly CONNECT for the login roles, CREATE and CONNECT for the owner, nothing for
    PUBLIC."""
    plan = context.plan
    wanted: dict[str, set[str]] = {PUBLIC: set(), plan.owner: {"CREATE", "CONNECT"}}
    wanted |= {role.name: {"CONNECT"} for role in plan.login_roles}
    rows = connection.execute(
        "SELECT coalesce(r.rolname, 'PUBLIC'), a.privilege_type FROM pg_database d, "
        "aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a "
        "LEFT JOIN pg_roles r ON r.oid = a.grantee WHERE d.datname = %s",
        (plan.database,),
    ).fetchall()
    current = grants_by_grantee(rows)
    target = sql.SQL("DATABASE {}").format(sql.Identifier(plan.database))
    statements: list[Statement] = []
    changes: list[str] = []
    for name, privileges in wanted.items():
        held = current.get(name, set())
        if held != privileges:
            statements += regrant(target, name, privileges)
            changes.append(f"{name} {describe(held)} -> {describe(privileges)}")
    if not statements:
        context.tell(Status.UNCHANGED, "database privileges", plan.database)
        return
    context.converge(
        connection,
        Status.CHANGED,
        "database privileges",
        plan.database,
        "; ".join(changes),
        statements,
    )


def converge_public_schema_create(context: Context, connection: Connection) -> None:
    """No schema of the database lets PUBLIC create objects (``public`` included)."""
    schemas = [
        str(row[0])
        for row in connection.execute(
            "SELECT n.nspname FROM pg_namespace n, aclexplode(n.nspacl) a "
            "WHERE a.grantee = 0 AND a.privilege_type = 'CREATE' ORDER BY 1"
        ).fetchall()
    ]
    if not schemas:
        context.tell(Status.UNCHANGED, "schema privileges", "PUBLIC", "may create in no schema")
        return
    context.converge(
        connection,
        Status.CHANGED,
        "schema privileges",
        "PUBLIC",
        f"CREATE revoked on {', '.join(schemas)}",
        [
            sql.SQL("REVOKE CREATE ON SCHEMA {} FROM PUBLIC").format(sql.Identifier(schema))
            for schema in schemas
        ],
    )
