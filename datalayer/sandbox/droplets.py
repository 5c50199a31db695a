"""Droplets as containers: what one is, and creating, starting, waiting for and removing them.

A droplet is a Debian 13 container booted with systemd as PID 1, on a bridge network of its own
with a fixed subnet, its SSH and service ports published on 127.0.0.1 only. Everything the
sandbox knows about a droplet is stored on the container as labels, so the state directory's
files can always be written again from what is actually running.
"""

import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datalayer.sandbox.commands import SandboxError, probe, progress, run

NETWORK = "datalayer-sandbox"
# Fixed so that an environment spec can allow the sandbox in pg_hba (Pulumi.sandbox.yaml does):
# the control machine reaches droplets through the gateway, droplets reach each other directly.
SANDBOX_SUBNET = "172.30.57.0/24"
SANDBOX_GATEWAY = "172.30.57.1"
SSH_PORT = 22
# PostgreSQL, Redis and InfluxDB 2, a cluster's HAProxy read-write and read-only ports, Redis
# Sentinel and Prometheus, published whether or not a droplet runs them yet, because Docker can
# only publish ports when it creates a container.
SERVICE_PORTS = (5432, 6379, 8086, 5000, 5001, 26379, 9090)
CONTAINER_PREFIX = "datalayer-"

LABEL = "datalayer.sandbox"
LABEL_NAME = f"{LABEL}.name"
LABEL_GROUPS = f"{LABEL}.groups"
LABEL_ENV = f"{LABEL}.env"
LABEL_STATE_DIRECTORY = f"{LABEL}.state-directory"
LABEL_MEMORY = f"{LABEL}.memory"
LABEL_CPUS = f"{LABEL}.cpus"

# What systemd as PID 1 needs in a container on this project's CI machines: --privileged fails
# there, as one capability is missing from the bounding set, and these flags are enough.
SYSTEMD_RUN_FLAGS = (
    "--cap-add",
    "SYS_ADMIN",
    "--security-opt",
    "seccomp=unconfined",
    "--security-opt",
    "apparmor=unconfined",
    "--cgroupns=host",
    "--volume",
    "/sys/fs/cgroup:/sys/fs/cgroup:rw",
    "--tmpfs",
    "/run",
    "--tmpfs",
    "/run/lock",
)
# A droplet boots in about a second; these bound a machine under load, not a normal boot.
BOOT_TIMEOUT = 120.0
SSH_TIMEOUT = 60.0

_NAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,46}[a-z0-9])?")
_GROUP = re.compile(r"[a-z][a-z0-9_]*")
_ENV = re.compile(r"[a-z0-9][a-z0-9_-]*")


@dataclass(frozen=True)
class DropletSpec:
    """A droplet asked for: its name (also its hostname) and the inventory groups (roles) it is in.

    + name: lower-case letters, digits and dashes, e.g. ``db-1``
    + groups: pyinfra group names, e.g. ``("timescaledb",)``
    """

    name: str
    groups: tuple[str, ...]

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise SandboxError(
                f"droplet name {self.name!r}: use lower-case letters, digits and dashes"
            )
        if not self.groups:
            raise SandboxError(f"droplet {self.name}: name at least one group, e.g. timescaledb")
        for group in self.groups:
            if not _GROUP.fullmatch(group):
                raise SandboxError(
                    f"droplet {self.name}: group {group!r} must be a Python name in lower case "
                    "(pyinfra reads groups as the inventory file's variables)"
                )

    @classmethod
    def parse(cls, text: str) -> "DropletSpec":
        """``NAME:GROUP[,GROUP...]``, as the command line takes it, e.g. ``db-1:timescaledb``."""
        name, separator, groups = text.partition(":")
        if not separator:
            raise SandboxError(f"{text!r}: write a droplet as NAME:GROUP[,GROUP...]")
        return cls(name, tuple(group for group in groups.split(",") if group))

    @property
    def container(self) -> str:
        return container_name(self.name)


