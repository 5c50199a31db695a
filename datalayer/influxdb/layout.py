"""Where influxd reads its configuration and keeps its data, and how it runs: the influxdb2
package on droplets, the official image in containers.

The renderer, the deploy and the container take every path from here.
"""

from dataclasses import dataclass

# The influxdb2 package's layout: its unit reads INFLUXD_CONFIG_PATH=/etc/influxdb/config.toml
# and runs as the influxdb user, whose data lives under /var/lib/influxdb.
CONFIG_PATH = "/etc/influxdb/config.toml"
BOLT_PATH = "/var/lib/influxdb/influxd.bolt"
ENGINE_PATH = "/var/lib/influxdb/engine"
SERVICE = "influxdb.service"
USER = "influxdb"


@dataclass(frozen=True)
class InfluxDbLayout:
    """Where influxd reads its configuration and keeps its data."""

    config_path: str
    bolt_path: str
    engine_path: str


PACKAGE_LAYOUT = InfluxDbLayout(CONFIG_PATH, BOLT_PATH, ENGINE_PATH)
"""The influxdb2 package's, on droplets."""

CONTAINER_LAYOUT = InfluxDbLayout(
    # Outside the image's two volumes: the rendered file is placed anew with every container
    # and is the only configuration in force (INFLUXD_CONFIG_PATH names it).
    config_path="/etc/datalayer/influxdb/config.toml",
    bolt_path="/var/lib/influxdb2/influxd.bolt",
    engine_path="/var/lib/influxdb2/engine",
)
"""The official influxdb:2 image's: data under its /var/lib/influxdb2 volume."""
