"""The CI workflows never paste an expression into a shell script: inputs and other values reach
``run:`` steps through ``env:``, so that no value can become a command (GitHub's "Security
hardening for GitHub Actions": script injection, and the intermediate environment variable)."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from datalayer.paths import REPOSITORY_ROOT

WORKFLOWS = sorted((REPOSITORY_ROOT / ".github" / "workflows").glob("*.yml"))


def _run_steps(path: Path) -> list[tuple[str, str]]:
    document: dict[str, Any] = yaml.safe_load(path.read_text())
    return [
        (step.get("name", step["run"][:40]), step["run"])
        for job in document["jobs"].values()
        for step in job.get("steps", [])
        if "run" in step
    ]


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_no_expression_is_pasted_into_a_shell_step(workflow: Path) -> None:
    pasted = [name for name, script in _run_steps(workflow) if "${{" in script]
    assert pasted == []
