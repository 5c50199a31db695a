"""Facts about a PostgreSQL cluster and its pgBackRest stanza, read as the postgres OS user
(over the Unix socket for PostgreSQL).

All run as root and switch with ``runuser`` (peer authentication: root cannot log in as the
postgres role). All answer their default (``None``, nothing) while the cluster is not running or
the postgres user does not exist yet (a package install cut before postgresql-common's
maintainer script ran): states to act on (configure, start), not errors.
"""

import json

from pyinfra.api.facts import FactBase

from datalayer.timescaledb.backup.archiving import ArchiverStatus, StanzaStatus
from datalayer.timescaledb.changes import RunningServer
from deploy.onhost import check_command


def as_postgres(command: str) -> str:
    """``command`` as the postgres OS user; nothing at all while that user does not exist."""
    return f"if id -u postgres >/dev/null 2>&1; then runuser -u postgres -- {command}; fi"


def server_units(version: int, cluster: str) -> str:
    """The units either of which runs the cluster: postgresql-common's ``postgresql@V-C`` on a
    single host, Patroni's ``patroni@V-C`` on a cluster member. ``systemctl is-active`` of both
    succeeds when either is active (systemctl(1): "at least one")."""
    return f"postgresql@{version}-{cluster} patroni@{version}-{cluster}"


def _when_running(version: int, cluster: str, command: str) -> str:
    """``command`` only while the cluster's unit is active and the postgres user exists."""
    return (
        f"if systemctl is-active --quiet {server_units(version, cluster)} "
        f"&& id -u postgres >/dev/null 2>&1; then {command}; fi"
    )


def run_psql(version: int, cluster: str, sql: str) -> str:
    """psql as postgres running ``sql``: unaligned, tuples only, fields split by '|'."""
    return (
        f"runuser -u postgres -- psql --cluster {version}/{cluster} -XAtq -F '|' -d postgres "
        f'-c "{sql}"'
    )


def file_errors_sql(files: tuple[str, ...]) -> str:
    """SQL for what the server finds wrong in ``files`` now (it reads them at query time):
    columns sourcefile, sourceline, setting, context, error; an empty setting and context for
    a line of pg_hba.conf or one that does not parse."""
    managed = ", ".join(f"'{path}'" for path in files)
    return (
        "SELECT f.sourcefile, f.sourceline, coalesce(f.name, '') AS setting, "
        "coalesce(s.context, '') AS context, f.error "
        "FROM pg_file_settings f LEFT JOIN pg_settings s USING (name) "
        f"WHERE f.error IS NOT NULL AND f.sourcefile IN ({managed}) "
        "UNION ALL SELECT file_name, line_number, '', '', error FROM pg_hba_file_rules "
        f"WHERE error IS NOT NULL AND file_name IN ({managed})"
    )


def _psql(version: int, cluster: str, sql: str) -> str:
    return _when_running(version, cluster, run_psql(version, cluster, sql))


class PostgresqlRunningServer(FactBase[RunningServer | None]):
    """What the running server says of its configuration: each setting's context and the
    settings owed a restart (``pg_settings``), when it last loaded its files
    (``pg_conf_load_time()``) against when they were written, and what it finds wrong in them
    now (``pg_file_settings``, ``pg_hba_file_rules``: both read the files at query time).

    pg_file_settings marks a postmaster-context setting whose value in the file differs from the
    running one with the error 'setting could not be applied': a restart is owed even before
    any reload has set ``pending_restart``. Any other error is a fault in the file.
    """

    def command(self, version: int, cluster: str, files: tuple[str, ...]) -> str:
        sql = (
            "SELECT 'setting', name, context, pending_restart::text FROM pg_settings "
            "UNION ALL SELECT 'loaded', extract(epoch FROM pg_conf_load_time())::text, '', '' "
            "UNION ALL SELECT 'file', sourcefile, sourceline::text, "
            "setting || '|' || context || '|' || error "
            f"FROM ({file_errors_sql(files)}) AS errors"
        )
        # The files' times to the nanosecond: pg_stat_file() has whole seconds only, and a file
        # written in the second after a load would look loaded.
        return _when_running(
            version,
            cluster,
            f"{run_psql(version, cluster, sql)} && stat -c 'written|%n|%.9Y' " + " ".join(files),
        )

    def process(self, output: list[str]) -> RunningServer | None:
        contexts: dict[str, str] = {}
        pending: set[str] = set()
        loaded = 0.0
        written = 0.0
        errors: list[str] = []
        for line in output:
            kind, rest = line.split("|", 1)
            if kind == "setting":
                name, context, pending_restart = rest.split("|")
                contexts[name] = context
                if pending_restart == "true":
                    pending.add(name)
            elif kind == "loaded":
                loaded = float(rest.split("|")[0])
            elif kind == "written":
                written = max(written, float(rest.rsplit("|", 1)[1]))
            elif kind == "file":
                path, line_number, name, context, error = rest.split("|", 4)
                if context == "postmaster" and error == "setting could not be applied":
                    pending.add(name)
                else:
                    errors.append(f"{path}:{line_number}: {name + ': ' if name else ''}{error}")
        if not contexts:
            return None
        return RunningServer(contexts, frozenset(pending), written > loaded, tuple(errors))


