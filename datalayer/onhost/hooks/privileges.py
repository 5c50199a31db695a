"""Ownership and privileges in the data schemas (the schemas the migrations create).

The owner role owns every schema, table, view and sequence there. Login roles get exactly what
their access level says, on what exists now and (default privileges) on what the owner creates
later: read_write may SELECT, INSERT, UPDATE, DELETE rows and use sequences, never TRUNCATE,
REFERENCES, TRIGGER or MAINTAIN; read_only may SELECT. PUBLIC gets nothing. Grants to roles the
spec does not name are left alone.
"""

from psycopg import sql

from datalayer.onhost.hooks.acl import (
    PUBLIC,
    describe,
    grants_by_grantee,
    regrant,
)
from datalayer.onhost.hooks.context import Connection, Context, Statement
from datalayer.onhost.hooks.plan import READ_WRITE, HookPlan
from datalayer.onhost.hooks.report import Status

_RELATIONS = "r", "p", "v", "m", "f"
_SEQUENCE = "S"
_TABLE = sql.SQL("TABLE")
_SEQUENCES_KEYWORD = sql.SQL("SEQUENCE")
_OWNER_CHANGE = {
    "r": _TABLE,
    "p": _TABLE,
    "f": sql.SQL("FOREIGN TABLE"),
    "v": sql.SQL("VIEW"),
    "m": sql.SQL("MATERIALIZED VIEW"),
    "S": _SEQUENCES_KEYWORD,
}


def _wanted(plan: HookPlan, on_sequences: bool) -> dict[str, set[str]]:
    """Privileges per grantee on a table-like object or a sequence."""
    wanted: dict[str, set[str]] = {PUBLIC: set()}
    for role in plan.login_roles:
        if on_sequences:
            wanted[role.name] = {"USAGE", "SELECT"} if role.access == READ_WRITE else set()
        elif role.access == READ_WRITE:
            wanted[role.name] = {"SELECT", "INSERT", "UPDATE", "DELETE"}
        else:
            wanted[role.name] = {"SELECT"}
    return wanted


def converge_schema_privileges(context: Context, connection: Connection) -> None:
    """For each data schema: ownership, privileges on its objects, default privileges."""
    existing = {
        str(row[0])
        for row in connection.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s)",
            (list(context.plan.schemas),),
        ).fetchall()
    }
    for schema in context.plan.schemas:
        if schema not in existing:
            context.tell(Status.SKIPPED, "privileges", schema, "the schema does not exist yet")
            continue
        statements: list[Statement] = []
        changes: list[str] = []
        _ownership(context.plan, connection, schema, statements, changes)
        _schema_usage(context.plan, connection, schema, statements, changes)
        _object_privileges(context.plan, connection, schema, statements, changes)
        _default_privileges(context.plan, connection, schema, statements, changes)
        if not statements:
            context.tell(Status.UNCHANGED, "privileges", schema)
            continue
        context.converge(
            connection, Status.CHANGED, "privileges", schema, "; ".join(changes), statements
        )


def _ownership(
    plan: HookPlan,
    connection: Connection,
    schema: str,
    statements: list[Statement],
    changes: list[str],
) -> None:
    owner = sql.Identifier(plan.owner)
    row = connection.execute(
        "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = %s", (schema,)
    ).fetchone()
    if row is not None and row[0] != plan.owner:
        statements.append(
            sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(sql.Identifier(schema), owner)
        )
        changes.append(f"schema owner {row[0]} -> {plan.owner}")
    # Sequences owned by a column follow their table; they are not changed on their own.
    rows = connection.execute(
        "SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind = ANY(%s) AND pg_get_userbyid(c.relowner) <> %s "
        "AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid "
        "AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i'))) ORDER BY 1",
        (schema, [*_RELATIONS, _SEQUENCE], plan.owner),
    ).fetchall()
    for name, relkind in rows:
        statements.append(
            sql.SQL("ALTER {} {} OWNER TO {}").format(
                _OWNER_CHANGE[str(relkind)], sql.Identifier(schema, str(name)), owner
            )
        )
    if rows:
        changes.append(f"owner of {len(rows)} objects -> {plan.owner}")


