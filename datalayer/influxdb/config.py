"""Render influxd's configuration file for one environment.

The file is rendered whole from ``templates/influxdb/config.toml.j2``; the deploy installs exactly
these bytes and never edits a line in place.
"""

import tomllib
from dataclasses import dataclass

from datalayer.influxdb.options import INFLUXD_OPTIONS
from datalayer.onhost.influxdb_setup import Plan, TokenPlan
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


# The TOML values influxd takes for an option of each Go type: kit/cli/viper.go:102-345 (v2.7.12)
# converts them with spf13/cast; durations and sizes are text such as "10s" or "1g".
_TOML_VALUES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "zapcore.Level": (str,),
    "bool": (bool,),
    "int": (int,),
    "int32": (int,),
    "int64": (int,),
    "time.Duration": (str,),
    "toml.Duration": (str,),
    "toml.Size": (str, int),
    "map[string]string": (dict,),
}


def http_bind_address(spec: InfluxDb) -> str:
    """influxd's ``http-bind-address``: ``ADDRESS:PORT``, ``:PORT`` for every address. The spec
    admits no IPv6 address, so the address needs no brackets."""
    if spec.http_bind_address == "*":
        return f":{spec.http_port}"
    return f"{spec.http_bind_address}:{spec.http_port}"


def check_influxd_keys(text: str) -> None:
    """Refuse a config.toml with a key that is not an option of influxd 2.7, or a value not of
    the option's type: influxd would ignore the key silently, and the setting with it."""
    for key, value in tomllib.loads(text).items():
        kind = INFLUXD_OPTIONS.get(key)
        if kind is None:
            raise ValueError(
                f"config.toml: {key!r} is not an influxd 2.7 option "
                "(datalayer/influxdb/options.py lists them)"
            )
        if not isinstance(value, _TOML_VALUES[kind]) or (
            isinstance(value, bool) != (kind == "bool")
        ):
            raise ValueError(f"config.toml: {key} = {value!r} is not a {kind}")


def render_influxdb_config(
    spec: InfluxDb, environment_name: str, layout: InfluxDbLayout = PACKAGE_LAYOUT
) -> str:
    """The complete config.toml for ``spec`` in ``layout`` (the package's by default), every
    key checked against influxd's own options."""
    text = render(
        "influxdb/config.toml.j2",
        environment=environment_name,
        spec=spec,
        config_path=layout.config_path,
        bolt_path=layout.bolt_path,
        engine_path=layout.engine_path,
        http_bind_address=http_bind_address(spec),
    )
    check_influxd_keys(text)
    return text


def api_url(spec: InfluxDb) -> str:
    """Where the setup step, running on the droplet, reaches the API: the bound address, or the
    loopback address when influxd listens on every address."""
    scheme = "https" if spec.tls.enabled else "http"
    address = "127.0.0.1" if spec.http_bind_address == "*" else spec.http_bind_address
    return f"{scheme}://{address}:{spec.http_port}"


def setup_plan(spec: InfluxDb) -> Plan:
    """What the setup step converges to, from the spec; holds no secret."""
    return Plan(
        url=api_url(spec),
        ca_file=spec.tls.cert_file if spec.tls.enabled else None,
        server_name=None,  # the server's own certificate, pinned: see http_transport
        org=spec.org,
        bucket=spec.bucket,
        retention_seconds=spec.retention_seconds,
        username=spec.admin_username,
        tokens=tuple(
            TokenPlan(token.role, token.description, token.file, token.actions)
            for token in spec.tokens
        ),
    )
