"""Verify every host of a pyinfra inventory with the testinfra suite of each group it is in.

    python -m datalayer.verify INVENTORY [--junit-directory DIR] [-- PYTEST ARGS]

The same command runs from a laptop, from this repository's CI against sandbox droplets, and from
the CI workflow that checks an environment after provisioning. Hosts are reached as pyinfra
reaches them (``ssh_hostname``, ``ssh_port``, ``ssh_user``, ``ssh_key``); each service is reached at
the host data's endpoint for it (``postgresql_endpoint``, ``redis_endpoint``,
``sentinel_endpoint``, ``influxdb_endpoint``, ``etcd_endpoint``: ``ADDRESS:PORT``), or the SSH
address and the spec's port (or the port ``published_ports`` maps it to, as sandbox droplets
publish theirs; etcd: the host's ``private_address``, checked from the host itself). Every host
is judged before any suite runs (its env data, its environment's section for each group, the
secrets the clients log in with), so bad input stops the command with one line and exit status 2,
no host contacted.
"""

import argparse
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyinfra.api.host import Host
from pyinfra.api.inventory import Inventory
from pyinfra.api.state import State
from pyinfra.context import ctx_state

from datalayer.etcd.passwords import EtcdPasswords, etcd_passwords
from datalayer.etcd.topology import ClusterTopology
from datalayer.paths import REPOSITORY_ROOT
from datalayer.redis.passwords import redis_passwords
from datalayer.secrets import SecretError, role_passwords
from datalayer.spec import EnvironmentSpec, SpecError
from deploy.backup_repository import judge_backup_inventory
from deploy.etcd import cluster_section
from deploy.exporters import exporter_inputs
from deploy.influxdb import influxdb_section
from deploy.inventory import judge_inventory
from deploy.redis import redis_section, redis_topology

EXPORTERS = "tests/infra/test_exporters.py"
"""The node exporter's suite, every group's (it skips where ``monitoring`` is not declared, as
the group's own exporter suite does)."""

SUITES = {
    "timescaledb": (
        "tests/infra/test_timescaledb.py",
        "tests/infra/test_timescaledb_hooks.py",
        "tests/infra/test_timescaledb_backup.py",
        # A cluster member's (they skip where the environment declares no cluster):
        "tests/infra/test_patroni.py",
        "tests/infra/test_haproxy.py",
        EXPORTERS,
        "tests/infra/test_exporters_postgres.py",
    ),
    "redis": (
        "tests/infra/test_redis.py",
        "tests/infra/test_redis_sentinel.py",
        EXPORTERS,
        "tests/infra/test_exporters_redis.py",
    ),
    "influxdb": ("tests/infra/test_influxdb.py", EXPORTERS),
    "etcd": ("tests/infra/test_etcd.py", EXPORTERS),
}


REPORT_OPTIONS = ("-p", "no:cacheprovider", "-o", "junit_logging=no")
"""No cache in the repository; and no captured output in the JUnit report, whatever a user's
configuration says, since the workflow publishes it (the suites' conftest masks the secrets
they read in what remains: ``tests/infra/redaction.py``)."""


def _endpoint(name: str, data: Any, port: int) -> str:
    """The SSH address and the service port, or the port it is published on (sandbox, NAT)."""
    published = data.get("published_ports") or {}
    return f"{data.get('ssh_hostname') or name}:{published.get(port, port)}"


def _private_endpoint(name: str, data: Any, port: int) -> str:
    """The host's private address and the service port: a service the cluster's hosts reach
    each other at, which the suite checks from the host itself (etcd's ports are not
    published)."""
    return f"{data.get('private_address')}:{port}"


@dataclass(frozen=True)
class ServiceEndpoint:
    """How a group's suite is told where this machine reaches the service under test, and what
    its clients log in with (read before any suite runs, so a missing secret stops them all)."""

    option: str
    host_data: str
    port: Callable[[EnvironmentSpec, str], int]
    read_secrets: Callable[[EnvironmentSpec, str], object]
    default_endpoint: Callable[[str, Any, int], str] = _endpoint
    """``ADDRESS:PORT`` from the host's name, data and the service port, when the host data
    gives no endpoint."""


def _no_secrets(environment: EnvironmentSpec, host_name: str) -> None:
    """InfluxDB's suite reads the tokens the setup step stored on the host, not secrets here."""


def _etcd_client_port(environment: EnvironmentSpec, host_name: str) -> int:
    return cluster_section(environment).etcd.client_port


