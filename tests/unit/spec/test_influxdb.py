"""The InfluxDB section of the spec: defaults, retention durations, and every bad value named."""

import copy
from typing import Any

import pytest

from datalayer.spec import SpecError, load_environment, parse_environment
from datalayer.spec.influxdb import InfluxDb, duration_seconds
from tests.unit.conftest import minimal_timescaledb

MINIMAL_INFLUXDB: dict[str, Any] = {
    "admin_password_secret": "DATALAYER_INFLUXDB_ADMIN_PASSWORD",
    "admin_token_secret": "DATALAYER_INFLUXDB_ADMIN_TOKEN",
    "tokens": [
        {"role": "app", "file": "/etc/influxdb/tokens/app.token"},
        {"role": "reader", "file": "/etc/influxdb/tokens/reader.token"},
    ],
}


@pytest.fixture
def influxdb_config() -> dict[str, Any]:
    """A fresh, valid ``datalayer:influxdb`` value to change one key of."""
    return copy.deepcopy(MINIMAL_INFLUXDB)


def parse(influxdb: dict[str, Any]) -> InfluxDb:
    config = {"datalayer:timescaledb": minimal_timescaledb(), "datalayer:influxdb": influxdb}
    spec = parse_environment("test", config, source="Pulumi.test.yaml").influxdb
    assert spec is not None
    return spec


def error_of(influxdb: dict[str, Any]) -> str:
    with pytest.raises(SpecError) as raised:
        parse(influxdb)
    return str(raised.value)


def test_defaults(influxdb_config: dict[str, Any]) -> None:
    spec = parse(influxdb_config)
    assert (spec.org, spec.bucket, spec.retention) == ("trading-platform", "market-data", "30d")
    assert (spec.http_bind_address, spec.http_port) == ("127.0.0.1", 8086)
    assert spec.reporting_disabled is True
    assert spec.tls.enabled is False


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_dev_and_prod_declare_influxdb(name: str) -> None:
    assert load_environment(name).influxdb is not None


def test_sandbox_declares_no_influxdb() -> None:
    assert load_environment("sandbox").influxdb is None


def test_prod_listens_on_its_private_address_only() -> None:
    spec = load_environment("prod").influxdb
    assert spec is not None
    assert spec.http_bind_address == "10.110.0.30"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30d", 2592000), ("52w", 31449600), ("0s", 0), ("1h", 3600), ("1w12h", 648000)],
)
def test_retention_is_read_as_seconds(text: str, seconds: int) -> None:
    assert duration_seconds(text) == seconds


@pytest.mark.parametrize("value", ["30", "thirty days", "30 d", "1mo", "-1d", "d30", ""])
def test_retention_that_is_not_a_duration_is_named(
    influxdb_config: dict[str, Any], value: str
) -> None:
    influxdb_config["retention"] = value
    message = error_of(influxdb_config)
    assert f"datalayer:influxdb.retention: {value!r} is not a duration" in message


def test_retention_of_a_number_is_named(influxdb_config: dict[str, Any]) -> None:
    influxdb_config["retention"] = 30
    assert "datalayer:influxdb.retention: 30 " in error_of(influxdb_config)


def test_retention_below_an_hour_is_refused(influxdb_config: dict[str, Any]) -> None:
    influxdb_config["retention"] = "30m"
    assert "retention: '30m' must be at least 1h" in error_of(influxdb_config)


@pytest.mark.parametrize("key", ["admin_password_secret", "admin_token_secret"])
def test_missing_admin_secret_is_named(influxdb_config: dict[str, Any], key: str) -> None:
    del influxdb_config[key]
    assert f"datalayer:influxdb.{key}: Field required" in error_of(influxdb_config)


def test_secret_that_is_not_a_variable_name_is_refused(influxdb_config: dict[str, Any]) -> None:
    influxdb_config["admin_token_secret"] = "admin token"
    message = error_of(influxdb_config)
    assert "datalayer:influxdb.admin_token_secret: '***' String should match pattern" in message
    assert "admin token" not in message


def test_one_secret_for_password_and_token_is_refused(influxdb_config: dict[str, Any]) -> None:
    influxdb_config["admin_token_secret"] = influxdb_config["admin_password_secret"]
    assert "admin_password_secret and admin_token_secret must differ" in error_of(influxdb_config)


def test_token_without_a_file_is_refused(influxdb_config: dict[str, Any]) -> None:
    del influxdb_config["tokens"][1]["file"]
    assert "datalayer:influxdb.tokens.1.file: Field required" in error_of(influxdb_config)


