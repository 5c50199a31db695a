"""An environment: everything one deployment target (sandbox, dev, prod) declares."""

from pydantic import Field

from datalayer.spec.base import SpecModel
from datalayer.spec.containers import Containers
from datalayer.spec.influxdb import InfluxDb
from datalayer.spec.redis import Redis
from datalayer.spec.timescaledb import TimescaleDb


class EnvironmentSpec(SpecModel):
    """The whole description of one environment, as read from ``Pulumi.<env>.yaml``.

    Pulumi programs and pyinfra deploys both receive this object; neither reads the file itself.
    """

    name: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    """Environment name, the ``<env>`` of ``Pulumi.<env>.yaml``."""
    timescaledb: TimescaleDb
    """TimescaleDB (PostgreSQL) for relational and market time-series data."""
    redis: Redis | None = None
    """Redis for caching, sessions and the price cache; unset where no host runs it."""
    influxdb: InfluxDb | None = None
    """InfluxDB 2 for market-data time series; unset where no InfluxDB runs (the sandbox)."""
    containers: Containers | None = None
    """Containers for the Pulumi stacks (dev, prod); unset where only droplets run (the sandbox)."""