def _etcd_secrets(environment: EnvironmentSpec, host_name: str) -> EtcdPasswords:
    """etcd's suite checks what an anonymous client meets, on the host; the passwords are
    judged all the same, as the deploy judges them, so that verify and deploy refuse the same
    control machine."""
    return etcd_passwords(cluster_section(environment).etcd)


ENDPOINTS = {
    "timescaledb": ServiceEndpoint(
        "--pg-endpoint",
        "postgresql_endpoint",
        lambda environment, _host: environment.timescaledb.port,
        lambda environment, _host: role_passwords(environment.timescaledb),
    ),
    "redis": ServiceEndpoint(
        "--redis-endpoint",
        "redis_endpoint",
        lambda environment, host: redis_section(environment, host).port,
        lambda environment, host: redis_passwords(redis_section(environment, host)),
    ),
    "influxdb": ServiceEndpoint(
        "--influxdb-endpoint",
        "influxdb_endpoint",
        lambda environment, host: influxdb_section(environment, host).http_port,
        _no_secrets,
    ),
    "etcd": ServiceEndpoint(
        "--etcd-endpoint", "etcd_endpoint", _etcd_client_port, _etcd_secrets, _private_endpoint
    ),
}


@dataclass(frozen=True)
class Target:
    """One (host, group) pair to verify, with what testinfra needs to reach it."""

    host: str
    group: str
    env: str
    ssh_config: str
    endpoint: str
    more_endpoints: tuple[str, ...] = ()
    """Options naming further endpoints the group's suites reach (Sentinel's)."""


def ssh_config(name: str, data: Any) -> str:
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


def load_inventory(inventory_path: str) -> Inventory:
    """The inventory file as pyinfra reads it (groups, host data, group data files)."""
    # Imported here: importing pyinfra_cli patches the standard library for gevent
    # (pyinfra_cli/__init__.py:4-6), which only a command that runs pyinfra's code should do.
    from pyinfra_cli.inventory import make_inventory

    with ctx_state.use(State()):  # pyinfra executes inventory files within a state
        inventory: Inventory = make_inventory(inventory_path)
    return inventory


def _sentinel_endpoint(environment: EnvironmentSpec, host: Host) -> tuple[str, ...]:
    """``--sentinel-endpoint`` for a redis host whose environment declares Sentinel."""
    sentinel = redis_section(environment, host.name).sentinel
    if sentinel is None:
        return ()
    endpoint = host.data.get("sentinel_endpoint") or _endpoint(host.name, host.data, sentinel.port)
    return (f"--sentinel-endpoint={endpoint}",)


def _exporters_address(environment: EnvironmentSpec, host: Host) -> tuple[str, ...]:
    """``--private-address`` for the exporters' suites, once the host's exporter inputs are
    judged as the deploy judges them (its address, the monitoring identities' secrets)."""
    inputs = exporter_inputs(environment, host)
    return () if inputs is None else (f"--private-address={inputs.private_address}",)


def _targets_of(
    environment: EnvironmentSpec, host: Host, _topology: ClusterTopology | None
) -> list[Target]:
    """One host's targets, once what its suites read is judged: the environment's section and
    port for each group, the endpoint data, the secrets the clients log in with."""
    found = []
    data = host.data
    judge_backup_inventory(environment, host)
    exporters = _exporters_address(environment, host)
    for group in SUITES:
        if group not in host.groups:
            continue
        service = ENDPOINTS[group]
        if group == "redis":
            redis_topology(environment, host)
        service.read_secrets(environment, host.name)
        port = service.port(environment, host.name)
        endpoint = data.get(service.host_data) or service.default_endpoint(host.name, data, port)
        found.append(
            Target(
                host.name, group, environment.name, ssh_config(host.name, data), str(endpoint),
                (*_sentinel_endpoint(environment, host), *exporters)
                if group == "redis" else exporters,
            )
        )  # fmt: skip
    return found


def targets(inventory: Inventory) -> list[Target]:
    """Every (host, group) of the inventory that has a suite, once every host is judged."""
    judged = judge_inventory(inventory, _targets_of)
    return [target for host_targets in judged.values() for target in host_targets]


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
            *target.more_endpoints,
            f"--junitxml={junit_directory / f'{target.host}-{target.group}.xml'}",
            *REPORT_OPTIONS, *extra,
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
    try:
        found = targets(load_inventory(arguments.inventory))
    except (SpecError, SecretError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
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
