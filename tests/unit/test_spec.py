"""The environment spec: stack files load, and every bad value stops with one line naming it."""

from pathlib import Path
from typing import Any

import pytest

from datalayer.spec import SpecError, known_environments, load_environment, parse_environment
from datalayer.units import parse_memory


def parse(timescaledb: dict[str, Any], **top_level: Any) -> Any:
    config = {"datalayer:timescaledb": timescaledb} | {
        f"datalayer:{k}": v for k, v in top_level.items()
    }
    return parse_environment("test", config, source="Pulumi.test.yaml")


def error_of(timescaledb: dict[str, Any], **top_level: Any) -> str:
    with pytest.raises(SpecError) as raised:
        parse(timescaledb, **top_level)
    return str(raised.value)


@pytest.mark.parametrize("name", ["sandbox", "dev", "prod"])
def test_every_stack_file_is_a_valid_environment(name: str) -> None:
    assert load_environment(name).name == name


def test_known_environments_are_the_stack_files() -> None:
    assert {"sandbox", "dev", "prod"} <= set(known_environments())


def test_unknown_environment_is_named_with_the_known_ones() -> None:
    with pytest.raises(SpecError, match=r"unknown environment 'staging' \(known: .*prod.*\)"):
        load_environment("staging")


def test_keys_of_other_namespaces_belong_to_pulumi(timescaledb_config: dict[str, Any]) -> None:
    config = {"datalayer:timescaledb": timescaledb_config, "docker:host": "ssh://root@10.0.0.2"}
    assert parse_environment("test", config, source="x").timescaledb.version == 17


def test_defaults_are_secure(timescaledb_config: dict[str, Any]) -> None:
    spec = parse(timescaledb_config).timescaledb
    assert spec.listen_addresses == ["localhost"]
    assert spec.telemetry_level == "off"
    assert spec.allow_alter_system is False


@pytest.mark.parametrize(
    ("address", "fragment"),
    [
        ("10.0.0.300/24", "hba.0.address: '10.0.0.300/24'"),
        ("10.0.0.1/24", "hba.0.address: '10.0.0.1/24'"),  # host bits set
        ("10.0.0.0/33", "hba.0.address: '10.0.0.0/33'"),
        ("somewhere", "hba.0.address: 'somewhere'"),
    ],
)
def test_malformed_cidr_is_named(
    timescaledb_config: dict[str, Any], address: str, fragment: str
) -> None:
    timescaledb_config["hba"][0]["address"] = address
    message = error_of(timescaledb_config)
    assert fragment in message
    assert "not a valid address or CIDR" in message


def test_malformed_listen_address_is_named(timescaledb_config: dict[str, Any]) -> None:
    timescaledb_config["listen_addresses"] = ["10.0.0.1", "10.0.0"]
    assert "listen_addresses.1: '10.0.0'" in error_of(timescaledb_config)


def test_unknown_auth_method_is_named(timescaledb_config: dict[str, Any]) -> None:
    timescaledb_config["hba"][0]["method"] = "scram"
    assert "method 'scram' is not a PostgreSQL authentication method" in error_of(
        timescaledb_config
    )


@pytest.mark.parametrize("method", ["trust", "md5", "password", "ident"])
def test_weak_method_on_network_line_is_refused(
    timescaledb_config: dict[str, Any], method: str
) -> None:
    timescaledb_config["hba"][0]["method"] = method
    assert f"method '{method}' is not allowed on network lines" in error_of(timescaledb_config)


def test_trust_on_local_line_is_refused(timescaledb_config: dict[str, Any]) -> None:
    timescaledb_config["hba"][0] |= {"type": "local", "address": None, "method": "trust"}
    assert "method 'trust' is not allowed on local lines" in error_of(timescaledb_config)


def test_network_line_without_address_is_refused(timescaledb_config: dict[str, Any]) -> None:
    del timescaledb_config["hba"][0]["address"]
    assert "needs an address" in error_of(timescaledb_config)


@pytest.mark.parametrize("user", ["trading_owner", "app,trading_owner", "+trading_owner"])
def test_hba_rule_naming_the_owner_is_refused(
    timescaledb_config: dict[str, Any], user: str
) -> None:
    timescaledb_config["hba"][0]["user"] = user
    assert (
        f"hba[0].user '{user}' names the owner role 'trading_owner', which pg_hba.conf always "
        "rejects" in error_of(timescaledb_config)
    )