@dataclass(frozen=True)
class Droplet:
    """A running droplet, as its container reports it.

    + published_ports: service port in the droplet -> port on 127.0.0.1 of this machine
    + private_address: the droplet's address on the sandbox network, where other droplets reach it
    """

    name: str
    groups: tuple[str, ...]
    env: str
    container: str
    container_id: str
    image: str
    ssh_port: int
    published_ports: Mapping[int, int]
    private_address: str

    @classmethod
    def from_inspect(cls, container: Mapping[str, Any]) -> "Droplet":
        """The droplet described by ``docker inspect`` output for a running container."""
        labels = container["Config"]["Labels"]
        ports = container["NetworkSettings"]["Ports"]
        return cls(
            name=labels[LABEL_NAME],
            groups=tuple(labels[LABEL_GROUPS].split(",")),
            env=labels[LABEL_ENV],
            container=container["Name"].lstrip("/"),
            container_id=container["Id"],
            image=container["Config"]["Image"],
            ssh_port=_host_port(ports, SSH_PORT),
            # A droplet created before a port joined SERVICE_PORTS lacks it until recreated.
            published_ports={
                port: _host_port(ports, port) for port in SERVICE_PORTS if ports.get(f"{port}/tcp")
            },
            private_address=container["NetworkSettings"]["Networks"][NETWORK]["IPAddress"],
        )


def container_name(droplet: str) -> str:
    """The droplet's container: prefixed, so that ``docker ps`` tells droplets from the rest."""
    return f"{CONTAINER_PREFIX}{droplet}"


def validate_env(env: str) -> None:
    """``env`` names ``Pulumi.<env>.yaml``: keep it a plain file-name part."""
    if not _ENV.fullmatch(env):
        raise SandboxError(f"env {env!r}: use lower-case letters, digits, dashes and underscores")


def ensure_network() -> None:
    """Create the sandbox network, or check that the existing one has the sandbox's subnet."""
    existing = probe(["docker", "network", "inspect", NETWORK])
    if existing.returncode != 0:
        run(
            [
                "docker",
                "network",
                "create",
                "--driver=bridge",
                f"--subnet={SANDBOX_SUBNET}",
                f"--gateway={SANDBOX_GATEWAY}",
                f"--label={LABEL}=1",
                NETWORK,
            ]
        )
        return
    subnets = [config.get("Subnet") for config in json.loads(existing.stdout)[0]["IPAM"]["Config"]]
    if subnets != [SANDBOX_SUBNET]:
        raise SandboxError(
            f"Docker network {NETWORK} has subnets {subnets}, not {SANDBOX_SUBNET}: remove it "
            f"(docker network rm {NETWORK}) so that the sandbox can create it again"
        )


def remove_network() -> None:
    """Remove the sandbox network unless droplets of other state directories still use it."""
    existing = probe(["docker", "network", "inspect", NETWORK])
    if existing.returncode != 0:
        return
    attached = sorted(
        endpoint["Name"] for endpoint in json.loads(existing.stdout)[0]["Containers"].values()
    )
    if attached:
        progress(f"keeping network {NETWORK}: still used by {', '.join(attached)}")
        return
    run(["docker", "network", "rm", NETWORK])


def inspect(container: str) -> dict[str, Any] | None:
    """``docker inspect`` of one container, or None when there is no container of that name."""
    answer = probe(["docker", "container", "inspect", container])
    if answer.returncode != 0:
        if "no such" in answer.stderr.lower():
            return None
        raise SandboxError(f"docker container inspect {container} failed:\n{answer.stderr}")
    found: list[dict[str, Any]] = json.loads(answer.stdout)
    return found[0]


def containers_of(state_directory: Path) -> list[dict[str, Any]]:
    """``docker inspect`` of every droplet, running or stopped, made for ``state_directory``."""
    names = run(
        [
            "docker",
            "container",
            "ls",
            "--all",
            "--filter",
            f"label={LABEL_STATE_DIRECTORY}={state_directory}",
            "--format",
            "{{.Names}}",
        ]
    ).split()
    if not names:
        return []
    found: list[dict[str, Any]] = json.loads(run(["docker", "container", "inspect", *names]))
    return sorted(found, key=lambda container: str(container["Name"]))


def create(
    spec: DropletSpec,
    *,
    env: str,
    image: str,
    state_directory: Path,
    memory: str | None,
    cpus: float | None,
) -> None:
    """Create (not start) the droplet's container, its ports left for Docker to choose."""
    labels = {
        LABEL: "1",
        LABEL_NAME: spec.name,
        LABEL_GROUPS: ",".join(spec.groups),
        LABEL_ENV: env,
        LABEL_STATE_DIRECTORY: str(state_directory),
        LABEL_MEMORY: memory or "",
        LABEL_CPUS: "" if cpus is None else str(cpus),
    }
    limits = []
    if memory is not None:
        limits.append(f"--memory={memory}")
    if cpus is not None:
        limits.append(f"--cpus={cpus}")
    run(
        [
            "docker",
            "container",
            "create",
            f"--name={spec.container}",
            f"--hostname={spec.name}",
            f"--network={NETWORK}",
            *(f"--label={key}={value}" for key, value in labels.items()),
            *SYSTEMD_RUN_FLAGS,
            *(f"--publish=127.0.0.1::{port}" for port in (SSH_PORT, *SERVICE_PORTS)),
            *limits,
            image,
            "/sbin/init",
        ]
    )


