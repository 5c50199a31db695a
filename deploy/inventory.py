"""The contract between a pyinfra inventory and these deploys.

Groups are named by role (``timescaledb``; ``redis`` and ``influxdb`` later) and every host's data
names its environment: ``env="prod"`` selects ``Pulumi.prod.yaml``. Nothing else is required.
"""

from pyinfra.api.host import Host

from datalayer.spec import EnvironmentSpec, SpecError, load_environment


def environment_of(host: Host) -> EnvironmentSpec:
    """The validated environment ``host`` belongs to, named by its ``env`` data."""
    name = host.data.get("env")
    if not name:
        raise SpecError(f"inventory: host {host.name} has no 'env' data (e.g. env='prod')")
    return load_environment(str(name))
