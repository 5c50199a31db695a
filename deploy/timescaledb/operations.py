"""pyinfra operations for a PostgreSQL cluster that pyinfra's own ``postgres`` module lacks.

Each reads a fact, compares it with the wanted state, and yields commands or says ``noop``.
"""

from collections.abc import Generator
from io import StringIO
from typing import Any

from pyinfra.api.command import StringCommand
from pyinfra.api.operation import operation
from pyinfra.context import host
from pyinfra.facts.files import Directory
from pyinfra.operations import files

from datalayer.timescaledb.changes import Action, decide
from datalayer.timescaledb.layout import PostgresqlLayout
from deploy.facts import PathState, PathStates
from deploy.operations import WantedFile, current_text, file_commands
from deploy.timescaledb.facts import PostgresqlRunningServer, file_errors_sql, run_psql


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
    layout: PostgresqlLayout, postgresql_conf: str, pg_hba_conf: str
) -> Generator[Any, None, None]:
    """Install postgresql.conf and pg_hba.conf, then reload or restart only as much as needed.

    + layout: the cluster (version, name), its paths and service
    + postgresql_conf: the rendered postgresql.conf
    + pg_hba_conf: the rendered pg_hba.conf

    The decision comes from PostgreSQL itself: a changed setting whose ``pg_settings.context`` is
    ``postmaster`` (from the running server, else from the catalogue of this major version), or a
    restart it already owes (``pending_restart``), restarts; any other change, pg_hba.conf
    included, reloads; no change does neither. The running server is judged as well as the
    files, so that a run whose reload or restart failed after writing them (or that was cut
    there) is finished by the next one although the files no longer differ: files written after
    the server last loaded them reload, a setting in them only a restart applies restarts.

    A changed postgresql.conf is checked by the server binary itself before it replaces the
    one in force (:func:`_checked_install`): one PostgreSQL refuses stops the deploy with one
    line, and the running server, its file and pg_hba.conf are left as they were. What that
    check cannot see (an extension's setting, a placeholder until its library loads) is caught
    once the files are in force: the deploy stops, naming file, line and error, rather than let
    the server go on running with the old value, silently.

    pg_hba.conf has no such check: PostgreSQL reads only the file ``hba_file`` names (a
    postmaster setting; ``pg_hba_file_rules`` reads that file, ``postgres -C`` none), so a
    candidate cannot be judged elsewhere. Its lines come from records the spec judges whole,
    and a reload onto a file PostgreSQL refuses keeps the rules it had ('pg_hba.conf was not
    reloaded'), which the check after the install then reports.
    """
    managed = (layout.postgresql_conf, layout.pg_hba_conf)
    wanted_conf, wanted_hba = _wanted_files(layout, postgresql_conf, pg_hba_conf)
    found = host.get_fact(PathStates, paths=managed)
    server = host.get_fact(
        PostgresqlRunningServer, version=layout.version, cluster=layout.cluster, files=managed
    )
    decision = decide(
        current_text(wanted_conf, found.get(wanted_conf.path)), postgresql_conf,
        current_text(wanted_hba, found.get(wanted_hba.path)), pg_hba_conf,
        server, layout.version,
    )  # fmt: skip
    yield from _install_files(layout, wanted_conf, wanted_hba, found)
    check = _file_errors_check(layout.version, layout.cluster, managed)
    if decision.action is Action.NONE:
        if server is not None and server.file_errors:
            yield check
            return
        host.noop(decision.describe())
        return
    verb = "restart" if decision.action is Action.RESTART else "reload"
    yield StringCommand(f"systemctl {verb} {layout.service}", "#", decision.describe())
    yield check


