"""The local droplet sandbox: Debian 13 containers with systemd, sshd, python3 and sudo, reached
over SSH on 127.0.0.1, with a pyinfra inventory and an ssh_config to deploy and test with.

``python -m datalayer.sandbox --help`` for the command line; ``Sandbox`` for tests and scripts.
"""

from datalayer.sandbox.api import Sandbox
from datalayer.sandbox.commands import SandboxError
from datalayer.sandbox.droplets import (
    NETWORK,
    SANDBOX_GATEWAY,
    SANDBOX_SUBNET,
    SERVICE_PORTS,
    Droplet,
    DropletSpec,
)
from datalayer.sandbox.inventory import StatePaths, state_paths

__all__ = [
    "NETWORK",
    "SANDBOX_GATEWAY",
    "SANDBOX_SUBNET",
    "SERVICE_PORTS",
    "Droplet",
    "DropletSpec",
    "Sandbox",
    "SandboxError",
    "StatePaths",
    "state_paths",
]
