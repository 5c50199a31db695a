"""pyinfra operations for InfluxDB that pyinfra's own modules lack.

Each reads a fact, compares it with the wanted state, and yields commands or says ``noop``.
"""

import json
from collections.abc import Generator

from pydantic import SecretStr
from pyinfra.api.command import StringCommand
from pyinfra.api.operation import operation
from pyinfra.context import host

from datalayer.onhost.step import APPLY, CHECK
from deploy.influxdb.facts import InfluxdbSetupPending
from deploy.onhost import HOST_CODE_DIRECTORY, plan_file, step_command

SETUP_MODULE = "datalayer.onhost.influxdb_setup"
SETUP_FILE = f"{HOST_CODE_DIRECTORY}/influxdb_setup.py"
PLAN_FILE = plan_file("influxdb")


@operation()
def setup(
    service: str, admin_password: SecretStr, admin_token: SecretStr
) -> Generator[StringCommand, None, None]:
    """Onboard InfluxDB once, converge the bucket's retention, create missing scoped tokens.

    + service: the systemd unit of influxd
    + admin_password, admin_token: the operator's; passed on stdin, shown as ``***``

    The step (``datalayer.onhost.influxdb_setup``, uploaded with ``datalayer/onhost/``) runs on
    the droplet with its python3 against the uploaded plan (``PLAN_FILE``) and prints one line
    per item (created, changed, unchanged). Will not touch the operator user or token after
    onboarding, other buckets, or authorizations it did not create.
    """
    pending = host.get_fact(
        InfluxdbSetupPending,
        script=SETUP_FILE,
        plan=PLAN_FILE,
        service=service,
        command=step_command(SETUP_MODULE, CHECK, PLAN_FILE),
    )
    if not pending:
        host.noop("InfluxDB's org, bucket and tokens are as the spec says")
        return
    given = {
        "admin_password": admin_password.get_secret_value(),
        "admin_token": admin_token.get_secret_value(),
    }
    yield StringCommand(
        step_command(SETUP_MODULE, APPLY, PLAN_FILE),
        "#",
        "pending: " + "; ".join(pending).replace("\n", " "),
        _stdin=json.dumps(given),
    )
