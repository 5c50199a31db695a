"""The README's main command: a local droplet, the real deploy, the real verification.

    ./run up            (which runs: python -m datalayer.quickstart)
    ./run up --cluster  (the cluster sandbox of Pulumi.sandbox-cluster.yaml)

Brings up sandbox droplets for every role that can run on this machine, generates the secrets the
sandbox environment names (kept in .sandbox/secrets, mode 0600), runs ``deploy/site.py`` with
pyinfra over SSH, verifies each host with its testinfra suite, and prints how to connect.
Running it again reuses the droplets and secrets and should report zero changes.

With ``--cluster``: three droplets, each a Patroni member behind HAProxy, an etcd member and a
Redis host with its Sentinel, and a fourth that holds the members' shared backup repository, in
a sandbox of their own (.sandbox/cluster), so that the single sandbox's droplets never join it.
"""

import argparse
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from datalayer.deploy_run import run_deploy
from datalayer.monitoring.prometheus import PROMETHEUS_GROUP
from datalayer.paths import REPOSITORY_ROOT
from datalayer.sandbox import Droplet, DropletSpec, Sandbox, SandboxError
from datalayer.secrets import generated_secret, secret_variables, ssh_key_variables
from datalayer.spec import EnvironmentSpec, SpecError, load_environment
from datalayer.spec.backup import BACKUP_REPOSITORY_GROUP


@dataclass(frozen=True)
class Quickstart:
    """Which environment the command brings up, on which droplets, in which sandbox."""

    environment: str
    droplets: tuple[DropletSpec, ...]
    state_directory: Path | None
    """The sandbox's state (None: the default one, ``.sandbox``)."""


# One droplet per role that can run on this machine; InfluxDB 2 has no package here (README).
# Prometheus shares a droplet that is not a database's: the one that stays up in every test.
SINGLE = Quickstart(
    "sandbox",
    (DropletSpec("db-1", ("timescaledb",)), DropletSpec("cache-1", ("redis", PROMETHEUS_GROUP))),
    None,
)
CLUSTER = Quickstart(
    "sandbox-cluster",
    (
        *(DropletSpec(f"node-{index}", ("timescaledb", "etcd", "redis")) for index in (1, 2, 3)),
        DropletSpec("backup-1", (BACKUP_REPOSITORY_GROUP, PROMETHEUS_GROUP)),
    ),
    REPOSITORY_ROOT / ".sandbox" / "cluster",
)


def secret_files(environment: EnvironmentSpec, directory: Path) -> dict[str, str]:
    """``NAME_FILE`` variables for every secret the environment names, generating missing ones.

    A secret already set in the caller's environment (``NAME`` or ``NAME_FILE``) wins.
    """
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    environ = {}
    ssh_keys = ssh_key_variables(environment)
    for variable in secret_variables(environment):
        if variable in os.environ or f"{variable}_FILE" in os.environ:
            continue
        path = directory / variable
        if not path.exists():
            path.touch(mode=0o600)
            path.write_text(generated_secret(ssh_key=variable in ssh_keys))
        environ[f"{variable}_FILE"] = str(path)
    return environ


def client_lines(
    environment: EnvironmentSpec, droplet: Droplet, environ: dict[str, str]
) -> list[str]:
    """How to log in to each service of ``droplet`` from this machine, as each role: a
    cluster member's HAProxy ports (read-write for ``app``, read-only for ``reader``), or a
    single host's PostgreSQL port; and where its Prometheus answers."""
    lines = []
    if "timescaledb" in droplet.groups:
        spec = environment.timescaledb
        for role in spec.roles:
            if spec.cluster is None:
                port, served = spec.port, ""
            elif role.access == "read_write":
                port, served = spec.cluster.read_write_port, "   # read-write: the leader"
            else:
                port, served = spec.cluster.read_only_port, "   # read-only: a replica"
            secret = environ.get(f"{role.password_secret}_FILE", f"${role.password_secret}")
            lines.append(
                f"PGPASSWORD=$(cat {secret}) psql 'host=127.0.0.1 "
                f"port={droplet.published_ports[port]} dbname={spec.database} user={role.name} "
                f"sslmode=require'{served}"
            )
    if "redis" in droplet.groups and environment.redis is not None:
        port = droplet.published_ports[environment.redis.port]
        secret = environ.get(f"{environment.redis.users.app.password_secret}_FILE", "")
        lines.append(f"redis-cli -p {port} --user app --askpass   # password in {secret}")
        if environment.redis.sentinel is not None:
            sentinel = environment.redis.sentinel
            lines.append(
                f"redis-cli -p {droplet.published_ports[sentinel.port]} --user app --askpass "
                f"SENTINEL get-master-addr-by-name {sentinel.master_name}"
            )
    if PROMETHEUS_GROUP in droplet.groups and environment.monitoring is not None:
        port = droplet.published_ports[environment.monitoring.prometheus.port]
        lines.append(f"http://127.0.0.1:{port}/alerts   # Prometheus (API: /api/v1/alerts)")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./run up", description=__doc__.split("\n")[0])
    parser.add_argument("--no-verify", action="store_true", help="deploy only")
    parser.add_argument(
        "--cluster",
        action="store_true",
        help="the cluster sandbox: Patroni on etcd behind HAProxy, Redis with Sentinel",
    )
    arguments = parser.parse_args(argv)
    quickstart = CLUSTER if arguments.cluster else SINGLE

    environment = load_environment(quickstart.environment)
    resources = environment.timescaledb.resources
    sandbox = Sandbox(quickstart.state_directory)
    droplets = sandbox.up(
        list(quickstart.droplets),
        env=quickstart.environment,
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
        for line in client_lines(environment, droplet, environ):
            print(f"  {line}")
    print(f"  pyinfra inventory: {sandbox.paths.inventory}")
    state = (
        ""
        if quickstart.state_directory is None
        else f"DATALAYER_SANDBOX_DIR={quickstart.state_directory} "
    )
    print(f"  remove: {state}.venv/bin/python -m datalayer.sandbox down --all")
    return status


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (SandboxError, SpecError) as error:
        sys.exit(f"error: {error}")
