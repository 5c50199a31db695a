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
        ("memory", "0GB", "resources.memory: '0GB' must be larger than zero"),
        ("memory", 4294967296, "resources.memory: 4294967296 needs a unit, e.g. '4GB'"),
        ("memory", "4096", "resources.memory: '4096' needs a unit, e.g. '4GB'"),
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
    timescaledb_config["debian_cluster"] = "Main"
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


# --- Settings judged against PostgreSQL's own catalogue (datalayer/timescaledb/settings_catalogue)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        pytest.param(
            {"settings": {"wrk_mem": "64MB"}},
            "timescaledb.settings: settings.wrk_mem: '64MB' is not a setting PostgreSQL 17 knows "
            "(did you mean work_mem?)",
            id="unknown-name-with-suggestion",
        ),
        pytest.param(
            {"settings": {"timescaledb.max_background_worker": 8}},
            "settings.timescaledb.max_background_worker: 8 is not a setting PostgreSQL 17 knows",
            id="unknown-extension-name",
        ),
        pytest.param(
            {"settings": {"shared_buffers": "16kB"}},
            "settings.shared_buffers: '16kB' is outside shared_buffers's range (128kB ..",
            id="shared-buffers-below-minimum",
        ),
        pytest.param(
            {"settings": {"effective_io_concurrency": 1001}},
            "settings.effective_io_concurrency: 1001 is outside effective_io_concurrency's range "
            "(0 .. 1000)",
            id="integer-above-maximum",
        ),
        pytest.param(
            {"settings": {"work_mem": "64 MiB"}},
            "settings.work_mem: '64 MiB' has an unknown unit 'MiB'",
            id="unit-postgresql-does-not-read",
        ),
        pytest.param(
            {"settings": {"statement_timeout": "30sec"}},
            "settings.statement_timeout: '30sec' has an unknown unit 'sec'",
            id="time-unit-postgresql-does-not-read",
        ),
        pytest.param(
            {"settings": {"wal_level": "banana"}},
            "settings.wal_level: 'banana' is not one of minimal, replica, logical",
            id="enum-value",
        ),
        pytest.param(
            {"settings": {"jit": "maybe"}},
            "settings.jit: 'maybe' is not a boolean",
            id="boolean-value",
        ),
        pytest.param(
            {"settings": {"max_parallel_workers": True}},
            "settings.max_parallel_workers: True is a boolean, but max_parallel_workers is of "
            "type integer",
            id="boolean-for-integer",
        ),
        pytest.param(
            {"settings": {"server_version_num": 170012}},
            "settings.server_version_num: 170012 is fixed when PostgreSQL is built",
            id="read-only-setting",
        ),
        pytest.param(
            {"max_connections": 10000000},
            "datalayer:timescaledb.max_connections: 10000000 is outside max_connections's range "
            "(1 .. 262143)",
            id="max-connections-above-maximum",
        ),
        pytest.param(
            {"logging": {"log_min_duration_statement": "banana"}},
            "timescaledb.logging: log_min_duration_statement: 'banana' is not an integer",
            id="log-min-duration-statement-not-a-duration",
        ),
    ],
)
def test_setting_postgresql_would_refuse_is_refused(
    timescaledb_config: dict[str, Any], change: dict[str, Any], fragment: str
) -> None:
    timescaledb_config |= change
    message = error_of(timescaledb_config)
    assert fragment in message
    assert len(message.splitlines()) == 1


@pytest.mark.parametrize(
    ("version", "settings"),
    [
        pytest.param(15, {"work_mem": "64MB"}, id="15"),
        pytest.param(16, {"work_mem": "64MB"}, id="16"),
        pytest.param(18, {"io_method": "worker"}, id="18-setting-new-in-18"),
    ],
)
def test_settings_are_judged_by_their_own_version(
    timescaledb_config: dict[str, Any], version: int, settings: dict[str, Any]
) -> None:
    timescaledb_config |= {"version": version, "settings": settings}
    assert parse(timescaledb_config).timescaledb.settings == settings


def test_setting_of_a_later_version_is_refused(timescaledb_config: dict[str, Any]) -> None:
    timescaledb_config["settings"] = {"io_method": "worker"}
    assert "settings.io_method: 'worker' is not a setting PostgreSQL 17 knows" in error_of(
        timescaledb_config
    )


