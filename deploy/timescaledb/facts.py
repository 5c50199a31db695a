"""Facts about a PostgreSQL cluster, read as the postgres OS user over the Unix socket.

All run as root and switch with ``runuser`` (peer authentication: root cannot log in as the
postgres role). All answer their default (``None``, nothing) while the cluster is not running or
the postgres user does not exist yet (a package install cut before postgresql-common's
maintainer script ran): states to act on (configure, start), not errors.
"""

from typing import Any

from pyinfra.api.facts import FactBase

from datalayer.timescaledb.backup import ArchiverStatus
from datalayer.timescaledb.changes import RunningServer


def as_postgres(command: str) -> str:
    """``command`` as the postgres OS user; nothing at all while that user does not exist."""
    return f"if id -u postgres >/dev/null 2>&1; then runuser -u postgres -- {command}; fi"


def _when_running(version: int, cluster: str, command: str) -> str:
    """``command`` only while the cluster's unit is active and the postgres user exists."""
    return (
        f"if systemctl is-active --quiet postgresql@{version}-{cluster} "
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


class PostgresqlLoginRoles(FactBase[dict[str, dict[str, Any]]]):
    """Login attributes, connection limit and stored SCRAM verifier of the named roles."""

    def command(self, version: int, cluster: str, roles: tuple[str, ...]) -> str:
        # Role names are validated SQL identifiers (datalayer.spec.types.Identifier).
        names = ", ".join(f"'{role}'" for role in roles) or "NULL"
        return _psql(
            version,
            cluster,
            "SELECT rolname, rolcanlogin, rolconnlimit, coalesce(rolpassword, '') "
            f"FROM pg_authid WHERE rolname IN ({names})",
        )

    @staticmethod
    def default() -> dict[str, dict[str, Any]]:
        return {}

    def process(self, output: list[str]) -> dict[str, dict[str, Any]]:
        roles: dict[str, dict[str, Any]] = {}
        for line in output:
            name, can_login, connection_limit, verifier = line.split("|", 3)
            roles[name] = {
                "login": can_login == "t",
                "connection_limit": int(connection_limit),
                "verifier": verifier or None,
            }
        return roles


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
            f"if id -u postgres >/dev/null 2>&1; then {command}; status=$?; "
            "[ $status -eq 0 ] || [ $status -eq 3 ]; "
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
