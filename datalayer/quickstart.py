"""The README's main command: a local droplet, the real deploy, the real verification.

    ./run up            (which runs: python -m datalayer.quickstart)

Brings up sandbox droplets for every role that can run on this machine, generates the secrets the
sandbox environment names (kept in .sandbox/secrets, mode 0600), runs ``deploy/site.py`` with
pyinfra over SSH, verifies each host with its testinfra suite, and prints how to connect.
Running it again reuses the droplets and secrets and should report zero changes.
"""

import argparse
import os
import secrets
import subprocess
import sys
from pathlib import Path

from datalayer.deploy_run import run_deploy
from datalayer.paths import REPOSITORY_ROOT
from datalayer.sandbox import Droplet, DropletSpec, Sandbox, SandboxError
from datalayer.secrets import secret_variables
from datalayer.spec import EnvironmentSpec, SpecError, load_environment

ENVIRONMENT = "sandbox"
# One droplet per role that can run on this machine; InfluxDB 2 has no package here (README).
DROPLETS = (DropletSpec("db-1", ("timescaledb",)), DropletSpec("cache-1", ("redis",)))


def secret_files(environment: EnvironmentSpec, directory: Path) -> dict[str, str]:
    """``NAME_FILE`` variables for every secret the environment names, generating missing ones.

    A secret already set in the caller's environment (``NAME`` or ``NAME_FILE``) wins.
    """
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    environ = {}
    for variable in secret_variables(environment):
        if variable in os.environ or f"{variable}_FILE" in os.environ:
            continue
        path = directory / variable
        if not path.exists():
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(24))
        environ[f"{variable}_FILE"] = str(path)
    return environ


def _client_lines(
    environment: EnvironmentSpec, droplet: Droplet, environ: dict[str, str]
) -> list[str]:
    """How to log in to each service of ``droplet`` from this machine, as each role."""
    lines = []
    if "timescaledb" in droplet.groups:
        spec = environment.timescaledb
        port = droplet.published_ports[spec.port]
        for role in spec.roles:
            secret = environ.get(f"{role.password_secret}_FILE", f"${role.password_secret}")
            lines.append(
                f"PGPASSWORD=$(cat {secret}) psql 'host=127.0.0.1 port={port} "
                f"dbname={spec.database} user={role.name} sslmode=require'"
            )
    if "redis" in droplet.groups and environment.redis is not None:
        port = droplet.published_ports[environment.redis.port]
        secret = environ.get(f"{environment.redis.users.app.password_secret}_FILE", "")
        lines.append(f"redis-cli -p {port} --user app --askpass   # password in {secret}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./run up", description=__doc__.split("\n")[0])
    parser.add_argument("--no-verify", action="store_true", help="deploy only")
    arguments = parser.parse_args(argv)

    environment = load_environment(ENVIRONMENT)
    resources = environment.timescaledb.resources
    sandbox = Sandbox()
    droplets = sandbox.up(
        list(DROPLETS),
        env=ENVIRONMENT,
        memory=resources.model_dump()["memory"],
        cpus=float(resources.cpus),
    )
    environ = {**os.environ, **secret_files(environment, sandbox.paths.directory / "secrets")}

    print(f"==> deploying deploy/site.py to {', '.join(d.name for d in droplets)}", flush=True)
    result = run_deploy(sandbox.paths.inventory, environ)
    if not result.succeeded:
        print(result.output, file=sys.stderr)
        print("deploy FAILED", file=sys.stderr)
        return 1
    print(
        f"    {result.changed} operation(s) changed, {result.unchanged} unchanged, "
        f"{result.seconds:.1f} s"
    )

    status = 0
    if not arguments.no_verify:
        status = subprocess.run(
            [sys.executable, "-m", "datalayer.verify", str(sandbox.paths.inventory), "--", "-q"],
            cwd=REPOSITORY_ROOT,
            env=environ,
            check=False,
        ).returncode

    print("\nConnect:")
    for droplet in droplets:
        print(f"  ssh -F {sandbox.paths.ssh_config} {droplet.name}")
        for line in _client_lines(environment, droplet, environ):
            print(f"  {line}")
    print(f"  pyinfra inventory: {sandbox.paths.inventory}")
    print("  remove: .venv/bin/python -m datalayer.sandbox down --all")
    return status


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (SandboxError, SpecError) as error:
        sys.exit(f"error: {error}")
