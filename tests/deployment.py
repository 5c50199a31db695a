"""A sandbox's inventory with the secrets its environment reads: deploy it, verify it.

Shared by the one-droplet deploy tests (``tests/deploy/conftest.py``) and the three-droplet
cluster tests (``tests/cluster/conftest.py``): secrets are files (``NAME_FILE``), so that a test
rotates a password by rewriting its file, and every run gets exactly this sandbox's secrets.
"""

import os
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from datalayer.deploy_run import DeployResult, run_deploy
from datalayer.paths import REPOSITORY_ROOT
from datalayer.sandbox import Sandbox
from datalayer.secrets import generated_secret


class SandboxDeployment:
    """A sandbox, the secrets it is deployed with, and ways to deploy and verify it.

    + sandbox: the droplets' sandbox, whose inventory is deployed
    + secret_dir: a private directory for the secret files
    + variables: the secrets to generate, by name; one whose file an earlier run left there is
      kept, since droplets kept from that run (``DATALAYER_KEEP_SANDBOX``) hold it
    + ssh_keys: those of ``variables`` that are SSH private keys (an SFTP backup repository's),
      generated as ed25519 keys rather than passwords
    """

    def __init__(
        self,
        sandbox: Sandbox,
        secret_dir: Path,
        variables: Iterable[str],
        ssh_keys: Iterable[str] = (),
    ) -> None:
        self.sandbox = sandbox
        self.secret_dir = secret_dir
        self.passwords: dict[str, str] = {}
        keys = set(ssh_keys)
        for variable in variables:
            kept = secret_dir / variable
            if kept.exists():
                self.set_password(variable, kept.read_text())
            else:
                self.set_password(variable, generated_secret(ssh_key=variable in keys))

    def set_password(self, variable: str, value: str) -> None:
        path = self.secret_dir / variable
        path.write_text(value)
        path.chmod(0o600)
        self.passwords[variable] = value

    @property
    def environ(self) -> dict[str, str]:
        return {f"{variable}_FILE": str(self.secret_dir / variable) for variable in self.passwords}

    def deploy(
        self,
        extra_environ: dict[str, str] | None = None,
        *,
        verbose: bool = False,
        dry: bool = False,
        diff: bool = False,
        without: str | None = None,
        limit: Sequence[str] = (),
    ) -> DeployResult:
        """Deploy with these secrets; ``without`` names a secret to leave unset, ``limit`` the
        hosts to deploy (pyinfra --limit; every host is judged all the same)."""
        environ = {**os.environ, **self.environ, **(extra_environ or {})}
        if without is not None:
            environ = {k: v for k, v in environ.items() if k not in (without, f"{without}_FILE")}
        return run_deploy(
            self.sandbox.paths.inventory, environ, verbose=verbose, dry=dry, diff=diff, limit=limit
        )

    def verify(self, junit_directory: Path) -> subprocess.CompletedProcess[str]:
        """``python -m datalayer.verify`` on this sandbox's inventory, with its secrets."""
        return subprocess.run(
            [sys.executable, "-m", "datalayer.verify", str(self.sandbox.paths.inventory),
             "--junit-directory", str(junit_directory), "--", "-q"],
            cwd=REPOSITORY_ROOT, env={**os.environ, **self.environ},
            capture_output=True, text=True, check=False,
        )  # fmt: skip