def _schema_usage(
    plan: HookPlan,
    connection: Connection,
    schema: str,
    statements: list[Statement],
    changes: list[str],
) -> None:
    held = grants_by_grantee(
        connection.execute(
            "SELECT coalesce(r.rolname, 'PUBLIC'), a.privilege_type FROM pg_namespace n, "
            "aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a "
            "LEFT JOIN pg_roles r ON r.oid = a.grantee WHERE n.nspname = %s",
            (schema,),
        ).fetchall()
    )
    wanted = {PUBLIC: set[str]()} | {role.name: {"USAGE"} for role in plan.login_roles}
    target = sql.SQL("SCHEMA {}").format(sql.Identifier(schema))
    for name, privileges in wanted.items():
        if held.get(name, set()) != privileges:
            statements += regrant(target, name, privileges)
            changes.append(f"{name} on schema -> {describe(privileges)}")


def _object_privileges(
    plan: HookPlan,
    connection: Connection,
    schema: str,
    statements: list[Statement],
    changes: list[str],
) -> None:
    rows = connection.execute(
        "SELECT c.relname, c.relkind, coalesce(r.rolname, 'PUBLIC'), a.privilege_type "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "LEFT JOIN LATERAL aclexplode(coalesce(c.relacl, acldefault("
        "CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::\"char\", c.relowner))) a ON true "
        "LEFT JOIN pg_roles r ON r.oid = a.grantee "
        "WHERE n.nspname = %s AND c.relkind = ANY(%s)",
        (schema, [*_RELATIONS, _SEQUENCE]),
    ).fetchall()
    objects: dict[tuple[str, str], dict[str, set[str]]] = {}
    for name, relkind, role, privilege in rows:
        grants = objects.setdefault((str(name), str(relkind)), {})
        grants.setdefault(str(role), set()).add(str(privilege))
    corrected: dict[str, int] = {}
    for (name, relkind), held in sorted(objects.items()):
        is_sequence = relkind == _SEQUENCE
        target = sql.SQL("{} {}").format(
            _SEQUENCES_KEYWORD if is_sequence else _TABLE, sql.Identifier(schema, name)
        )
        for role, privileges in _wanted(plan, is_sequence).items():
            if held.get(role, set()) != privileges:
                statements += regrant(target, role, privileges)
                corrected[role] = corrected.get(role, 0) + 1
    changes += [f"{role} on {count} objects" for role, count in sorted(corrected.items())]


def _default_privileges(
    plan: HookPlan,
    connection: Connection,
    schema: str,
    statements: list[Statement],
    changes: list[str],
) -> None:
    rows = connection.execute(
        "SELECT d.defaclobjtype, coalesce(r.rolname, 'PUBLIC'), a.privilege_type "
        "FROM pg_default_acl d JOIN pg_namespace n ON n.oid = d.defaclnamespace, "
        "aclexplode(d.defaclacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee "
        "WHERE n.nspname = %s AND pg_get_userbyid(d.defaclrole) = %s",
        (schema, plan.owner),
    ).fetchall()
    held: dict[tuple[str, str], set[str]] = {}
    for objtype, role, privilege in rows:
        held.setdefault((str(objtype), str(role)), set()).add(str(privilege))
    prefix = sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} ").format(
        sql.Identifier(plan.owner), sql.Identifier(schema)
    )
    for objtype, kind, on_sequences in (
        ("r", sql.SQL("TABLES"), False),
        ("S", sql.SQL("SEQUENCES"), True),
    ):
        for name, privileges in _wanted(plan, on_sequences).items():
            if name == PUBLIC or held.get((objtype, name), set()) == privileges:
                continue
            statements += regrant(kind, name, privileges, prefix)
            what = "sequences" if on_sequences else "tables"
            changes.append(f"default privileges for {name} on new {what}")