@pytest.mark.parametrize(
    ("settings", "fragment"),
    [
        pytest.param(
            {"session_replication_role": "replica"},
            "datalayer:timescaledb.roles.0.settings: "
            "settings.session_replication_role: 'replica' needs a superuser to "
            "set (session_replication_role's context is superuser)",
            id="superuser-setting",
        ),
        pytest.param(
            {"statment_timeout": "30s"},
            "datalayer:timescaledb.roles.0.settings: "
            "settings.statment_timeout: '30s' is not a setting PostgreSQL 17 "
            "knows (did you mean statement_timeout?)",
            id="unknown-name",
        ),
        pytest.param(
            {"statement_timeout": "thirty"},
            "datalayer:timescaledb.roles.0.settings: "
            "settings.statement_timeout: 'thirty' is not an integer",
            id="bad-value",
        ),
        pytest.param(
            {"max_connections": 10},
            "datalayer:timescaledb.roles.0.settings: "
            "settings.max_connections: 10 needs a superuser to set "
            "(max_connections's context is postmaster)",
            id="server-setting",
        ),
    ],
)
def test_role_setting_a_login_role_cannot_carry_is_refused(
    timescaledb_config: dict[str, Any], settings: dict[str, Any], fragment: str
) -> None:
    timescaledb_config["roles"][0]["settings"] = settings
    assert fragment in error_of(timescaledb_config)


def test_role_setting_of_context_user_is_accepted(timescaledb_config: dict[str, Any]) -> None:
    timescaledb_config["roles"][0]["settings"] = {
        "statement_timeout": "30s",
        "default_transaction_read_only": True,
    }
    spec = parse(timescaledb_config).timescaledb
    assert spec.roles[0].settings["statement_timeout"] == "30s"


# --- Strict types: YAML's booleans, floats and quoted numbers are not coerced into other types


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        pytest.param(
            {"port": True}, "timescaledb.port: True Input should be a valid integer", id="port-true"
        ),
        pytest.param(
            {"port": "5432"},
            "timescaledb.port: '5432' Input should be a valid integer",
            id="port-quoted",
        ),
        pytest.param(
            {"port": 5432.0},
            "timescaledb.port: 5432.0 Input should be a valid integer",
            id="port-float",
        ),
        pytest.param(
            {"version": True},
            "timescaledb.version: True Input should be a valid integer",
            id="version-true",
        ),
        pytest.param(
            {"allow_alter_system": 1},
            "timescaledb.allow_alter_system: 1 Input should be a valid boolean",
            id="bool-one",
        ),
        pytest.param(
            {"allow_alter_system": "off"},
            "timescaledb.allow_alter_system: 'off' Input should be a valid boolean",
            id="bool-quoted",
        ),
        pytest.param(
            {"resources": {"memory": "4GB", "cpus": True}},
            "resources.cpus: True Input should be a valid integer",
            id="cpus-true",
        ),
    ],
)
def test_value_of_another_type_is_not_coerced(
    timescaledb_config: dict[str, Any], change: dict[str, Any], fragment: str
) -> None:
    timescaledb_config |= change
    assert fragment in error_of(timescaledb_config)


# --- Names: PostgreSQL's rules and reserved names; hba rules name what the spec declares


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        # CREATE ROLE on PostgreSQL 17.12: 'role name "pg_x" is reserved', '... "public" is
        # reserved', '... "none" is reserved', 'CURRENT_USER cannot be used as a role name here',
        # 'syntax error at or near "user"'.
        ("pg_x", "starts with pg_"),
        ("public", "PostgreSQL reserves it"),
        ("none", "PostgreSQL reserves it"),
        ("current_user", "is a key word PostgreSQL reserves"),
        ("session_user", "is a key word PostgreSQL reserves"),
        ("current_role", "is a key word PostgreSQL reserves"),
        ("user", "is a key word PostgreSQL reserves"),
        ("postgres", "it is the superuser"),
        ("a" * 64, "at most 63 characters"),
    ],
)
def test_login_role_name_postgresql_reserves_is_refused(
    timescaledb_config: dict[str, Any], name: str, reason: str
) -> None:
    timescaledb_config["roles"][0]["name"] = name
    timescaledb_config["hba"][0]["user"] = "all"
    message = error_of(timescaledb_config)
    assert f"datalayer:timescaledb.roles.0.name: {name!r} " in message
    assert reason in message


@pytest.mark.parametrize(
    ("owner", "reason"),
    [("pg_monitor", "starts with pg_"), ("pg_read_all_data", "starts with pg_"),
     ("postgres", "it is the superuser"), ("public", "PostgreSQL reserves it")],
)  # fmt: skip
def test_owner_name_postgresql_reserves_is_refused(
    timescaledb_config: dict[str, Any], owner: str, reason: str
) -> None:
    timescaledb_config["owner"] = owner
    message = error_of(timescaledb_config)
    assert f"datalayer:timescaledb.owner: {owner!r} " in message
    assert reason in message


