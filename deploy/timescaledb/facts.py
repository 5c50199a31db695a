"""Facts about a PostgreSQL cluster, read as the postgres OS user over the Unix socket.

Both run as root and switch with ``runuser`` (peer authentication: root cannot log in as the
postgres role). Both answer ``None`` while the cluster is not running, which is a state to act on
(start it), not an error.
"""

from typing import Any

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
