"""Facts about a PostgreSQL cluster, read as the postgres OS user over the Unix socket.

Both run as root and switch with ``runuser`` (peer authentication: root cannot log in as the
postgres role). Both answer ``None`` while the cluster is not running, which is a state to act on
(start it), not an error.
"""

from pyinfra.api.facts import FactBase

from datalayer.timescaledb.backup import ArchiverStatus
from datalayer.timescaledb.changes import RunningServer


def _psql(version: int, cluster: str, sql: str) -> str:
    service = f"postgresql@{version}-{cluster}"
    return (
        f"if systemctl is-active --quiet {service}; then "
        f"runuser -u postgres -- psql --cluster {version}/{cluster} -XAtq -F '|' -d postgres "
        f'-c "{sql}"; fi'
    )


class PostgresqlRunningServer(FactBase[RunningServer | None]):
    """Each setting's context and the settings owed a restart, from ``pg_settings``."""

    def command(self, version: int, cluster: str) -> str:
        return _psql(version, cluster, "SELECT name, context, pending_restart FROM pg_settings")

    def process(self, output: list[str]) -> RunningServer | None:
        contexts: dict[str, str] = {}
        pending: set[str] = set()
        for line in output:
            name, context, pending_restart = line.split("|")
            contexts[name] = context
            if pending_restart == "t":
                pending.add(name)
        return RunningServer(contexts, frozenset(pending)) if contexts else None


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
        service = f"postgresql@{version}-{cluster}"
        return (
            f"if systemctl is-active --quiet {service}; then "
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
    failure; a hook error fails the fact, and so the deploy, before any change."""

    def command(self, command: str) -> str:
        return f"{command}; status=$?; [ $status -eq 0 ] || [ $status -eq 3 ]"

    @staticmethod
    def default() -> dict[str, list[str]]:
        return {"drift": [], "skipped": []}

    def process(self, output: list[str]) -> dict[str, list[str]]:
        return {
            "drift": [line.strip() for line in output if line.startswith("would be ")],
            "skipped": [line.strip() for line in output if line.startswith("skipped ")],
        }
