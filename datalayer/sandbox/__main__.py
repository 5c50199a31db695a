"""python -m datalayer.sandbox: local droplets to deploy to, on this machine's Docker engine.

    python -m datalayer.sandbox up [--env sandbox] [--memory 1g] [--cpus 1] [--rebuild] \\
        db-1:timescaledb [cache-1:redis ...]
    python -m datalayer.sandbox status
    python -m datalayer.sandbox down db-1 [...] | --all
    python -m datalayer.sandbox image [--rebuild]

Progress goes to stderr; stdout carries the droplets and the files to use them with.
"""

import argparse
import sys
from collections.abc import Sequence

from datalayer.sandbox.api import Sandbox
from datalayer.sandbox.commands import SandboxError
from datalayer.sandbox.droplets import Droplet, DropletSpec
from datalayer.sandbox.inventory import STATE_DIRECTORY_VARIABLE


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    sandbox = Sandbox()
    try:
        if arguments.command == "up":
            specs = [DropletSpec.parse(text) for text in arguments.droplets]
            sandbox.ensure_image(rebuild=arguments.rebuild)
            sandbox.up(specs, env=arguments.env, memory=arguments.memory, cpus=arguments.cpus)
            _print_status(sandbox, sandbox.droplets())
        elif arguments.command == "down":
            if arguments.all:
                sandbox.down_all()
            else:
                sandbox.down(arguments.names)
            _print_status(sandbox, sandbox.droplets())
        elif arguments.command == "status":
            # Written again in case droplets changed behind the sandbox's back (docker restart).
            _print_status(sandbox, sandbox.refresh())
        else:
            print(sandbox.ensure_image(rebuild=arguments.rebuild))
    except SandboxError as error:
        print(f"sandbox: error: {error}", file=sys.stderr)
        return 1
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m datalayer.sandbox",
        description=(
            "Local droplets: Debian 13 containers with systemd and sshd, reached over SSH on "
            f"127.0.0.1. Files live in ${STATE_DIRECTORY_VARIABLE}, default <repository>/.sandbox."
        ),
    )
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="create, start or reuse droplets, and wait for SSH")
    up.add_argument(
        "droplets",
        nargs="+",
        metavar="NAME:GROUP[,GROUP...]",
        help="a droplet and its inventory groups (roles), e.g. db-1:timescaledb",
    )
    up.add_argument(
        "--env", default="sandbox", help="environment in the inventory (Pulumi.<env>.yaml)"
    )
    up.add_argument("--memory", help="memory limit per droplet, as Docker takes it (e.g. 1g)")
    up.add_argument("--cpus", type=float, help="CPU limit per droplet (e.g. 1.5)")
    up.add_argument("--rebuild", action="store_true", help="build the droplet image again first")

    down = commands.add_parser("down", help="remove droplets")
    which = down.add_mutually_exclusive_group(required=True)
    which.add_argument("names", nargs="*", default=[], metavar="NAME", help="droplets to remove")
    which.add_argument("--all", action="store_true", help="all droplets, and the network if unused")

    commands.add_parser("status", help="list the droplets, their ports and files")

    image = commands.add_parser("image", help="build the droplet image if missing; print its tag")
    image.add_argument("--rebuild", action="store_true", help="build it again, without caches")
    return parser


def _print_status(sandbox: Sandbox, running: list[Droplet]) -> None:
    for droplet in running:
        print(_describe(droplet))
    for name in sandbox.stopped():
        print(f"{name}: stopped (up starts it)")
    if not running:
        print(f"no running droplets in {sandbox.paths.directory}")
        return
    print(f"inventory:  {sandbox.paths.inventory}")
    print(f"ssh config: {sandbox.paths.ssh_config}")
    print(f"  ssh -F {sandbox.paths.ssh_config} {running[0].name}")
    print(f"  pyinfra -y {sandbox.paths.inventory} exec -- uname -a")


def _describe(droplet: Droplet) -> str:
    services = " ".join(
        f"{port}->127.0.0.1:{published}" for port, published in droplet.published_ports.items()
    )
    return (
        f"{droplet.name}: groups {','.join(droplet.groups)}, env {droplet.env}, "
        f"ssh 127.0.0.1:{droplet.ssh_port}, {services}, address {droplet.private_address}"
    )


if __name__ == "__main__":
    sys.exit(main())
