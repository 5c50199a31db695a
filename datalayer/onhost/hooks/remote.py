"""The hooks on a droplet, as the postgres OS user over the local socket (peer authentication).

    runuser -u postgres -- python3 -m datalayer.onhost.hooks.remote check PLAN_FILE --port PORT
    runuser -u postgres -- python3 -m datalayer.onhost.hooks.remote apply PLAN_FILE --port PORT \
        < VERIFIERS

The pyinfra deploy uploads this package's runtime modules (standard library and psycopg only)
and the plan, which holds no secret. Passwords never reach the droplet: the control machine
sends only the SCRAM verifiers of the roles whose password must change, as JSON on stdin.
"""

import json
import sys
from pathlib import Path

import psycopg

from datalayer.onhost import step
from datalayer.onhost.hooks.console import execute
from datalayer.onhost.hooks.context import Connection
from datalayer.onhost.hooks.plan import HookPlan

SOCKET_DIRECTORY = "/var/run/postgresql"


def main(argv: list[str] | None = None) -> int:
    parser = step.arguments(
        "python3 -m datalayer.onhost.hooks.remote", "Check or apply the post-provision hooks."
    )
    parser.add_argument("--port", type=int, default=5432)
    arguments = parser.parse_args(argv)
    plan = HookPlan.from_json(Path(arguments.plan).read_text())
    verifiers: dict[str, str] = {}
    if arguments.mode == step.APPLY:
        given = sys.stdin.read()
        verifiers = json.loads(given) if given.strip() else {}
        if not all(isinstance(value, str) for value in verifiers.values()):
            print("error: stdin must hold a JSON object of role name to verifier")
            return step.EXIT_BAD_INPUT

    def connect(database: str) -> Connection:
        return psycopg.connect(
            host=SOCKET_DIRECTORY, port=arguments.port, dbname=database, autocommit=True
        )

    return execute(connect, plan, verifiers, check=arguments.mode == step.CHECK)


if __name__ == "__main__":
    sys.exit(main())
