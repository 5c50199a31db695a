"""InfluxDB's setup step for the Pulumi stacks: the droplets' ``converge``, against a container.

    python -m datalayer.influxdb.container_setup < INPUT_JSON

Run by the stack's setup command on the machine that runs pulumi up, against the container's
published API. INPUT_JSON is the droplet step's ``apply`` secrets (``{"admin_password",
"admin_token"}``) with the plan's JSON text (``Plan.to_json``) under ``"plan"``, given on stdin:
never on a command line.

What differs from the droplets is where the scoped tokens are kept, since InfluxDB shows a token
only in the answer that creates it. On a droplet they go to files on the host; here they go to
the stack's state: printed as JSON on stdout (``{"tokens": {"app": ..., "reader": ...}}``), which
the command resource holds as a secret output, and read back on the next run from
``PULUMI_COMMAND_STDOUT`` (pulumi-command's previous stdout). A token that still reads the
bucket is kept; one that does not (the volume was replaced, the authorization deleted) is
replaced. Progress lines, one per item as on droplets, go to stderr.
"""

import json
import os
import sys
import urllib.parse
from collections.abc import Mapping

from datalayer.onhost.influxdb_setup import (
    Credentials,
    Plan,
    SetupError,
    Transport,
    converge,
    http_transport,
    wait_until_ready,
)

PREVIOUS_OUTPUT_VARIABLE = "PULUMI_COMMAND_STDOUT"


class StackTokens:
    """The setup step's token store (``TokenFiles``) when the stack's state keeps the tokens:
    keyed by the plan's token files as on droplets, seeded with last run's tokens."""

    def __init__(self, plan: Plan, known: Mapping[str, str]) -> None:
        self._roles = {token.file: token.role for token in plan.tokens}
        self._tokens = {
            token.file: known[token.role] for token in plan.tokens if token.role in known
        }

    def exists(self, path: str) -> bool:
        return path in self._tokens

    def read(self, path: str) -> str | None:
        return self._tokens.get(path)

    def write(self, path: str, token: str) -> None:
        self._tokens[path] = token

    def by_role(self) -> dict[str, str]:
        """Every token the store holds, by role."""
        return {self._roles[path]: token for path, token in self._tokens.items()}


def previous_tokens(environ: Mapping[str, str]) -> dict[str, str]:
    """The tokens the last run printed, by role; none on the first run."""
    try:
        previous = json.loads(environ.get(PREVIOUS_OUTPUT_VARIABLE) or "{}")
        tokens = previous.get("tokens", {})
    except (ValueError, AttributeError):
        return {}
    if not isinstance(tokens, dict):
        return {}
    return {role: token for role, token in tokens.items() if isinstance(token, str)}


def still_valid(transport: Transport, plan: Plan, token: str) -> bool:
    """Whether ``token`` still reads the plan's bucket, the least any scoped token may do."""
    query = urllib.parse.urlencode({"name": plan.bucket, "org": plan.org})
    answer = transport("GET", f"/api/v2/buckets?{query}", None, token)
    return answer.status == 200 and bool((answer.body or {}).get("buckets"))


def main() -> int:
    given = json.load(sys.stdin)
    plan = Plan.from_json(given["plan"])
    credentials = Credentials(given["admin_password"], given["admin_token"])
    transport = http_transport(plan.url, plan.ca_file, plan.server_name)
    try:
        wait_until_ready(transport)
        known = {
            role: token
            for role, token in previous_tokens(os.environ).items()
            if still_valid(transport, plan, token)
        }
        store = StackTokens(plan, known)
        lines = converge(transport, plan, credentials, store)
    except SetupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for line in lines:
        print(line, file=sys.stderr)
    print(json.dumps({"tokens": store.by_role()}, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
