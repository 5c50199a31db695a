"""pyinfra operations for InfluxDB that pyinfra's own modules lack.

Each reads a fact, compares it with the wanted state, and yields commands or says ``noop``.
"""

import json
import shlex
from collections.abc import Generator

from pydantic import SecretStr
from pyinfra.api.command import StringCommand
from pyinfra.api.operation import operation
from pyinfra.context import host

from datalayer.influxdb.setup import Plan
from deploy.influxdb.facts import InfluxdbSetupPending


@operation()
def setup(
    script: str, service: str, plan: Plan, admin_password: SecretStr, admin_token: SecretStr
) -> Generator[StringCommand, None, None]:
    """Onboard InfluxDB once, converge the bucket's retention, create missing scoped tokens.

    + script: where the setup script (``datalayer/influxdb/setup.py``) was uploaded
    + service: the systemd unit of influxd
    + plan: what to converge to, from the spec (no secrets)
    + admin_password, admin_token: the operator's; passed on stdin, shown as ``***``

    The script runs on the droplet with its python3 and prints one line per item (created,
    changed, unchanged). Will not touch the operator user or token after onboarding, other
    buckets, or authorizations it did not create.
    """
    pending = host.get_fact(
        InfluxdbSetupPending, script=script, service=service, plan_json=json.dumps(plan.to_json())
    )
    if not pending:
        host.noop("InfluxDB's org, bucket and tokens are as the spec says")
        return
    given = {
        "plan": plan.to_json(),
        "admin_password": admin_password.get_secret_value(),
        "admin_token": admin_token.get_secret_value(),
    }
    yield StringCommand(
        "python3",
        shlex.quote(script),
        "--apply",
        "#",
        "pending: " + "; ".join(pending).replace("\n", " "),
        _stdin=json.dumps(given),
    )
