"""The commands stand on the library, never the other way round.

``datalayer`` holds two kinds of module. The library: the spec, the renderers, the decisions, the
hooks and the container descriptions, which the pyinfra deploys (``deploy``) and the Pulumi
program (``infra``) import. And the user-facing commands over a checkout: the sandbox (local
droplets to rehearse on), the quickstart (``./run up``), ``verify`` (the testinfra suites by
inventory group) and ``deploy_run`` (the deploy as those commands and the tests run it). They stay
in the package, reached as ``python -m datalayer.<command>`` (README, Layout), on one condition
this test keeps: no library, deploy or Pulumi module imports a command, and the library imports
neither the deploys nor the Pulumi program. So a command can change or go without touching
what provisions hosts.
"""

import ast
from pathlib import Path

import pytest

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
COMMANDS = (
    "datalayer.sandbox", "datalayer.quickstart", "datalayer.verify", "datalayer.deploy_run",
    "datalayer.cluster_control", "datalayer.restore",
)  # fmt: skip


def _module(path: Path) -> str:
    parts = path.relative_to(REPOSITORY_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == package or module.startswith(f"{package}.") for package in packages)


def _imports(path: Path) -> set[str]:
    """The modules ``path`` imports (absolute imports: the project uses no relative ones)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _forbidden(module: str) -> tuple[str, ...]:
    """What ``module`` may not import: nothing of the commands, and for the library, nothing of
    the deploys or the Pulumi program either."""
    return COMMANDS if not module.startswith("datalayer") else (*COMMANDS, "deploy", "infra")


MODULES = sorted(
    path
    for package in ("datalayer", "deploy", "infra")
    for path in (REPOSITORY_ROOT / package).rglob("*.py")
    if not _within(_module(path), COMMANDS)
)


@pytest.mark.parametrize("path", MODULES, ids=lambda path: _module(path))
def test_module_imports_no_command_nor_a_layer_above_it(path: Path) -> None:
    module = _module(path)
    assert sorted(i for i in _imports(path) if _within(i, _forbidden(module))) == []