def test_hostssl_without_tls_is_refused(timescaledb_config: dict[str, Any]) -> None:
    timescaledb_config["hba"][0]["type"] = "hostssl"
    assert "hba[0] is 'hostssl' but tls.enabled is false" in error_of(timescaledb_config)


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("memory", "0", "resources.memory: '0' must be larger than zero"),
        ("memory", 0, "resources.memory: 0 must be larger than zero"),
        ("memory", "-4GB", "resources.memory: '-4GB'"),
        ("memory", "lots", "resources.memory: 'lots'"),
        ("memory", "8XB", "resources.memory: '8XB'"),
        ("cpus", 0, "resources.cpus: 0"),
        ("cpus", -2, "resources.cpus: -2"),
        ("cpus", "two", "resources.cpus: 'two'"),
    ],
)
def test_bad_resources_are_named(
    timescaledb_config: dict[str, Any], key: str, value: object, fragment: str
) -> None:
    timescaledb_config["resources"][key] = value
    assert fragment in error_of(timescaledb_config)


def test_shared_buffers_above_memory_is_refused(timescaledb_config: dict[str, Any]) -> None:
    timescaledb_config["settings"] = {"shared_buffers": "6GB"}
    message = error_of(timescaledb_config)
    assert "shared_buffers 6GB is not below the host's memory (resources.memory 4GB)" in message


def test_memory_override_without_unit_is_refused(timescaledb_config: dict[str, Any]) -> None:
    timescaledb_config["settings"] = {"work_mem": 65536}
    assert "settings.work_mem: 65536 needs a unit" in error_of(timescaledb_config)


@pytest.mark.parametrize(
    "reserved", [{"superuser_reserved_connections": 10}, {"reserved_connections": 7}]
)
def test_max_connections_not_above_reserved_is_refused(
    timescaledb_config: dict[str, Any], reserved: dict[str, int]
) -> None:
    timescaledb_config |= {"max_connections": 10, "superuser_reserved_connections": 3} | reserved
    assert "max_connections 10 must be above the reserved connections" in error_of(
        timescaledb_config
    )


@pytest.mark.parametrize(
    ("path", "typo", "shown"),
    [
        ((), "max_conections", "'x'"),
        (("resources",), "memroy", "'x'"),
        (("hba", 0), "adress", "'x'"),
        # A password written where the spec wants password_secret is never repeated.
        (("roles", 0), "password", "'***'"),
    ],
)
def test_unknown_key_anywhere_is_refused(
    timescaledb_config: dict[str, Any], path: tuple[str | int, ...], typo: str, shown: str
) -> None:
    target: Any = timescaledb_config
    for part in path:
        target = target[part]
    target[typo] = "x"
    dotted = ".".join(str(part) for part in ("timescaledb", *path, typo))
    assert f"datalayer:{dotted}: {shown} unknown key (a typo?)" in error_of(timescaledb_config)


def test_unknown_top_level_key_is_refused(timescaledb_config: dict[str, Any]) -> None:
    assert "datalayer:timescale: 'x' unknown key" in error_of(timescaledb_config, timescale="x")


def test_override_of_a_dedicated_setting_points_to_its_field(
    timescaledb_config: dict[str, Any],
) -> None:
    timescaledb_config["settings"] = {"port": 5433}
    assert "settings.port cannot be overridden here; set timescaledb.port" in error_of(
        timescaledb_config
    )


def test_unsupported_version_is_named(timescaledb_config: dict[str, Any]) -> None:
    timescaledb_config["version"] = 12
    assert "version 12 is not supported" in error_of(timescaledb_config)


def test_every_error_names_the_file(timescaledb_config: dict[str, Any]) -> None:
    timescaledb_config["port"] = 0
    assert error_of(timescaledb_config).startswith(
        "Pulumi.test.yaml: datalayer:timescaledb.port: 0"
    )


def test_one_line_per_problem(timescaledb_config: dict[str, Any]) -> None:
    timescaledb_config["port"] = 0
    timescaledb_config["cluster"] = "Main"
    assert len(error_of(timescaledb_config).splitlines()) == 2


def test_overrides_replace_tuned_values(timescaledb_config: dict[str, Any]) -> None:
    timescaledb_config["settings"] = {"work_mem": "64MB", "statement_timeout": "30s"}
    settings = parse(timescaledb_config).timescaledb.tuned_settings()
    assert settings["work_mem"] == "64MB"
    assert settings["statement_timeout"] == "30s"
    assert parse_memory(settings["shared_buffers"]) == parse_memory("1GB")


def test_stack_file_without_config_reports_missing_section(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.empty.yaml").write_text("config: {}\n")
    with pytest.raises(SpecError, match=r"datalayer:timescaledb: Field required"):
        load_environment("empty", tmp_path)
