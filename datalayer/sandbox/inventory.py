"""The sandbox's state directory: the SSH key, an ssh_config and a pyinfra inventory.

The files are written again from the live containers after every change, never edited in place,
so they describe what runs even after a droplet restarted on new ports or was removed by hand.
The inventory follows the deploys' contract (``deploy/inventory.py``): groups named by role, and
every host's data names its environment.
"""

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from datalayer.paths import REPOSITORY_ROOT
from datalayer.sandbox.commands import run
from datalayer.sandbox.droplets import Droplet

STATE_DIRECTORY_VARIABLE = "DATALAYER_SANDBOX_DIR"
DEFAULT_STATE_DIRECTORY = REPOSITORY_ROOT / ".sandbox"
_GENERATED = (
    "Written by `python -m datalayer.sandbox` from the running droplets; edits are overwritten."
)


@dataclass(frozen=True)
class StatePaths:
    """Where one sandbox keeps its files; droplets made for it carry its directory as a label."""

    directory: Path

    @property
    def key(self) -> Path:
        return self.directory / "id_ed25519"

    @property
    def public_key(self) -> Path:
        return self.directory / "id_ed25519.pub"

    @property
    def ssh_config(self) -> Path:
        return self.directory / "ssh_config"

    @property
    def inventory(self) -> Path:
        return self.directory / "inventory.py"

    @property
    def dockerd_log(self) -> Path:
        return self.directory / "dockerd.log"


def state_paths(directory: Path | None = None) -> StatePaths:
    """The state directory's files: ``directory``, else ``$DATALAYER_SANDBOX_DIR``, else
    ``<repository>/.sandbox``; always an absolute path, since it is written into the files."""
    chosen = directory or Path(os.environ.get(STATE_DIRECTORY_VARIABLE) or DEFAULT_STATE_DIRECTORY)
    return StatePaths(chosen.resolve())


def ensure_key(paths: StatePaths) -> None:
    """Generate the sandbox's SSH key pair once; every droplet of this sandbox trusts it."""
    if paths.key.exists():
        return
    paths.directory.mkdir(parents=True, exist_ok=True)
    run(
        [
            "ssh-keygen",
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "datalayer-sandbox",
            "-f",
            str(paths.key),
        ]
    )


def write_files(paths: StatePaths, droplets: Sequence[Droplet]) -> None:
    """Write ssh_config and inventory.py for exactly ``droplets``."""
    paths.directory.mkdir(parents=True, exist_ok=True)
    _replace(paths.ssh_config, render_ssh_config(paths, droplets))
    _replace(paths.inventory, render_inventory(paths, droplets))


def render_ssh_config(paths: StatePaths, droplets: Sequence[Droplet]) -> str:
    """One ``Host`` entry per droplet, for ``ssh -F`` and testinfra's ``--ssh-config``.

    Host keys are neither checked nor stored: a droplet created again on the same port has a new
    one, and these hosts are reached only through 127.0.0.1.
    """
    entries = [
        f"Host {droplet.name}\n"
        f"    HostName 127.0.0.1\n"
        f"    Port {droplet.ssh_port}\n"
        f"    User root\n"
        f'    IdentityFile "{paths.key}"\n'
        f"    IdentitiesOnly yes\n"
        f"    StrictHostKeyChecking no\n"
        f"    UserKnownHostsFile /dev/null\n"
        f"    LogLevel ERROR\n"
        for droplet in droplets
    ]
    return "\n".join([f"# {_GENERATED}\n", *entries])


def render_inventory(paths: StatePaths, droplets: Sequence[Droplet]) -> str:
    """A pyinfra inventory: one list per group of ``(name, data)`` hosts."""
    groups = sorted({group for droplet in droplets for group in droplet.groups})
    lines = [f'"""{_GENERATED}"""']
    for group in groups:
        lines += ["", f"{group} = ["]
        for droplet in droplets:
            if group in droplet.groups:
                lines.append(f"    ({droplet.name!r}, {{")
                lines += [
                    f"        {key!r}: {value!r},"
                    for key, value in host_data(paths, droplet).items()
                ]
                lines.append("    }),")
        lines.append("]")
    return "\n".join(lines) + "\n"


def host_data(paths: StatePaths, droplet: Droplet) -> dict[str, object]:
    """A droplet's pyinfra host data: how to reach it, its environment, and its service ports.

    + paths: the sandbox's state, whose SSH key reaches the droplet
    + droplet: the droplet

    Besides SSH and ``env``, the data holds ``published_ports``, how this machine reaches each
    service port (e.g. 5432) of the droplet, and ``private_address``, where the droplet is
    reached from other droplets.
    """
    return {
        "ssh_hostname": "127.0.0.1",
        "ssh_port": droplet.ssh_port,
        "ssh_user": "root",
        "ssh_key": str(paths.key),
        "ssh_strict_host_key_checking": "off",
        "ssh_known_hosts_file": "/dev/null",
        "env": droplet.env,
        "published_ports": dict(droplet.published_ports),
        "private_address": droplet.private_address,
    }


def _replace(path: Path, text: str) -> None:
    """Write ``path`` whole, so that a pyinfra or ssh reading it meanwhile never sees half."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text)
    partial.replace(path)