def _wanted_files(
    layout: PostgresqlLayout, postgresql_conf: str, pg_hba_conf: str
) -> tuple[WantedFile, WantedFile]:
    """postgresql.conf and pg_hba.conf as the cluster's files should be: postgres's, and
    pg_hba.conf readable by its group only."""
    return (
        WantedFile(
            layout.postgresql_conf, postgresql_conf.encode(), mode=0o644, user="postgres",
            group="postgres",
        ),
        WantedFile(
            layout.pg_hba_conf, pg_hba_conf.encode(), mode=0o640, user="postgres",
            group="postgres",
        ),
    )  # fmt: skip


def _install_files(
    layout: PostgresqlLayout,
    wanted_conf: WantedFile,
    wanted_hba: WantedFile,
    found: dict[str, PathState],
) -> Generator[Any, None, None]:
    """The commands that bring both files to what is wanted; a changed postgresql.conf goes
    through the server binary's check first (:func:`_checked_install`) when there is one."""
    if layout.server_binary is not None and not _same_content(wanted_conf, found):
        candidate = f"{layout.postgresql_conf}.candidate"
        yield from files.put._inner(
            src=StringIO(wanted_conf.content.decode()), dest=candidate, user="postgres",
            group="postgres", mode="600",
        )  # fmt: skip
        yield _checked_install(layout, candidate)
    else:
        yield from file_commands(wanted_conf, found.get(wanted_conf.path))
    yield from file_commands(wanted_hba, found.get(wanted_hba.path))


def _same_content(wanted: WantedFile, found: dict[str, PathState]) -> bool:
    state = found.get(wanted.path)
    return state is not None and state.holds(wanted.content)


def _checked_install(layout: PostgresqlLayout, candidate: str) -> StringCommand:
    """Moves ``candidate`` onto postgresql.conf only if the server binary accepts it.

    ``postgres -C`` reads the whole configuration (the candidate, then postgresql.auto.conf in
    the data directory) as a starting server would, judging every value with the server's own
    parsers and check hooks, and exits before it takes the data directory's lock, so it runs
    beside a live server (PostgreSQL's reference page for ``postgres``: "This can be used on a
    running server"; seen on PostgreSQL 17.12, whose postmaster kept its start time).
    It does not see what is judged later in startup (memory to allocate, ports to bind, checks
    across settings such as wal_level against archive_mode) nor the values of extensions'
    settings, which their libraries judge once loaded. A refusal is reported as one line: the
    file, then PostgreSQL's messages with their log prefix cut, the candidate's name replaced by
    the file's (line numbers are the rendered file's), and its closing 'contains errors' left
    out. The move is a rename within one directory: the file in place is always whole.
    """
    assert layout.server_binary is not None
    real = layout.postgresql_conf
    check = (
        f"runuser -u postgres -- {layout.server_binary} -D {layout.data_directory} "
        f"-c config_file={candidate} -C data_directory"
    )
    refused = f'$(printf "%s\\n" "$refusal" | {refusal_line(candidate, real)})'
    return StringCommand(
        f"if refusal=$({check} 2>&1 >/dev/null); then chmod 644 {candidate} && mv -f {candidate} "
        f'{real}; else rm -f {candidate}; echo "{real}: not installed, PostgreSQL {layout.version} '
        f'refuses it: {refused}" >&2; exit 1; fi',
        "#",
        "PostgreSQL accepts the new postgresql.conf: move it into place",
    )


def refusal_line(candidate: str, real: str) -> str:
    """A shell filter that makes what ``postgres -C`` wrote to stderr about ``candidate`` one
    line about ``real``: each message without its log line prefix (the candidate's own
    log_line_prefix may already apply), joined by '; ', and without the closing
    'configuration file ... contains errors', which the line says already. Lines without a
    severity (runuser's own errors) are kept whole."""
    return (
        f"sed 's#{candidate}#{real}#g' | awk '/ contains errors$/ {{ next }} "
        '{ sub(/^.*(LOG|DETAIL|HINT|ERROR|FATAL):  /, ""); '
        'line = line (line == "" ? "" : "; ") $0 } END { print line }\''
    )


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