def test_token_file_must_be_absolute(influxdb_config: dict[str, Any]) -> None:
    influxdb_config["tokens"][0]["file"] = "tokens/app.token"
    assert "tokens.0.file: 'tokens/app.token' must be an absolute path" in error_of(influxdb_config)


def test_unknown_token_role_is_refused(influxdb_config: dict[str, Any]) -> None:
    influxdb_config["tokens"][0]["role"] = "admin"
    assert "datalayer:influxdb.tokens.0.role: 'admin'" in error_of(influxdb_config)


def test_role_declared_twice_is_refused(influxdb_config: dict[str, Any]) -> None:
    influxdb_config["tokens"][1]["role"] = "app"
    assert "tokens: each role at most once" in error_of(influxdb_config)


def test_two_tokens_in_one_file_are_refused(influxdb_config: dict[str, Any]) -> None:
    influxdb_config["tokens"][1]["file"] = influxdb_config["tokens"][0]["file"]
    assert "tokens: each token needs a file of its own" in error_of(influxdb_config)


def test_tls_without_files_is_refused(influxdb_config: dict[str, Any]) -> None:
    influxdb_config["tls"] = {"enabled": True}
    assert "tls.enabled is true but tls.cert_file or tls.key_file is not set" in error_of(
        influxdb_config
    )


def test_reserved_bucket_name_is_refused(influxdb_config: dict[str, Any]) -> None:
    influxdb_config["bucket"] = "_monitoring"
    assert "datalayer:influxdb.bucket: '_monitoring' must start with a letter or digit" in (
        error_of(influxdb_config)
    )


@pytest.mark.parametrize("address", ["::1", "::", "fd00::30"])
def test_ipv6_bind_address_is_refused(influxdb_config: dict[str, Any], address: str) -> None:
    influxdb_config["http_bind_address"] = address
    assert error_of(influxdb_config).endswith(
        f"datalayer:influxdb.http_bind_address: {address!r} is an IPv6 address, which the "
        "influxdb2 package's start script cannot reach (systemctl start would never return): "
        "use an IPv4 address, 'localhost' or '*'"
    )


@pytest.mark.parametrize("address", ["127.0.0.1", "10.110.0.30", "localhost", "*"])
def test_ipv4_and_named_bind_addresses_are_kept(
    influxdb_config: dict[str, Any], address: str
) -> None:
    influxdb_config["http_bind_address"] = address
    assert parse(influxdb_config).http_bind_address == address


def test_malformed_bind_address_is_named(influxdb_config: dict[str, Any]) -> None:
    influxdb_config["http_bind_address"] = "10.110.0"
    assert "datalayer:influxdb.http_bind_address: '10.110.0'" in error_of(influxdb_config)


@pytest.mark.parametrize(
    ("path", "typo"), [((), "retention_period"), (("tls",), "cert"), (("tokens", 0), "path")]
)
def test_unknown_key_anywhere_is_refused(
    influxdb_config: dict[str, Any], path: tuple[str | int, ...], typo: str
) -> None:
    target: Any = influxdb_config
    for part in path:
        target = target.setdefault(part, {}) if isinstance(part, str) else target[part]
    target[typo] = "x"
    dotted = ".".join(str(part) for part in ("influxdb", *path, typo))
    assert f"datalayer:{dotted}: 'x' unknown key (a typo?)" in error_of(influxdb_config)


@pytest.mark.parametrize(
    ("key", "value"),
    [("http_port", True), ("http_port", 8086.0), ("reporting_disabled", "yes")],
)
def test_value_of_another_type_is_not_coerced(
    influxdb_config: dict[str, Any], key: str, value: Any
) -> None:
    influxdb_config[key] = value
    assert f"datalayer:influxdb.{key}: {value!r} Input should be a valid" in error_of(
        influxdb_config
    )


@pytest.mark.parametrize(
    "path",
    ["/etc/passwd", "/etc/app.token", "/root/app.token", "/app.token", "/etc",
     "/usr/local/etc/app.token", "/var/lib/app.token", "/etc/influxdb/app.token",
     "/etc/influxdb/tokens/../../passwd"],
)  # fmt: skip
def test_token_file_in_a_system_directory_is_refused(
    influxdb_config: dict[str, Any], path: str
) -> None:
    influxdb_config["tokens"][0]["file"] = path
    message = error_of(influxdb_config)
    assert f"datalayer:influxdb.tokens.0.file: {path!r} " in message
    assert len(message.splitlines()) == 1


def test_token_file_in_a_directory_of_its_own_is_accepted(influxdb_config: dict[str, Any]) -> None:
    influxdb_config["tokens"][0]["file"] = "/etc/influxdb/tokens/app.token"
    assert parse(influxdb_config).tokens[0].file == "/etc/influxdb/tokens/app.token"