class PostgresqlPasswordSalts(FactBase[dict[str, str]]):
    """The ``<iterations>:<salt>`` header of each named role's stored SCRAM verifier, never the
    verifier itself.

    pyinfra -vvv prints every fact's output (``pyinfra/api/facts.py:322-326`` passes
    ``state.print_fact_output``, which ``-vvv`` sets, ``pyinfra_cli/cli.py:624-626``): a
    verifier printed there lets its reader test guesses of the password offline. The header is
    what the server sends any client that starts a SCRAM login; the comparison itself runs on
    the host (:class:`PostgresqlCurrentPasswords`). Roles without a SCRAM verifier are left out.
    """

    def command(self, version: int, cluster: str, roles: tuple[str, ...]) -> str:
        # Role names are validated SQL identifiers (datalayer.spec.types.Identifier).
        names = ", ".join(f"'{role}'" for role in roles) or "NULL"
        return _psql(
            version,
            cluster,
            "SELECT rolname, split_part(rolpassword, '\\$', 2) FROM pg_authid "
            f"WHERE rolname IN ({names}) AND rolpassword LIKE 'SCRAM-SHA-256\\$%'",
        )

    @staticmethod
    def default() -> dict[str, str]:
        return {}

    def process(self, output: list[str]) -> dict[str, str]:
        return dict(line.split("|", 1) for line in output)


class PostgresqlCurrentPasswords(FactBase[list[str]]):
    """The roles whose stored verifier equals the candidate sent on the fact's stdin
    (:func:`current_passwords_query`), compared by the server: only role names come back, and
    the candidates are on no command line. Call with ``_stdin=current_passwords_query(...)``."""

    def command(self, version: int, cluster: str) -> str:
        return (
            f"if systemctl is-active --quiet {server_units(version, cluster)}; then "
            f"runuser -u postgres -- psql --cluster {version}/{cluster} -XAtq -d postgres -f -; fi"
        )

    @staticmethod
    def default() -> list[str]:
        return []

    def process(self, output: list[str]) -> list[str]:
        return [line for line in output if line]


def current_passwords_query(candidates: dict[str, str]) -> str:
    """SQL for :class:`PostgresqlCurrentPasswords`: the roles whose verifier is the candidate.
    Statement logging is off for the session, so no candidate reaches the server's log."""
    rows = ", ".join(
        "('{}', '{}')".format(role.replace("'", "''"), verifier.replace("'", "''"))
        for role, verifier in sorted(candidates.items())
    )
    return (
        "SET log_statement = 'none';\nSET log_min_duration_statement = -1;\n"
        f"SELECT rolname FROM pg_authid WHERE (rolname, rolpassword) IN (VALUES {rows});\n"
    )


class PostgresqlArchiver(FactBase[ArchiverStatus | None]):
    """archive_mode and archive_command in effect, and ``pg_stat_archiver``'s counters."""

    def command(self, version: int, cluster: str) -> str:
        return _psql(
            version,
            cluster,
            "SELECT current_setting('archive_mode'), current_setting('archive_command'), "
            "archived_count, failed_count, coalesce(last_archived_wal, ''), "
            "coalesce(last_failed_time > coalesce(last_archived_time, '-infinity'), false) "
            "FROM pg_stat_archiver",
        )

    def process(self, output: list[str]) -> ArchiverStatus | None:
        if not output:
            return None
        # archive_command may hold '|' itself: split the fields around it.
        mode, rest = output[0].split("|", 1)
        command, archived, failed, last_wal, failing = rest.rsplit("|", 4)
        return ArchiverStatus(
            archive_mode=mode,
            archive_command=command,
            archived_count=int(archived),
            failed_count=int(failed),
            last_archived_wal=last_wal,
            failing=failing == "t",
        )


class HooksDrift(FactBase[dict[str, list[str]]]):
    """The post-provision hooks' ``check``: under "drift" what they would create or change,
    under "skipped" what they leave out and why (optional policies the edition lacks); both
    empty lists when there is nothing to say. Exit status 3 (drift) is an answer here, not a
    failure; a hook error fails the fact, and so the deploy, before any change. Before the
    postgres user exists everything is drift: the hooks have not run."""

    def command(self, command: str) -> str:
        return (
            f"if id -u postgres >/dev/null 2>&1; then {check_command(command)}; "
            "else echo 'would be brought to the plan once PostgreSQL is installed'; fi"
        )

    @staticmethod
    def default() -> dict[str, list[str]]:
        return {"drift": [], "skipped": []}

    def process(self, output: list[str]) -> dict[str, list[str]]:
        return {
            "drift": [line.strip() for line in output if line.startswith("would be ")],
            "skipped": [line.strip() for line in output if line.startswith("skipped ")],
        }


def pgbackrest_arguments(stanza: str, command: str, *options: str) -> str:
    """pgBackRest's command line for ``command`` on ``stanza``, without the switch to postgres."""
    return " ".join(["pgbackrest", f"--stanza={stanza}", *options, command])


class PgbackrestStanza(FactBase[StanzaStatus | None]):
    """The stanza's status in the repository the host's configuration names (``pgbackrest
    info``); None while pgBackRest is not installed, or is unpacked but its postgres user not
    created yet."""

    def requires_command(self, stanza: str) -> str:
        return "pgbackrest"

    def command(self, stanza: str) -> str:
        return as_postgres(pgbackrest_arguments(stanza, "info", "--output=json"))

    @staticmethod
    def default() -> StanzaStatus | None:
        return None

    def process(self, output: list[str]) -> StanzaStatus | None:
        (found,) = json.loads("\n".join(output))
        return StanzaStatus(
            code=int(found["status"]["code"]),
            message=str(found["status"]["message"]),
            backups=len(found["backup"]),
        )