def check_reusable(
    container: Mapping[str, Any],
    spec: DropletSpec,
    *,
    env: str,
    state_directory: Path,
    memory: str | None,
    cpus: float | None,
) -> None:
    """Refuse to reuse a container that is not the droplet asked for, rather than lie about it.

    Labels, limits and published ports are fixed when Docker creates a container, so a droplet
    asked for with other groups, env or limits has to be removed and created again.
    """
    labels = container["Config"]["Labels"] or {}
    owner = labels.get(LABEL_STATE_DIRECTORY)
    if owner != str(state_directory):
        raise SandboxError(
            f"container {spec.container} exists but belongs to "
            f"{'no sandbox' if owner is None else f'the sandbox in {owner}'}: pick another name"
        )
    wanted = {
        LABEL_GROUPS: ",".join(spec.groups),
        LABEL_ENV: env,
        LABEL_MEMORY: memory or "",
        LABEL_CPUS: "" if cpus is None else str(cpus),
    }
    differences = [
        f"{key.removeprefix(LABEL + '.')} {labels.get(key) or '-'} (asked: {value or '-'})"
        for key, value in wanted.items()
        if labels.get(key) != value
    ]
    if differences:
        raise SandboxError(
            f"droplet {spec.name} exists with {'; '.join(differences)}: run "
            f"`python -m datalayer.sandbox down {spec.name}` first to create it anew"
        )


def install_key(container: str, public_key: Path) -> None:
    """Make ``public_key`` root's only authorized key (docker cp writes it owned by root)."""
    run(["docker", "container", "cp", str(public_key), f"{container}:/root/.ssh/authorized_keys"])


def start(container: str) -> None:
    run(["docker", "container", "start", container])


def remove(container: str) -> None:
    """Remove the container and its anonymous volumes, running or not."""
    run(["docker", "container", "rm", "--force", "--volumes", container])


def wait_until_booted(container: str) -> None:
    """Wait until systemd in ``container`` has finished booting; name the units that failed.

    A degraded boot is reported and accepted: the failed units are candidates for masking in
    droplet.Dockerfile, and the droplet is usable meanwhile.
    """
    deadline = time.monotonic() + BOOT_TIMEOUT
    while True:
        # Right after the start, systemd may not yet answer on its bus: ask again until it does.
        answer = probe(
            ["docker", "container", "exec", container, "systemctl", "is-system-running", "--wait"],
            timeout=max(1.0, deadline - time.monotonic()),
        )
        state = answer.stdout.strip()
        if state in ("running", "degraded"):
            break
        if time.monotonic() > deadline:
            raise SandboxError(
                f"{container}: systemd did not finish booting in {BOOT_TIMEOUT:.0f} s "
                f"(is-system-running: {state or answer.stderr.strip()}); failed units:\n"
                + _failed_units(container)
            )
        time.sleep(0.5)
    if state == "degraded":
        progress(
            f"{container} booted degraded; mask these units in droplet.Dockerfile if they cannot "
            f"work in a container:\n{_failed_units(container)}"
        )


def wait_for_ssh(ssh_config: Path, name: str) -> None:
    """Wait until ``ssh -F ssh_config name`` logs in and runs a command."""
    deadline = time.monotonic() + SSH_TIMEOUT
    command = ["ssh", "-F", str(ssh_config), "-o", "BatchMode=yes", "-o", "ConnectTimeout=5"]
    while (answer := probe([*command, name, "true"], timeout=15)).returncode != 0:
        if time.monotonic() > deadline:
            raise SandboxError(
                f"ssh to droplet {name} did not log in within {SSH_TIMEOUT:.0f} s: "
                f"{answer.stderr.strip()}"
            )
        time.sleep(0.5)


def _failed_units(container: str) -> str:
    return run(
        [
            "docker",
            "container",
            "exec",
            container,
            "systemctl",
            "--failed",
            "--no-legend",
            "--plain",
        ]
    ).rstrip()


def _host_port(ports: Mapping[str, Any], port: int) -> int:
    bindings = ports.get(f"{port}/tcp") or []
    for binding in bindings:
        if binding["HostIp"] == "127.0.0.1":
            return int(binding["HostPort"])
    raise SandboxError(f"port {port} is not published on 127.0.0.1 (bindings: {bindings})")
