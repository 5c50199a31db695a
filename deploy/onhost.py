"""The code that runs on a droplet: ``datalayer/onhost/`` uploaded whole, and its command lines.

The folder holds the standard library and psycopg only (``tests/unit/test_onhost.py`` reads its
imports), so a droplet needs python3 and nothing else of this project. It is synced as a
folder, not file by file from a list: a module added to it is uploaded, and one removed from it
is removed from the droplet.
"""

from io import StringIO

from pyinfra.operations import files

from datalayer.onhost.step import EXIT_DRIFT, EXIT_OK, JsonPlan
from datalayer.paths import REPOSITORY_ROOT

RUNTIME_DIRECTORY = "/usr/local/lib/datalayer/python"
"""The droplet's ``PYTHONPATH`` for the host-side steps; root's, read-only to the others."""
HOST_CODE = REPOSITORY_ROOT / "datalayer" / "onhost"
HOST_CODE_DIRECTORY = f"{RUNTIME_DIRECTORY}/datalayer/onhost"
"""Where :data:`HOST_CODE` is synced. ``datalayer`` itself is a namespace package there."""
PLAN_DIRECTORY = "/usr/local/lib/datalayer"


def upload_host_code() -> None:
    """Sync :data:`HOST_CODE` to the droplet, root-owned, removing what the folder no longer
    holds. Byte-code caches are neither uploaded nor removed; the steps run with ``python3 -B``
    so that none is written there."""
    files.sync(
        name="Upload datalayer/onhost/, the code that runs on this host",
        src=str(HOST_CODE),
        dest=HOST_CODE_DIRECTORY,
        user="root",
        group="root",
        mode="644",
        dir_mode="755",
        delete=True,
        exclude="*.pyc",
        exclude_dir=["__pycache__", "*/__pycache__"],
    )


def step_command(module: str, *arguments: str, user: str | None = None) -> str:
    """The command line that runs ``python3 -m module arguments`` from the uploaded folder, as
    ``user`` when given (else as the connecting user); it holds no secret."""
    as_user = f"runuser -u {user} -- " if user else ""
    return (
        f"cd / && {as_user}env PYTHONPATH={RUNTIME_DIRECTORY} "
        f"python3 -B -m {' '.join((module, *arguments))}"
    )


def plan_file(step: str) -> str:
    """Where the plan of ``step`` (``hooks``, ``influxdb``) is uploaded."""
    return f"{PLAN_DIRECTORY}/{step}-plan.json"


def upload_plan(name: str, step: str, plan: JsonPlan) -> None:
    """Upload ``plan`` as :func:`plan_file` of ``step``; a plan holds no secret (mode 0644)."""
    files.put(name=name, src=StringIO(plan.to_json()), dest=plan_file(step), mode="644")


def check_command(command: str) -> str:
    """``command`` (a step's ``check``) for a fact: its drift status is an answer, not a
    failure, so the fact fails only when the step does."""
    return f"{command}; status=$?; [ $status -eq {EXIT_OK} ] || [ $status -eq {EXIT_DRIFT} ]"
