"""Grantees and privilege lists as SQL, shared by the database and schema privilege steps."""

from psycopg import sql

from datalayer.onhost.hooks.context import Statement

PUBLIC = "PUBLIC"
"""The pseudo-role every role belongs to; ``aclexplode`` reports it as grantee 0."""

_KEYWORDS = {
    "SELECT": sql.SQL("SELECT"),
    "INSERT": sql.SQL("INSERT"),
    "UPDATE": sql.SQL("UPDATE"),
    "DELETE": sql.SQL("DELETE"),
    "USAGE": sql.SQL("USAGE"),
    "CREATE": sql.SQL("CREATE"),
    "CONNECT": sql.SQL("CONNECT"),
}


_NO_PREFIX = sql.SQL("")


def grantee(name: str) -> sql.Composable:
    """A role name, or the PUBLIC keyword, as SQL."""
    return sql.SQL("PUBLIC") if name == PUBLIC else sql.Identifier(name)


def privilege_list(privileges: set[str]) -> sql.Composable:
    """``SELECT, UPDATE`` from a set of privilege names the hooks grant."""
    return sql.SQL(", ").join(_KEYWORDS[name] for name in sorted(privileges))


def grants_by_grantee(rows: list[tuple[object, ...]]) -> dict[str, set[str]]:
    """(grantee, privilege) rows, as from ``aclexplode``, grouped by grantee."""
    held: dict[str, set[str]] = {}
    for name, privilege in rows:
        held.setdefault(str(name), set()).add(str(privilege))
    return held


def regrant(
    target: sql.Composable,
    name: str,
    privileges: set[str],
    prefix: sql.Composable = _NO_PREFIX,
) -> list[Statement]:
    """Statements that leave ``name`` holding exactly ``privileges`` on ``target``; ``prefix``
    (``ALTER DEFAULT PRIVILEGES ...``) makes them about objects created later."""
    who = grantee(name)
    statements: list[Statement] = [
        sql.SQL("{}REVOKE ALL ON {} FROM {}").format(prefix, target, who)
    ]
    if privileges:
        statements.append(
            sql.SQL("{}GRANT {} ON {} TO {}").format(
                prefix, privilege_list(privileges), target, who
            )
        )
    return statements


def describe(privileges: set[str]) -> str:
    return ",".join(sorted(privileges)) or "none"
