"""The code that runs on the hosts (``datalayer/onhost/``) imports the standard library,
psycopg and itself, nothing else: a droplet has python3 and Debian's python3-psycopg, and the
deploy uploads this folder alone (``deploy.onhost``)."""

import ast
import sys
from pathlib import Path

import pytest

from deploy.onhost import HOST_CODE

MODULES = sorted(HOST_CODE.rglob("*.py"))
ALLOWED_TOP_LEVEL = sys.stdlib_module_names | {"psycopg"}
FOLDER = "datalayer.onhost"


def imported_names(module: Path) -> list[str]:
    """Every name ``module`` imports, in full (``from a import b`` gives ``a.b``; a relative
    import keeps its dots, which no rule allows: the folder's imports are written in full)."""
    names: list[str] = []
    for node in ast.walk(ast.parse(module.read_text(), str(module))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            prefix = "." * node.level + (f"{node.module}." if node.module else "")
            names.extend(prefix + alias.name for alias in node.names)
    return names


def allowed(name: str) -> bool:
    return (
        name.split(".")[0] in ALLOWED_TOP_LEVEL or name == FOLDER or name.startswith(FOLDER + ".")
    )


def test_the_folder_holds_both_host_side_steps() -> None:
    assert {"hooks/remote.py", "influxdb_setup.py"} <= {
        module.relative_to(HOST_CODE).as_posix() for module in MODULES
    }


@pytest.mark.parametrize(
    "module", MODULES, ids=[module.relative_to(HOST_CODE).as_posix() for module in MODULES]
)
def test_host_module_imports_only_the_standard_library_psycopg_and_its_folder(
    module: Path,
) -> None:
    assert [name for name in imported_names(module) if not allowed(name)] == []
