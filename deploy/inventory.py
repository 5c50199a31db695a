"""The contract between a pyinfra inventory and these deploys.

Groups are named by role (``timescaledb``, ``redis``, ``influxdb``) and every host's data names
its environment: ``env="prod"`` selects ``Pulumi.prod.yaml``. Nothing else is required. The
``env`` must be in the inventory file itself (a host's data, or a group's ``(hosts, data)``):
the whole inventory is judged while pyinfra loads it, before its group data files and
``--data`` are merged in (``deploy/preflight.py``).

An SFTP backup repository that declares no host (``timescaledb.backup.repository.type: sftp``)
is the one host of the ``backup_repository`` group, of the same ``env``, in no other role, and
its ``private_address`` host data is where the database hosts reach it
(``deploy/backup_repository``, which judges that part).
"""

from collections.abc import Callable
from typing import Any, TypeVar

from pyinfra.api.host import Host
from pyinfra.api.inventory import Inventory

from datalayer.spec import EnvironmentSpec, SpecError, load_environment
from datalayer.spec.errors import shown

Judged = TypeVar("Judged")


def environment_name(host_name: str, data: Any) -> str:
    """The environment a host's data names; a :class:`SpecError` if it names none."""
    name = data.get("env")
    if name is None or name == "":
        raise SpecError(f"inventory: host {host_name} has no 'env' data (e.g. env='prod')")
    if not isinstance(name, str):
        raise SpecError(
            f"inventory: host {host_name}: env {shown(name)} is not an environment name "
            "(e.g. env='prod')"
        )
    return name


def judge_inventory(
    inventory: Inventory, judge: Callable[[EnvironmentSpec, Host], Judged]
) -> dict[str, Judged]:
    """``judge`` of every host of ``inventory`` with its environment, by host name.

    Each environment is read and validated once, however many hosts name it; the first host
    whose data, environment or ``judge`` fails stops the whole inventory with its one line.
    """
    environments: dict[str, EnvironmentSpec] = {}
    judged: dict[str, Judged] = {}
    for host in inventory:
        name = environment_name(host.name, host.data)
        if name not in environments:
            environments[name] = load_environment(name)
        judged[host.name] = judge(environments[name], host)
    return judged
