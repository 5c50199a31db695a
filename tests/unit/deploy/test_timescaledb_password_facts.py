"""The deploy decides which role passwords changed without any verifier in pyinfra's output.

``pyinfra -vvv`` prints every fact's output (pyinfra/api/facts.py:322-326, with
``state.print_fact_output`` set by -vvv, pyinfra_cli/cli.py:624-626) and ``-vv`` every command.
A stored SCRAM verifier shown there lets its reader test password guesses offline, so the host
sends back only each verifier's salt header, the candidates go to the host on stdin, and the
host answers with role names.
"""

from datalayer import scram
from deploy.timescaledb.facts import (
    PostgresqlCurrentPasswords,
    PostgresqlPasswordSalts,
    current_passwords_query,
)

PASSWORD = "app-password-0123456789"
STORED = scram.verifier(PASSWORD)
"""What PostgreSQL stores for PASSWORD (tests/unit/test_scram.py checks the derivation)."""


def test_salt_fact_asks_the_server_for_the_salt_header_only() -> None:
    command = PostgresqlPasswordSalts().command(17, "main", ("app", "reader"))
    assert "split_part(rolpassword, '\\$', 2)" in command
    assert command.count("rolpassword") == 2  # the header, and the filter on SCRAM verifiers


def test_salt_header_is_the_public_part_of_the_verifier() -> None:
    header = scram.salt_header(STORED)
    assert header is not None
    assert STORED.startswith(f"SCRAM-SHA-256${header}$")
    stored_key, server_key = STORED.split("$")[2].split(":")
    assert stored_key not in header
    assert server_key not in header


def test_salt_fact_output_is_read_by_role() -> None:
    header = scram.salt_header(STORED)
    assert PostgresqlPasswordSalts().process([f"app|{header}"]) == {"app": header}


def test_candidate_from_the_header_is_the_stored_verifier_for_the_right_password() -> None:
    header = scram.salt_header(STORED)
    assert header is not None
    assert scram.verifier_with(PASSWORD, header) == STORED
    assert scram.verifier_with("another-password-0123", header) != STORED


def test_candidates_go_on_stdin_and_never_on_the_command_line() -> None:
    candidate = scram.verifier_with(PASSWORD, str(scram.salt_header(STORED)))
    assert candidate is not None
    query = current_passwords_query({"app": candidate})
    command = PostgresqlCurrentPasswords().command(17, "main")
    assert candidate in query
    assert candidate not in command
    assert command.endswith("-f -; fi")  # psql reads the query from stdin


def test_comparison_runs_with_statement_logging_off() -> None:
    query = current_passwords_query({"app": STORED})
    lines = query.splitlines()
    assert lines[:2] == ["SET log_statement = 'none';", "SET log_min_duration_statement = -1;"]
    assert lines[2] == (
        "SELECT rolname FROM pg_authid WHERE (rolname, rolpassword) "
        f"IN (VALUES ('app', '{STORED}'));"
    )


def test_current_passwords_fact_answers_role_names() -> None:
    assert PostgresqlCurrentPasswords().process(["app", ""]) == ["app"]
