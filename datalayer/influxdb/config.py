"""Render influxd's configuration file for one environment.

The file is rendered whole from ``templates/influxdb/config.toml.j2``; the deploy installs exactly
these bytes and never edits a line in place.
"""

import ipaddress

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


def render_influxdb_config(spec: InfluxDb, environment_name: str) -> str:
    """The complete /etc/influxdb/config.toml for ``spec``."""
    return render(
        "influxdb/config.toml.j2",
        environment=environment_name,
        spec=spec,
        config_path=CONFIG_PATH,
        bolt_path=BOLT_PATH,
        engine_path=ENGINE_PATH,
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
