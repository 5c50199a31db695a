"""The local droplet sandbox, end to end: image, boot, SSH, inventory, reuse and removal.

The droplet lives for the whole module, in a state directory of its own and under a name with
this process's id, so that a user's sandbox (``db-1`` in ``.sandbox/``) and a concurrent run are
left alone. The last test removes it; the fixture removes it too if a test failed before.
"""

import ipaddress
import json
import os
import runpy
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from datalayer.sandbox import SANDBOX_SUBNET, SERVICE_PORTS, Droplet, DropletSpec, Sandbox
from datalayer.spec import load_environment
from datalayer.timescaledb.packages import package_plan

pytestmark = pytest.mark.sandbox

NAME = f"sbtest-{os.getpid()}"
SPEC = DropletSpec(NAME, ("timescaledb",))


def command(*arguments: str | Path, timeout: float = 60) -> str:
    """Run a command; on failure show what it printed, as the assertion's message."""
    completed = subprocess.run(
        [str(argument) for argument in arguments],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    assert completed.returncode == 0, f"{arguments} failed:\n{completed.stdout}{completed.stderr}"
    return completed.stdout


def inspect_container(container: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = json.loads(command("docker", "container", "inspect", container))
    return found[0]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sandbox = Sandbox(tmp_path_factory.mktemp("sandbox-state"))
    yield sandbox
    sandbox.down([NAME])


@pytest.fixture(scope="module")
def droplet(sandbox: Sandbox) -> Droplet:
    (created,) = sandbox.up([SPEC])
    return created


def test_image_is_built_once_then_reused(sandbox: Sandbox) -> None:
    tag = sandbox.ensure_image()
    image_id = command("docker", "image", "inspect", "--format", "{{.Id}}", tag)
    started = time.monotonic()
    assert sandbox.ensure_image() == tag
    assert time.monotonic() - started < 5
    assert command("docker", "image", "inspect", "--format", "{{.Id}}", tag) == image_id


def test_systemd_boots_without_failed_units(droplet: Droplet) -> None:
    state = command("docker", "exec", droplet.container, "systemctl", "is-system-running")
    assert state.strip() == "running"


def test_ssh_logs_in_with_the_generated_key_on_the_published_port(
    sandbox: Sandbox, droplet: Droplet
) -> None:
    hostname = command(
        "ssh",
        "-i",
        sandbox.paths.key,
        "-p",
        str(droplet.ssh_port),
        "-o",
        "BatchMode=yes",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "root@127.0.0.1",
        "hostname",
    )
    assert hostname.strip() == NAME


def test_ssh_config_reaches_the_droplet_by_name(sandbox: Sandbox, droplet: Droplet) -> None:
    hostname = command(
        "ssh", "-F", sandbox.paths.ssh_config, "-o", "BatchMode=yes", NAME, "hostname"
    )
    assert hostname.strip() == NAME


def test_inventory_follows_the_deploy_contract(sandbox: Sandbox, droplet: Droplet) -> None:
    inventory = runpy.run_path(str(sandbox.paths.inventory))
    ((name, data),) = inventory["timescaledb"]
    assert name == NAME
    assert data["env"] == "sandbox"
    assert data["ssh_hostname"] == "127.0.0.1"
    assert data["ssh_port"] == droplet.ssh_port
    assert data["ssh_key"] == str(sandbox.paths.key)
    assert data["published_ports"] == {
        port: droplet.published_ports[port] for port in SERVICE_PORTS
    }
    assert ipaddress.ip_address(data["private_address"]) in ipaddress.ip_network(SANDBOX_SUBNET)


def test_pyinfra_runs_a_command_over_the_inventory(sandbox: Sandbox, droplet: Droplet) -> None:
    pyinfra = [sys.executable, "-m", "pyinfra", "-y", str(sandbox.paths.inventory)]
    # pyinfra reports on stderr, the command's output included. Started outside the repository:
    # in its root, group_data/all.py judges the environment and its secrets first (the
    # deploy's preflight), which is the deploy's business, not the harness's.
    completed = subprocess.run(
        [*pyinfra, "exec", "--", "hostname"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=sandbox.paths.inventory.parent,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert f"[{NAME}] {NAME}" in completed.stderr


def test_ports_are_published_on_loopback_only(droplet: Droplet) -> None:
    ports = inspect_container(droplet.container)["NetworkSettings"]["Ports"]
    assert set(ports) == {f"{port}/tcp" for port in (22, *SERVICE_PORTS)}
    bindings = [binding for port_bindings in ports.values() for binding in port_bindings]
    assert {binding["HostIp"] for binding in bindings} == {"127.0.0.1"}
    assert int(ports["22/tcp"][0]["HostPort"]) == droplet.ssh_port


def test_timescaledb_packages_install_without_downloading(droplet: Droplet) -> None:
    """The deploy's own package list, so that a package added there and not to the image fails."""
    packages = package_plan(load_environment("sandbox").timescaledb, "debian", "trixie").packages
    output = command(
        "docker",
        "exec",
        droplet.container,
        "apt-get",
        "install",
        "--download-only",
        "--yes",
        *packages,
        timeout=120,
    )
    assert "Need to get 0 B/" in output


def test_deploy_packages_are_downloaded_not_installed(droplet: Droplet) -> None:
    status = subprocess.run(
        ["docker", "exec", droplet.container, "dpkg-query", "--show", "postgresql-17"],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert status.returncode != 0, f"postgresql-17 is installed in the image: {status.stdout}"


def test_redis_server_installs_offline_and_runs(droplet: Droplet) -> None:
    """--no-download fails if a .deb is missing; the image's drop-in lets the service start."""
    command(
        "docker",
        "exec",
        "--env=DEBIAN_FRONTEND=noninteractive",
        droplet.container,
        "apt-get",
        "install",
        "--no-download",
        "--yes",
        "redis-server",
        timeout=180,
    )
    active = subprocess.run(
        ["docker", "exec", droplet.container, "systemctl", "is-active", "redis-server"],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    if active.stdout.strip() != "active":
        journal = command(
            "docker", "exec", droplet.container, "journalctl", "--unit=redis-server", "--no-pager"
        )
        pytest.fail(f"redis-server is {active.stdout.strip()}:\n{journal}")


def test_up_again_reuses_the_running_droplet(sandbox: Sandbox, droplet: Droplet) -> None:
    (again,) = sandbox.up([SPEC])
    assert again.container_id == droplet.container_id
    assert again.ssh_port == droplet.ssh_port


def test_down_removes_the_droplet_and_its_entries(sandbox: Sandbox, droplet: Droplet) -> None:
    sandbox.down([NAME])
    listed = command("docker", "container", "ls", "--all", "--format", "{{.Names}}").split()
    assert droplet.container not in listed
    assert f"Host {NAME}" not in sandbox.paths.ssh_config.read_text()
    assert "timescaledb" not in runpy.run_path(str(sandbox.paths.inventory))
