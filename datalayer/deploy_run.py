"""Run ``deploy/site.py`` with pyinfra and read its result table.

The quickstart, the benchmark and the tests all deploy the same way and need the same facts back:
did it succeed, how many operations changed something, how long it took.
"""

import os
import re
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from datalayer.paths import REPOSITORY_ROOT

_GRAND_TOTAL = re.compile(r"Grand total\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)")


@dataclass(frozen=True)
class DeployResult:
    """What one pyinfra run reported."""

    returncode: int
    output: str
    changed: int
    unchanged: int
    errors: int
    seconds: float

    @property
    def succeeded(self) -> bool:
        """pyinfra exits 0 even when an operation raised; its result table tells the truth."""
        return self.returncode == 0 and self.errors == 0 and "Grand total" in self.output


def _count(text: str) -> int:
    return 0 if text == "-" else int(text)


def run_deploy(
    inventory: Path,
    environ: Mapping[str, str] | None = None,
    *,
    verbose: bool = False,
    dry: bool = False,
    diff: bool = False,
    limit: Sequence[str] = (),
    checkout: Path | None = None,
    deploy_file: str = "deploy/site.py",
) -> DeployResult:
    """``pyinfra -y INVENTORY deploy/site.py``; the pyinfra next to this interpreter.

    + environ: the whole environment of the run (default: this process's)
    + verbose: print every command (pyinfra -vv)
    + dry: plan and report the changes without making them (pyinfra --dry)
    + diff: print the changes to every file (pyinfra --diff)
    + limit: deploy only these hosts (pyinfra --limit, each a name or glob)
    + checkout: another checkout of this repository to deploy from, with the pyinfra of its own
      ``.venv`` (a benchmark compares two versions of the deploy on the same hosts)
    + deploy_file: the deploy file, relative to the checkout (a restore drill's scratch host is
      made ready by ``deploy/restore_drill/scratch.py``)
    """
    root = REPOSITORY_ROOT if checkout is None else checkout
    pyinfra = (
        Path(sys.executable).with_name("pyinfra")
        if checkout is None
        else checkout / ".venv" / "bin" / "pyinfra"
    )
    command = [str(pyinfra), "--dry" if dry else "-y", "--no-wait"]
    if verbose:
        command.append("-vv")
    if diff:
        command.append("--diff")
    for pattern in limit:
        command += ["--limit", pattern]
    command += [str(inventory), deploy_file]
    started = time.monotonic()
    completed = subprocess.run(
        command,
        cwd=root,
        env=dict(os.environ if environ is None else environ),
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.monotonic() - started
    output = completed.stdout + completed.stderr
    match = _GRAND_TOTAL.search(output)
    changed, errors, unchanged = (
        (_count(match.group(2)), _count(match.group(3)), _count(match.group(4)))
        if match
        else (0, 0, 0)
    )
    return DeployResult(completed.returncode, output, changed, unchanged, errors, seconds)