@pytest.mark.parametrize(
    ("database", "reason"),
    [("template0", "pristine template"), ("template1", "template every new database"),
     ("postgres", "maintenance database"), ("replication", "pg_hba.conf key word"),
     ("all", "key word PostgreSQL reserves"), ("select", "key word PostgreSQL reserves")],
)  # fmt: skip
def test_database_name_of_the_cluster_or_a_key_word_is_refused(
    timescaledb_config: dict[str, Any], database: str, reason: str
) -> None:
    timescaledb_config["database"] = database
    message = error_of(timescaledb_config)
    assert f"datalayer:timescaledb.database: {database!r} " in message
    assert reason in message


@pytest.mark.parametrize("user", ["bob", "app,bob", "+analysts"])
def test_hba_rule_for_an_undeclared_role_is_refused(
    timescaledb_config: dict[str, Any], user: str
) -> None:
    timescaledb_config["hba"][0]["user"] = user
    undeclared = user.split(",")[-1]
    assert f"hba[0].user {undeclared!r} is not a declared role (roles: app;" in error_of(
        timescaledb_config
    )


@pytest.mark.parametrize("database", ["tradng", "trading,tradng", "template1"])
def test_hba_rule_for_another_database_is_refused(
    timescaledb_config: dict[str, Any], database: str
) -> None:
    timescaledb_config["hba"][0]["database"] = database
    undeclared = database.split(",")[-1]
    assert f"hba[0].database {undeclared!r} is not the spec's database 'trading'" in error_of(
        timescaledb_config
    )


def test_hba_rule_for_the_maintenance_database_is_accepted(
    timescaledb_config: dict[str, Any],
) -> None:
    # The hooks over a DSN connect to postgres first (datalayer.onhost.hooks.runner).
    timescaledb_config["hba"][0] |= {"database": "trading,postgres", "user": "postgres"}
    assert parse(timescaledb_config).timescaledb.hba[0].database == "trading,postgres"


@pytest.mark.parametrize(
    ("database", "user"),
    [("all", "all"), ("trading", "+app"), ("sameuser", "app"), ("trading", "postgres")],
)
def test_hba_rule_naming_declared_names_or_key_words_is_accepted(
    timescaledb_config: dict[str, Any], database: str, user: str
) -> None:
    timescaledb_config["hba"][0] |= {"database": database, "user": user}
    assert parse(timescaledb_config).timescaledb.hba[0].user == user


# --- Strings that reach postgresql.conf and pg_hba.conf: no injection past the file's grammar


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        pytest.param(
            {"timezone": "UTC'\nssl = off\n#"},
            'datalayer:timescaledb.timezone: "UTC\'\\nssl = off\\n#" is not a time zone',
            id="timezone-injection",
        ),
        pytest.param(
            {"timezone": "Mars/Olympus_Mons"},
            "datalayer:timescaledb.timezone: 'Mars/Olympus_Mons' is not a time zone",
            id="timezone-unknown",
        ),
        pytest.param(
            {"logging": {"log_timezone": "Europe/Berln"}},
            "datalayer:timescaledb.logging.log_timezone: 'Europe/Berln' is not a time zone",
            id="log-timezone-unknown",
        ),
        pytest.param(
            {"logging": {"log_line_prefix": "%m\nssl = off\n"}},
            "log_line_prefix: '%m\\nssl = off\\n' holds a line break or control character",
            id="log-line-prefix-injection",
        ),
        pytest.param(
            {"settings": {"application_name": "x'\nssl = off"}},
            'settings.application_name: "x\'\\nssl = off" holds a line break',
            id="string-setting-injection",
        ),
        pytest.param(
            {"tls": {"enabled": True, "cert_file": "/etc/a.crt'\nssl = off\n#", "key_file": "/k"}},
            'datalayer:timescaledb.tls.cert_file: "/etc/a.crt\'\\nssl = off\\n#" cannot hold '
            "line breaks",
            id="tls-path-injection",
        ),
    ],
)
def test_string_that_would_break_out_of_its_line_is_refused(
    timescaledb_config: dict[str, Any], change: dict[str, Any], fragment: str
) -> None:
    timescaledb_config |= change
    message = error_of(timescaledb_config)
    assert fragment in message
    assert len(message.splitlines()) == 1


def test_hba_comment_with_a_control_character_is_refused(
    timescaledb_config: dict[str, Any],
) -> None:
    timescaledb_config["hba"][0]["comment"] = "Application\x0bservers."
    assert "hba.0.comment: 'Application\\x0bservers.' cannot hold line breaks" in error_of(
        timescaledb_config
    )


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "america/new_york"])
def test_time_zone_of_the_tz_database_is_accepted(
    timescaledb_config: dict[str, Any], zone: str
) -> None:
    timescaledb_config["timezone"] = zone
    assert parse(timescaledb_config).timescaledb.timezone == zone
