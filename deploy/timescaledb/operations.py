"""pyinfra operations for a PostgreSQL cluster that pyinfra's own ``postgres`` module lacks.

Each reads a fact, compares it with the wanted state, and yields commands or says ``noop``.
"""

from collections.abc import Generator
from io import StringIO
from typing import Any

from pyinfra.api.command import StringCommand
from pyinfra.api.operation import operation
from pyinfra.context import host
from pyinfra.facts.files import Directory, FileContents
from pyinfra.operations import files

from datalayer.timescaledb.changes import Action, decide
from datalayer.timescaledb.layout import PostgresqlLayout
from deploy.timescaledb.facts import PostgresqlRunningServer, file_errors_sql, run_psql


def _psql(version: int, cluster: str, sql: str, summary: str) -> StringCommand:
    """psql as postgres reading ``sql`` from stdin, so that the SQL (which may hold a password
    verifier) is not on any command line; ``summary`` is shown in pyinfra's output instead."""
    return StringCommand(
        "runuser -u postgres -- psql",
        f"--cluster {version}/{cluster}",
        "-Xq -v ON_ERROR_STOP=1 -d postgres -f -",
        "#",
        summary,
        _stdin=sql,
    )


@operation()
def cluster(version: int, cluster: str, data_directory: str) -> Generator[str, None, None]:
    """Create a postgresql-common cluster unless its data directory exists.

    + version: PostgreSQL major version
    + cluster: cluster name
    + data_directory: where the cluster keeps its data

    Will not touch an existing cluster: its data is never re-initialised.
    """
    if host.get_fact(Directory, path=data_directory):
        host.noop(f"cluster {version}/{cluster} exists")
        return
    yield f"pg_createcluster --start-conf=auto {version} {cluster}"


@operation()
def configuration(
    version: int, layout: PostgresqlLayout, postgresql_conf: str, pg_hba_conf: str
) -> Generator[Any, None, None]:
    """Install postgresql.conf and pg_hba.conf, then reload or restart only as much as needed.

    + version: PostgreSQL major version
    + layout: the cluster's paths and service
    + postgresql_conf: the rendered postgresql.conf
    + pg_hba_conf: the rendered pg_hba.conf

    The decision comes from PostgreSQL itself: a changed setting whose ``pg_settings.context`` is
    ``postmaster`` (from the running server, else from the catalogue of this major version), or a
    restart it already owes (``pending_restart``), restarts; any other change, pg_hba.conf
    included, reloads; no change does neither. The running server is judged as well as the
    files, so that a run whose reload or restart failed after writing them (or that was cut
    there) is finished by the next one although the files no longer differ: files written after
    the server last loaded them reload, a setting in them only a restart applies restarts.

    Stops, naming file, line and error, when PostgreSQL finds an error in the files once they
    are in force: it would otherwise go on running with the old value, silently.
    """
    cluster_name = layout.cluster_name.split("/")[1]
    managed = (layout.postgresql_conf, layout.pg_hba_conf)
    current_conf = host.get_fact(FileContents, path=layout.postgresql_conf)
    current_hba = host.get_fact(FileContents, path=layout.pg_hba_conf)
    server = host.get_fact(
        PostgresqlRunningServer, version=version, cluster=cluster_name, files=managed
    )
    decision = decide(
        None if current_conf is None else "\n".join(current_conf) + "\n",
        postgresql_conf,
        None if current_hba is None else "\n".join(current_hba) + "\n",
        pg_hba_conf,
        server,
        version,
    )
    for content, path, mode in (
        (postgresql_conf, layout.postgresql_conf, "644"),
        (pg_hba_conf, layout.pg_hba_conf, "640"),
    ):
        yield from files.put._inner(
            src=StringIO(content), dest=path, user="postgres", group="postgres", mode=mode
        )
    check = _file_errors_check(version, cluster_name, managed)
    if decision.action is Action.NONE:
        if server is not None and server.file_errors:
            yield check
            return
        host.noop(decision.describe())
        return
    verb = "restart" if decision.action is Action.RESTART else "reload"
    yield StringCommand(f"systemctl {verb} {layout.service}", "#", decision.describe())
    yield check


def _file_errors_check(version: int, cluster: str, files: tuple[str, ...]) -> StringCommand:
    """Fails, printing ``file:line: setting: error`` for each, when PostgreSQL finds errors in
    ``files`` (its own words: 'setting could not be applied' for a value it refuses)."""
    sql = (
        "SELECT sourcefile || ':' || sourceline || ': ' "
        "|| CASE WHEN setting = '' THEN '' ELSE setting || ': ' END || error "
        f"FROM ({file_errors_sql(files)}) AS errors"
    )
    return StringCommand(
        f"errors=$({run_psql(version, cluster, sql)})",
        '&& test -z "$errors" || { echo "$errors" >&2; exit 1; }',
        "#",
        "PostgreSQL finds no error in the files",
    )
