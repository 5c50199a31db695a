"""Verify every host of a pyinfra inventory with the testinfra suite of each group it is in.

    python -m datalayer.verify INVENTORY [--junit-directory DIR] [-- PYTEST ARGS]

The same command runs from a laptop, from this repository's CI against sandbox droplets, and from
the CI workflow that checks an environment after provisioning. Hosts are reached as pyinfra
reaches them (``ssh_hostname``, ``ssh_port``, ``ssh_user``, ``ssh_key``); each service is reached at
the host data's endpoint for it (``postgresql_endpoint``, ``redis_endpoint``,
``influxdb_endpoint``: ``ADDRESS:PORT``), or the SSH address and the spec's port (or the port
``published_ports`` maps it to, as sandbox droplets publish theirs).
"""

import argparse
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyinfra.api.state import State
from pyinfra.context import ctx_state
from pyinfra_cli.inventory import make_inventory

from datalayer.paths import REPOSITORY_ROOT
from datalayer.spec import EnvironmentSpec, SpecError, load_environment

SUITES = {
    "timescaledb": (
        "tests/infra/test_timescaledb.py",
        "tests/infra/test_timescaledb_hooks.py",
        "tests/infra/test_timescaledb_backup.py",
    ),
    "redis": ("tests/infra/test_redis.py",),
    "influxdb": ("tests/infra/test_influxdb.py",),
}


@dataclass(frozen=True)
class ServiceEndpoint:
    """How a group's suite is told where this machine reaches the service under test."""

    option: str
    host_data: str
    port: Callable[[EnvironmentSpec], int]


def _redis_port(environment: EnvironmentSpec) -> int:
    if environment.redis is None:
        raise SpecError(f"Pulumi.{environment.name}.yaml: datalayer:redis is not set")
    return environment.redis.port


def _influxdb_port(environment: EnvironmentSpec) -> int:
    if environment.influxdb is None:
        raise SpecError(f"Pulumi.{environment.name}.yaml: datalayer:influxdb is not set")
    return environment.influxdb.http_port


ENDPOINTS = {
    "timescaledb": ServiceEndpoint(
        "--pg-endpoint", "postgresql_endpoint", lambda environment: environment.timescaledb.port
    ),
    "redis": ServiceEndpoint("--redis-endpoint", "redis_endpoint", _redis_port),
    "influxdb": ServiceEndpoint("--influxdb-endpoint", "influxdb_endpoint", _influxdb_port),
}


@dataclass(frozen=True)
class Target:
    """One (host, group) pair to verify, with what testinfra needs to reach it."""

    host: str
    group: str
    env: str
    ssh_config: str
    endpoint: str


def _ssh_config(name: str, data: Any) -> str:
    lines = [
        f"Host {name}",
        f"  HostName {data.get('ssh_hostname') or name}",
        f"  Port {data.get('ssh_port') or 22}",
        f"  User {data.get('ssh_user') or 'root'}",
        "  BatchMode yes",
    ]
    if data.get("ssh_key"):
        lines.append(f"  IdentityFile {data.get('ssh_key')}")
    if data.get("ssh_known_hosts_file"):
        lines.append(f"  UserKnownHostsFile {data.get('ssh_known_hosts_file')}")
    if data.get("ssh_strict_host_key_checking") == "off":
        lines.append("  StrictHostKeyChecking no")
    return "\n".join(lines) + "\n"


def _endpoint(name: str, data: Any, port: int) -> str:
    """The SSH address and the service port, or the port it is published on (sandbox, NAT)."""
    published = data.get("published_ports") or {}
    return f"{data.get('ssh_hostname') or name}:{published.get(port, port)}"


def targets(inventory_path: str) -> list[Target]:
    """Every (host, group) of the inventory that has a suite."""
    with ctx_state.use(State()):  # pyinfra executes inventory files within a state
        inventory = make_inventory(inventory_path)
    found = []
    for group, _suite in SUITES.items():
        for host in inventory.get_group(group, []):
            data = host.data
            env = str(data.get("env"))
            service = ENDPOINTS[group]
            port = service.port(load_environment(env))
            endpoint = data.get(service.host_data) or _endpoint(host.name, data, port)
            found.append(Target(host.name, group, env, _ssh_config(host.name, data), str(endpoint)))
    return found


def verify(target: Target, junit_directory: Path, extra: list[str]) -> int:
    """Run the group's suite against one host; the exit status of pytest."""
    junit_directory.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".ssh_config") as config:
        config.write(target.ssh_config)
        config.flush()
        command = [
            sys.executable, "-m", "pytest", *SUITES[target.group],
            f"--hosts=ssh://{target.host}", f"--ssh-config={config.name}",
            f"--env={target.env}", f"{ENDPOINTS[target.group].option}={target.endpoint}",
            f"--junitxml={junit_directory / f'{target.host}-{target.group}.xml'}",
            "-p", "no:cacheprovider", *extra,
        ]  # fmt: skip
        print(f"==> verifying {target.group} on {target.host} ({target.env})", flush=True)
        return subprocess.run(command, cwd=REPOSITORY_ROOT, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m datalayer.verify", description=__doc__.split("\n")[0]
    )
    parser.add_argument("inventory", help="pyinfra inventory file")
    parser.add_argument("--junit-directory", type=Path, default=REPOSITORY_ROOT / "reports")
    argv = sys.argv[1:] if argv is None else argv
    own, pytest_args = (
        (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [])
    )
    arguments = parser.parse_args(own)
    found = targets(arguments.inventory)
    if not found:
        print(f"no host of {arguments.inventory} is in a group with a suite ({', '.join(SUITES)})")
        return 2
    results = {
        f"{t.group} on {t.host}": verify(t, arguments.junit_directory, pytest_args) for t in found
    }
    for what, status in results.items():
        print(f"{'PASSED' if status == 0 else 'FAILED'}: {what}")
    return 0 if all(status == 0 for status in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
