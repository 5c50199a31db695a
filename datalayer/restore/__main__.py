"""Restore an environment's backup onto a scratch host and prove it: a restore drill.

    python -m datalayer.restore drill --env ENV INVENTORY --target HOST [--time TIMESTAMP]

Restores the latest state (or the moment ``--time`` names, ISO 8601 with its zone) of ENV's
stanza from its s3 or sftp repository onto HOST, an inventory host that is no host of the
source; starts it on localhost, archiving off; compares its rows per hypertable with the
source's (latest only); runs the hooks' check against it; reports restore time and data age,
and on success writes the drill's metrics for node-exporter. Changes nothing on the source,
where it runs read-only queries only. Exit status: 0 passed, 1 failed, 2 bad input (no host
contacted). Secrets come from the environment, as for a deploy.
"""

import argparse
import sys
from pathlib import Path

from datalayer.restore.drill import drill_main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m datalayer.restore", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    drill = commands.add_parser("drill", help="restore onto a scratch host and verify the copy")
    drill.add_argument("inventory", type=Path, help="pyinfra inventory file")
    drill.add_argument("--env", required=True, help="the source's environment (Pulumi.<env>.yaml)")
    drill.add_argument("--target", required=True, help="the scratch host, an inventory host")
    drill.add_argument("--time", help="restore to this moment (ISO 8601 with a zone)")
    arguments = parser.parse_args(argv)
    return drill_main(arguments.inventory, arguments.env, arguments.target, arguments.time)


if __name__ == "__main__":
    sys.exit(main())
