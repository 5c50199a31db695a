"""pyinfra operations for a Patroni member: each reads a fact, then acts or says ``noop``.

Every change to the running PostgreSQL goes through Patroni (``patronictl``), never through
``systemctl`` on the server's unit: Patroni owns PostgreSQL, and a restart behind its back
looks to it like a crash.
"""

import json
import shlex
from collections.abc import Generator
from io import BytesIO
from typing import Any

from pyinfra.api.command import FileUploadCommand, StringCommand
from pyinfra.api.exceptions import OperationError
from pyinfra.api.operation import operation
from pyinfra.context import host

from deploy.patroni.facts import (
    DCS_CONFIGURATION_WAIT,
    DataDirectoryState,
    PatroniDynamicConfiguration,
    PatroniMemberStatus,
)

FRESH_CLUSTER_DATABASES = "databases 3"
"""A data directory fresh from initdb: template1, template0 and postgres, nothing else."""


@operation()
def debian_cluster_replaced(
    version: int, cluster: str, data_directory: str
) -> Generator[str, None, None]:
    """Drop the empty cluster postgresql-common creates and starts on install, so that Patroni
    bootstraps (or clones) its own data directory.

    + version, cluster: the postgresql-common cluster (``17``, ``main``)
    + data_directory: its data directory, which Patroni takes over

    Will not drop a cluster that holds a database beyond initdb's three: the deploy stops,
    naming it, and leaves it running. A data directory Patroni has run is left to Patroni.
    """
    state = host.get_fact(DataDirectoryState, data_directory=data_directory)
    if state in ("absent", "patroni"):
        host.noop(f"{data_directory}: {'Patroni runs it' if state == 'patroni' else 'absent'}")
        return
    if state != FRESH_CLUSTER_DATABASES:
        raise OperationError(
            f"{data_directory} holds a PostgreSQL cluster Patroni has never run ({state}): "
            f"it is not dropped; move its data into the cluster by hand (or remove it) first"
        )
    yield f"pg_dropcluster --stop {version} {cluster}"


@operation()
def running(address: str, port: int, timeout: int, unit: str) -> Generator[str, None, None]:
    """Wait until Patroni runs PostgreSQL on this member (``GET /health`` is 200): the leader
    once it has bootstrapped, a replica once it has cloned and streams.

    + address, port: the member's REST API
    + timeout: seconds to wait before the deploy stops, naming the member
    + unit: Patroni's unit; the wait ends at once, with its journal's last lines, if it stops
    """
    status = host.get_fact(PatroniMemberStatus, address=address, port=port)
    if status.get("state") == "running":
        host.noop(f"Patroni runs PostgreSQL as {status.get('role')}")
        return
    url = shlex.quote(f"http://{address}:{port}/health")
    journal = f"journalctl -u {unit} -n 5 --no-pager -o cat >&2"
    yield (
        f"for second in $(seq {timeout}); do curl -sf --max-time 2 {url} >/dev/null && exit 0; "
        f'if ! systemctl is-active --quiet {unit}; then echo "{unit} on {host.name} stopped:" '
        f">&2; {journal}; exit 1; fi; sleep 1; done; "
        f'echo "Patroni on {host.name}: PostgreSQL is not running after {timeout} s:" >&2; '
        f"{journal}; exit 1"
    )


def patronictl(config_path: str, *arguments: str) -> str:
    """A patronictl command line as root, which reads the REST API's password from the
    configuration file (never from argv)."""
    return shlex.join(["patronictl", "-c", config_path, *arguments])


@operation()
def restart_owed(
    role: str, address: str, port: int, config_path: str, scope: str
) -> Generator[StringCommand, None, None]:
    """Restart PostgreSQL through Patroni if this member is ``role`` and owes a restart
    (``pending_restart``: a setting only a restart applies changed).

    + role: ``replica`` or ``primary``: called once for each, replicas first, so that the
      leader restarts last and a replica is ready to take over while it does
    + address, port: the member's REST API
    + config_path, scope: for ``patronictl restart --pending``
    """
    status = host.get_fact(PatroniMemberStatus, address=address, port=port)
    if status.get("role") != role or not status.get("pending_restart"):
        host.noop(f"no restart owed as {role}")
        return
    reasons = ", ".join(sorted(status.get("pending_restart_reason", {}))) or "pending"
    yield StringCommand(
        patronictl(config_path, "restart", scope, host.name, "--pending", "--force"),
        "#",
        f"restart PostgreSQL through Patroni ({reasons})",
    )


def differences(wanted: Any, current: Any, prefix: str = "") -> list[str]:
    """The keys of ``wanted`` whose value ``current`` does not hold (nested keys with dots);
    keys only ``current`` has (Patroni's own defaults) are not differences."""
    if isinstance(wanted, dict):
        if not isinstance(current, dict):
            return [prefix.rstrip(".") or "(all)"]
        found: list[str] = []
        for key, value in wanted.items():
            found += differences(value, current.get(key), f"{prefix}{key}.")
        return found
    if isinstance(wanted, bool) or not isinstance(wanted, int):
        return [] if wanted == current else [prefix.rstrip(".")]
    return [] if str(wanted) == str(current) else [prefix.rstrip(".")]


@operation()
def dynamic_configuration(
    wanted: dict[str, Any], address: str, port: int, config_path: str, scope: str, settle: int
) -> Generator[Any, None, None]:
    """Bring Patroni's DCS configuration to ``wanted``, from the leader only.

    + wanted: the dynamic configuration (``datalayer.cluster.patroni.dynamic_configuration``),
      which the bootstrapping member wrote first
    + address, port: this member's REST API; a replica says noop
    + config_path, scope: for ``patronictl edit-config --apply``
    + settle: seconds to wait after a change, for every member's Patroni to read it in its next
      loop and flag the restart it may owe (``restart_owed`` reads that flag)

    Changes only the keys ``wanted`` names (a patch): what Patroni adds itself stays.
    """
    status = host.get_fact(PatroniMemberStatus, address=address, port=port)
    if status.get("role") != "primary":
        host.noop("the leader brings the DCS configuration to the spec")
        return
    current = host.get_fact(PatroniDynamicConfiguration, address=address, port=port)
    if not current:
        raise OperationError(
            f"Patroni on {host.name} leads but gave no DCS configuration (GET /config) within "
            f"{DCS_CONFIGURATION_WAIT} s: nothing to compare the spec with"
        )
    changed = differences(wanted, current)
    if not changed:
        host.noop("the DCS configuration is as the spec says")
        return
    patch = f"/etc/patroni/{scope}.dynamic.json"
    yield FileUploadCommand(
        BytesIO(json.dumps(wanted, indent=2).encode()), patch,
        remote_temp_filename=host.get_temp_filename(patch),
    )  # fmt: skip
    yield StringCommand(
        patronictl(config_path, "edit-config", scope, "--apply", patch, "--force")
        + f" && sleep {settle}",
        "#",
        "change " + ", ".join(changed),
    )
