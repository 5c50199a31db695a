"""Render influxd's configuration file for one environment.

The file is rendered whole from ``templates/influxdb/config.toml.j2``; the deploy installs exactly
these bytes and never edits a line in place.
"""

import tomllib

from datalayer.influxdb.layout import PACKAGE_LAYOUT, InfluxDbLayout
from datalayer.influxdb.options import INFLUXD_OPTIONS
from datalayer.render import render
from datalayer.spec.influxdb import InfluxDb

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
        environment_name=environment_name,
        spec=spec,
        config_path=layout.config_path,
        bolt_path=layout.bolt_path,
        engine_path=layout.engine_path,
        http_bind_address=http_bind_address(spec),
    )
    check_influxd_keys(text)
    return text
