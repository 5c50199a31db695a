"""Render influxd's configuration file for one environment.

The file is rendered whole from ``templates/influxdb/config.toml.j2``; the deploy installs exactly
these bytes and never edits a line in place.
"""

import ipaddress
from dataclasses import dataclass

from datalayer.influxdb.setup import Plan, TokenPlan
from datalayer.render import render
from datalayer.spec.influxdb import InfluxDb

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


def http_bind_address(spec: InfluxDb) -> str:
    """influxd's ``http-bind-address``: ``ADDRESS:PORT``, ``:PORT`` for every address."""
    if spec.http_bind_address == "*":
        return f":{spec.http_port}"
    return f"{_host(spec.http_bind_address)}:{spec.http_port}"


def _host(address: str) -> str:
    """An address as the host part of ``HOST:PORT``: IPv6 in brackets."""
    if address != "localhost" and ipaddress.ip_address(address).version == 6:
        return f"[{address}]"
    return address


def render_influxdb_config(
    spec: InfluxDb, environment_name: str, layout: InfluxDbLayout = PACKAGE_LAYOUT
) -> str:
    """The complete config.toml for ``spec`` in ``layout`` (the package's by default)."""
    return render(
        "influxdb/config.toml.j2",
        environment=environment_name,
        spec=spec,
        config_path=layout.config_path,
        bolt_path=layout.bolt_path,
        engine_path=layout.engine_path,
        http_bind_address=http_bind_address(spec),
    )


def api_url(spec: InfluxDb) -> str:
    """Where the setup step, running on the droplet, reaches the API: the bound address, or the
    loopback address when influxd listens on every address."""
    scheme = "https" if spec.tls.enabled else "http"
    address = "127.0.0.1" if spec.http_bind_address == "*" else spec.http_bind_address
    return f"{scheme}://{_host(address)}:{spec.http_port}"


def setup_plan(spec: InfluxDb) -> Plan:
    """What the setup step converges to, from the spec; holds no secret."""
    return Plan(
        url=api_url(spec),
        ca_file=spec.tls.cert_file if spec.tls.enabled else None,
        org=spec.org,
        bucket=spec.bucket,
        retention_seconds=spec.retention_seconds,
        username=spec.admin_username,
        tokens=tuple(
            TokenPlan(token.role, token.description, token.file, token.actions)
            for token in spec.tokens
        ),
    )
