"""The code that runs on a droplet: ``datalayer/onhost/`` uploaded whole, and its command lines.

The folder holds the standard library and psycopg only (``tests/unit/test_onhost.py`` reads its
imports), so a droplet needs python3 and nothing else of this project. It is synced as a
folder, not file by file from a list: a module added to it is uploaded, and one removed from it
is removed from the droplet.
"""

from pathlib import Path

from datalayer.onhost.step import EXIT_DRIFT, EXIT_OK, JsonPlan
from datalayer.paths import REPOSITORY_ROOT
from deploy.operations import WantedDirectory, WantedFile, files_in_place

RUNTIME_DIRECTORY = "/usr/local/lib/datalayer/python"
"""The droplet's ``PYTHONPATH`` for the host-side steps; root's, read-only to the others."""
HOST_CODE = REPOSITORY_ROOT / "datalayer" / "onhost"
HOST_CODE_DIRECTORY = f"{RUNTIME_DIRECTORY}/datalayer/onhost"
"""Where :data:`HOST_CODE` is synced. ``datalayer`` itself is a namespace package there."""
PLAN_DIRECTORY = "/usr/local/lib/datalayer"


def upload_step(name: str, step: str, plan: JsonPlan) -> None:
    """Sync :data:`HOST_CODE` to the droplet, root-owned, removing what the folder no longer
    holds, and upload ``plan`` as :func:`plan_file` of ``step`` (a plan holds no secret, mode
    0644): one operation, judged by one fact (``deploy.operations.files_in_place``;
    ``files.sync`` reads two facts per file). Byte-code caches are neither uploaded nor removed;
    the steps run with ``python3 -B`` so that none is written there."""
    modules = sorted(
        path
        for path in HOST_CODE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    )
    packages = sorted({path.parent for path in modules})
    files_in_place(
        name=name,
        directories=[
            WantedDirectory(directory, mode=0o755)
            for directory in (PLAN_DIRECTORY, RUNTIME_DIRECTORY, f"{RUNTIME_DIRECTORY}/datalayer")
        ]
        + [WantedDirectory(_on_host(package), mode=0o755) for package in packages],
        files=[WantedFile(_on_host(path), path.read_bytes(), mode=0o644) for path in modules]
        + [WantedFile(plan_file(step), plan.to_json().encode(), mode=0o644)],
        remove_others_under=HOST_CODE_DIRECTORY,
        keep=["*.pyc"],
    )


def _on_host(path: Path) -> str:
    """Where ``path``, in :data:`HOST_CODE`, is on the droplet."""
    relative = path.relative_to(HOST_CODE).as_posix()
    return HOST_CODE_DIRECTORY if relative == "." else f"{HOST_CODE_DIRECTORY}/{relative}"


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


def check_command(command: str) -> str:
    """``command`` (a step's ``check``) for a fact: its drift status is an answer, not a
    failure, so the fact fails only when the step does."""
    return f"{command}; status=$?; [ $status -eq {EXIT_OK} ] || [ $status -eq {EXIT_DRIFT} ]"
