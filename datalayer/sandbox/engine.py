"""Making this machine able to run droplets: a Docker engine that answers, and the host tools the
sandbox calls.

CI runners and new machines start bare, so the sandbox installs what it needs from Debian's
packages (the only registry that is sure to be reachable) and starts the engine itself. A machine
where ``docker info`` already answers is left exactly as it is: its owner chose how Docker runs.
"""

import os
import platform
import shutil
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

from datalayer.sandbox.commands import SandboxError, probe, progress, run, tail

# The Debian package that provides each command the sandbox runs on this machine.
DEBIAN_PACKAGES = {
    "docker": "docker.io",
    "dockerd": "docker.io",
    "debootstrap": "debootstrap",
    "ssh": "openssh-client",
    "ssh-keygen": "openssh-client",
}
# dockerd comes up in a few seconds; a minute means it will not.
ENGINE_START_TIMEOUT = 60.0


def ensure_engine(dockerd_log: Path) -> None:
    """Make ``docker`` talk to a running engine, installing and starting it when it does not.

    + dockerd_log: where a ``dockerd`` started here writes its log (on machines without systemd)
    """
    answer = _docker_info()
    if answer.returncode == 0:
        return
    if os.geteuid() != 0:
        raise SandboxError(
            f"the Docker engine does not answer (docker info: {answer.stderr.strip()}); start it, "
            "or run as root so that the sandbox can install and start it"
        )
    ensure_commands(("docker", "dockerd", "debootstrap"))
    _start_engine(dockerd_log)


def ensure_commands(commands: Iterable[str]) -> None:
    """Install, from Debian's packages, whichever of ``commands`` this machine lacks.

    + commands: names from ``DEBIAN_PACKAGES``
    """
    missing = sorted(
        {DEBIAN_PACKAGES[command] for command in commands if not shutil.which(command)}
    )
    if not missing:
        return
    _require_debian(missing)
    if os.geteuid() != 0:
        raise SandboxError(
            f"installing {' '.join(missing)} needs root: run as root or install them"
        )
    progress(f"installing {' '.join(missing)} from Debian's packages")
    environ = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update"], timeout=600, env=environ)
    run(["apt-get", "install", "-y", *missing], timeout=1200, env=environ)


def _docker_info() -> subprocess.CompletedProcess[str]:
    return probe(["docker", "info", "--format", "{{.ServerVersion}}"])


def _require_debian(packages: list[str]) -> None:
    try:
        release = platform.freedesktop_os_release()
    except OSError as error:
        raise SandboxError(
            f"cannot tell which system this is ({error}); install {' '.join(packages)} yourself"
        ) from error
    family = {release.get("ID", ""), *release.get("ID_LIKE", "").split()}
    if not family & {"debian", "ubuntu"}:
        raise SandboxError(
            f"the sandbox installs its tools only on Debian and Ubuntu, and this is "
            f"{release.get('PRETTY_NAME', release.get('ID', 'unknown'))}: install Docker "
            f"(engine and CLI), debootstrap and an OpenSSH client yourself, then start Docker"
        )


def _start_engine(dockerd_log: Path) -> None:
    """Start the engine as the machine's init would, or in the background where there is none.

    Containers and CI runners often have no systemd as PID 1: there ``dockerd`` runs as a detached
    process of its own session, so that it outlives this command like a service would.
    """
    dockerd: subprocess.Popen[bytes] | None = None
    if Path("/proc/1/comm").read_text().strip() == "systemd":
        progress("starting the Docker engine (systemctl start docker)")
        run(["systemctl", "start", "docker"])
    else:
        progress(f"starting dockerd in the background, its log in {dockerd_log}")
        dockerd_log.parent.mkdir(parents=True, exist_ok=True)
        with dockerd_log.open("ab") as log:
            dockerd = subprocess.Popen(
                ["dockerd"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
    deadline = time.monotonic() + ENGINE_START_TIMEOUT
    while (answer := _docker_info()).returncode != 0:
        if dockerd is not None and dockerd.poll() is not None:
            raise SandboxError(
                f"dockerd exited with code {dockerd.returncode}; the end of {dockerd_log}:\n"
                + tail(dockerd_log.read_text(errors="replace"))
            )
        if time.monotonic() > deadline:
            raise SandboxError(
                f"the Docker engine did not answer within {ENGINE_START_TIMEOUT:.0f} s "
                f"(docker info: {answer.stderr.strip()})"
            )
        time.sleep(1)
