"""Operate a cluster: ``python -m datalayer.cluster_control status|switchover|failover``.

    python -m datalayer.cluster_control status --env prod INVENTORY
    python -m datalayer.cluster_control switchover --env prod INVENTORY [--candidate NAME]
    python -m datalayer.cluster_control failover --env prod INVENTORY --candidate NAME

Built on patronictl, run over SSH on the first member of the environment's ``timescaledb``
hosts that answers (as root: patronictl reads the REST API's password from Patroni's
configuration file, so no password crosses this machine). Prints one line per member. A
switchover is planned (the leader hands over to a healthy replica, the synchronous one when
synchronous_mode is on); a failover promotes the named candidate even without a healthy
leader, and may lose what the leader had not replicated.
"""

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from typing import Any

from datalayer.cluster.patroni import patroni_config_path
from datalayer.secrets import SecretError
from datalayer.spec import SpecError, load_environment
from datalayer.timescaledb.layout import patroni_layout
from datalayer.verify import load_inventory, ssh_config
from deploy.inventory import MEMBERS_GROUP

LIST_COMMAND = "list -f json"
SSH_FAILED = 255
"""ssh's exit status when it could not reach the host (ssh(1), EXIT STATUS)."""


def member_line(member: dict[str, Any]) -> str:
    """One readable line for a member of ``patronictl list -f json``: name, role, state,
    timeline, replication lag (replicas), address."""
    lag = member.get("Lag in MB")
    lag_text = "" if lag is None else f"  lag {lag} MB"
    return (
        f"{member['Member']:<16} {member['Role']:<13} {member['State']:<10} "
        f"timeline {member.get('TL', '?')}{lag_text}  {member['Host']}"
    )


def patronictl_arguments(action: str, scope: str, candidate: str | None) -> list[str]:
    """patronictl's arguments for ``action`` (after ``-c CONFIG``)."""
    if action == "status":
        return LIST_COMMAND.split()
    arguments = [action, scope, "--force"]
    if candidate is not None:
        arguments += ["--candidate", candidate]
    return arguments


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m datalayer.cluster_control", description=__doc__.split("\n")[0]
    )
    parser.add_argument("action", choices=("status", "switchover", "failover"))
    parser.add_argument("inventory", help="pyinfra inventory file")
    parser.add_argument("--env", required=True, help="environment (Pulumi.<env>.yaml)")
    parser.add_argument("--candidate", help="member to promote (failover: required)")
    arguments = parser.parse_args(argv)
    if arguments.action == "failover" and arguments.candidate is None:
        parser.error("failover needs --candidate NAME: the member to promote")
    try:
        environment = load_environment(arguments.env)
        cluster = environment.timescaledb.cluster
        if cluster is None:
            raise SpecError(f"Pulumi.{arguments.env}.yaml declares no timescaledb.cluster")
        hosts = [
            host
            for host in load_inventory(arguments.inventory)
            if MEMBERS_GROUP in host.groups and host.data.get("env") == arguments.env
        ]
    except (SpecError, SecretError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not hosts:
        print(
            f"error: no host of {arguments.inventory} is a {arguments.env} member", file=sys.stderr
        )
        return 2
    config = patroni_config_path(patroni_layout(environment.timescaledb))
    command = ["patronictl", "-c", config]
    action = patronictl_arguments(arguments.action, cluster.scope, arguments.candidate)
    for host in hosts:
        with tempfile.NamedTemporaryFile("w", suffix=".ssh_config") as ssh_file:
            ssh_file.write(ssh_config(host.name, host.data))
            ssh_file.flush()
            ssh = ["ssh", "-F", ssh_file.name, host.name]
            if arguments.action != "status":
                done = subprocess.run([*ssh, *command, *action], check=False, text=True)
                if done.returncode == SSH_FAILED:
                    continue  # this member is unreachable: ask the next one
                if done.returncode != 0:
                    return done.returncode
            listing = subprocess.run(
                [*ssh, *command, *LIST_COMMAND.split()], capture_output=True, text=True,
                check=False,
            )  # fmt: skip
        if listing.returncode == 0:
            for member in json.loads(listing.stdout):
                print(member_line(member))
            return 0
        print(f"{host.name}: {listing.stderr.strip()}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
