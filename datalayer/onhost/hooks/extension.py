"""The timescaledb extension of the application database: created, and kept at one version.

A package upgrade (``apt upgrade`` of Timescale's packages) installs a new library and makes its
version the default, but each database keeps running the version it was created or last updated
with until ``ALTER EXTENSION timescaledb UPDATE`` runs there. The hooks do it in the database
the spec declares; other databases are not theirs (the superuser may not even be let into them).
TimescaleDB's loader accepts that statement only as the first one of a fresh session: any
earlier statement loads the old version's library, and the update is then refused ("cannot be
updated after the old version has already been loaded", src/loader/loader.c,
should_load_on_alter_extension, 2.19.3). So the database is first read in a session that
disables loading (``SET timescaledb.disable_load``, a loader setting that the same file's
should_load_on_variable_set lets through without loading), and updated in a new session whose
first statement is the update.

The version converges to the one the spec pins (``timescaledb.extension_version``), or else to
the installed package's default. It never moves down: an extension cannot be downgraded in
place, and a lower target means the spec or the package is older than the database.
"""

import re
from dataclasses import dataclass

from psycopg import sql

from datalayer.onhost.hooks.context import Connect, Connection, Context
from datalayer.onhost.hooks.report import HookError, Status

EXTENSION = "timescaledb"


@dataclass(frozen=True)
class ExtensionState:
    """What one database says about the extension, read without loading its library."""

    database: str
    installed: str | None
    """``pg_extension.extversion``; None when the database does not have the extension."""
    default: str
    """The default version of the installed package (``pg_available_extensions``)."""
    available: frozenset[str]
    """The versions the installed package can create directly (``pg_available_extension_versions``:
    those with an install script; versions reached only by update scripts are not listed)."""


def version_key(version: str) -> tuple[int, ...]:
    """``'2.19.3'`` as ``(2, 19, 3)``, for ordering versions; ``2.27.0-p0`` orders as 2.27.0.0."""
    return tuple(int(part) for part in re.findall(r"\d+", version))


def target_version(state: ExtensionState, pinned: str | None) -> str:
    """The version ``state.database`` should run: the pin, or the package's default.

    Raises :class:`HookError` when the target is older than the version the database runs, or,
    for a database without the extension, when no install script of the target is there.
    (Whether a running version can be updated to the target is the server's to say:
    :func:`check_extension` asks it for the update path.)
    """
    target = state.default if pinned is None else pinned
    if state.installed is not None and version_key(target) < version_key(state.installed):
        source = "timescaledb.extension_version" if pinned is not None else "the package default"
        raise HookError(
            f"database {state.database} runs timescaledb {state.installed}, newer than {source} "
            f"{target}: an extension is never downgraded in place; raise the pin or install the "
            "newer package"
        )
    if state.installed is None and target not in state.available:
        raise HookError(
            f"timescaledb.extension_version {target!r} is not installed on this server (the "
            f"installed package installs {', '.join(sorted(state.available, key=version_key))}):"
            " install the package that ships it, or change the pin"
        )
    return target


def read_state(connect: Connect, database: str) -> ExtensionState:
    """The extension's versions in ``database``, from a session that never loads it."""
    with connect(database) as connection:
        connection.execute("SET timescaledb.disable_load = on")
        row = connection.execute(
            "SELECT (SELECT extversion FROM pg_extension WHERE extname = %s), "
            "(SELECT default_version FROM pg_available_extensions WHERE name = %s), "
            "ARRAY(SELECT version FROM pg_available_extension_versions WHERE name = %s)",
            (EXTENSION, EXTENSION, EXTENSION),
        ).fetchone()
    if row is None or row[1] is None:
        raise HookError(
            "the timescaledb extension is not installed on this server (no timescaledb.control)"
        )
    installed, default, available = row
    return ExtensionState(
        database,
        None if installed is None else str(installed),
        str(default),
        frozenset(str(version) for version in available),  # type: ignore[attr-defined]
    )


def check_extension(
    connect: Connect, maintenance: Connection, database: str, pinned: str | None
) -> tuple[ExtensionState, str]:
    """The application database's extension state and the version it converges to; raises
    :class:`HookError` before any change when the hooks cannot get there."""
    state = read_state(connect, database)
    target = target_version(state, pinned)
    if state.installed is not None and state.installed != target:
        _check_update_path(maintenance, state.installed, target)
    return state, target


def converge_extension(
    context: Context, connect: Connect, state: ExtensionState, target: str
) -> None:
    """Create the extension at ``target``, or update it there in a fresh session."""
    name = f"timescaledb in {state.database}"
    if state.installed == target:
        context.tell(Status.UNCHANGED, "extension", name, f"version {target}")
        return
    if state.installed is None:
        statement = sql.SQL("CREATE EXTENSION {} VERSION {}").format(
            sql.Identifier(EXTENSION), sql.Literal(target)
        )
        status, detail = Status.CREATED, f"version {target}"
    else:
        statement = sql.SQL("ALTER EXTENSION {} UPDATE TO {}").format(
            sql.Identifier(EXTENSION), sql.Literal(target)
        )
        status, detail = Status.CHANGED, f"{state.installed} -> {target}"
    if context.check:
        context.tell(status, "extension", name, detail)
        return
    # A new session, and the statement first in it: see the module's docstring.
    with connect(state.database) as fresh:
        context.converge(fresh, status, "extension", name, detail, [statement], transaction=False)


def _check_update_path(connection: Connection, source: str, target: str) -> None:
    row = connection.execute(
        "SELECT path FROM pg_extension_update_paths(%s) WHERE source = %s AND target = %s",
        (EXTENSION, source, target),
    ).fetchone()
    if row is None or row[0] is None:
        raise HookError(
            f"timescaledb {source} cannot be updated to {target}: the installed package has no "
            f"update path (no chain of timescaledb--{source}--*.sql scripts reaches {target}); "
            "install the package that ships it, or change the pin"
        )
