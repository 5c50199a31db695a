"""What every step shares: the plan, the mode, the report, and one way to make a change."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from datalayer.onhost.hooks.plan import HookPlan
from datalayer.onhost.hooks.report import Outcome, Report, Status

Connection = psycopg.Connection[tuple[object, ...]]
Statement = sql.SQL | sql.Composed
"""One SQL statement, composed with psycopg's ``sql`` module: identifiers quoted, values literal."""
Connect = Callable[[str], Connection]
"""Opens a new autocommit connection, as a superuser, to the named database."""


@dataclass
class Context:
    """One run of the hooks: apply (``check`` false) or report drift only (``check`` true)."""

    plan: HookPlan
    check: bool
    report: Report
    outcomes: list[Outcome] = field(default_factory=list)

    def tell(self, status: Status, kind: str, name: str, detail: str = "") -> None:
        """Report an item without changing anything (unchanged, skipped)."""
        outcome = Outcome(status, kind, name, detail, self.check)
        self.outcomes.append(outcome)
        self.report(outcome)

    def converge(
        self,
        connection: Connection,
        status: Status,
        kind: str,
        name: str,
        detail: str,
        statements: Sequence[Statement],
        *,
        as_owner: bool = False,
        transaction: bool = True,
    ) -> None:
        """Run ``statements`` (in one transaction unless ``transaction`` is false, as the owner
        role if ``as_owner``), then report; in check mode only report.

        Statement logging is off inside the transaction: a role's password verifier must not
        reach the server log through log_statement or log_min_duration_statement.
        """
        if not self.check:
            if transaction:
                with connection.transaction():
                    connection.execute("SET LOCAL log_statement = 'none'")
                    connection.execute("SET LOCAL log_min_duration_statement = -1")
                    if as_owner:
                        connection.execute(
                            sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(self.plan.owner))
                        )
                    for statement in statements:
                        connection.execute(statement)
            else:
                for statement in statements:
                    connection.execute(statement)
        self.tell(status, kind, name, detail)


def qualified(name: str) -> sql.Identifier:
    """``schema.table`` as a quoted identifier."""
    return sql.Identifier(*name.split("."))
