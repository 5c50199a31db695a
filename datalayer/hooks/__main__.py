"""Apply or check the post-provision hooks of an environment against a running server.

    python -m datalayer.hooks apply --env prod --dsn 'host=10.110.0.5 user=postgres sslmode=require'
    python -m datalayer.hooks check --env sandbox     # local socket, as the postgres OS user

Prints one line per item (created, changed, unchanged, skipped). Exit status: 0 done (or, for
check, nothing differs), 1 a hook failed, 2 bad input (spec, secrets, arguments), 3 check found
drift. Secrets come from the environment, never from argv: role passwords from the spec's
``password_secret`` variables (or ``NAME_FILE``), the server's password from libpq's
``PGPASSWORD`` or ``PGPASSFILE``; a DSN holding a password is refused.
"""

import argparse
import sys

import psycopg
from psycopg.conninfo import conninfo_to_dict

from datalayer.hooks.build import build_plan, password_changes
from datalayer.onhost.hooks.console import execute
from datalayer.onhost.hooks.context import Connection
from datalayer.onhost.step import EXIT_BAD_INPUT, EXIT_FAILED
from datalayer.secrets import SecretError, role_passwords
from datalayer.spec import SpecError, load_environment

LOCAL_SOCKET = "host=/var/run/postgresql user=postgres"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m datalayer.hooks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("mode", choices=("apply", "check"))
    parser.add_argument("--env", required=True, help="environment (Pulumi.<env>.yaml)")
    parser.add_argument(
        "--dsn", default=LOCAL_SOCKET, help=f"libpq connection string (default: {LOCAL_SOCKET})"
    )
    arguments = parser.parse_args(argv)
    try:
        if "password" in conninfo_to_dict(arguments.dsn):
            raise SpecError("--dsn holds a password: give it in PGPASSWORD or PGPASSFILE instead")
        environment = load_environment(arguments.env)
        plan = build_plan(environment)
        passwords = role_passwords(environment.timescaledb)
    except (SpecError, SecretError, psycopg.ProgrammingError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT

    def connect(database: str) -> Connection:
        return psycopg.connect(arguments.dsn, dbname=database, autocommit=True)

    try:
        with connect("postgres") as connection:
            rows = connection.execute(
                "SELECT rolname, rolpassword FROM pg_authid WHERE rolname = ANY(%s)",
                (list(passwords),),
            ).fetchall()
    except psycopg.Error as error:
        print(f"error: {str(error).strip().splitlines()[0]}", file=sys.stderr)
        return EXIT_FAILED
    stored = {str(name): None if verifier is None else str(verifier) for name, verifier in rows}
    verifiers = password_changes(passwords, stored)
    return execute(connect, plan, verifiers, check=arguments.mode == "check")


if __name__ == "__main__":
    sys.exit(main())
