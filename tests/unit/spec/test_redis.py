"""The Redis section of the spec: defaults, and every bad value stops with one line naming it."""

import copy
from typing import Any

import pytest

from datalayer.redis.commands import ACL_CATEGORIES, COMMANDS
from datalayer.redis.passwords import redis_passwords
from datalayer.secrets import SecretError
from datalayer.spec import SpecError, load_environment, parse_environment
from datalayer.spec.redis import ALWAYS_DENIED, Redis
from tests.unit.conftest import minimal_timescaledb

MINIMAL_REDIS: dict[str, Any] = {
    "maxmemory": "256mb",
    "users": {
        "app": {"password_secret": "REDIS_APP"},
        "reader": {"password_secret": "REDIS_READER"},
    },
    "admin_password_secret": "REDIS_ADMIN",
}
PASSWORDS = {"REDIS_APP": "a" * 20, "REDIS_READER": "r" * 20, "REDIS_ADMIN": "s" * 20}


@pytest.fixture
def redis_config() -> dict[str, Any]:
    """A fresh, valid ``datalayer:redis`` value to change one key of."""
    return copy.deepcopy(MINIMAL_REDIS)


def parse(redis: dict[str, Any]) -> Redis:
    config = {"datalayer:timescaledb": minimal_timescaledb(), "datalayer:redis": redis}
    spec = parse_environment("test", config, source="Pulumi.test.yaml").redis
    assert spec is not None
    return spec


def error_of(redis: dict[str, Any]) -> str:
    with pytest.raises(SpecError) as raised:
        parse(redis)
    return str(raised.value)


@pytest.mark.parametrize("name", ["sandbox", "dev", "prod"])
def test_every_stack_file_has_a_valid_redis_section(name: str) -> None:
    assert load_environment(name).redis is not None


def test_redis_section_is_optional() -> None:
    config = {"datalayer:timescaledb": minimal_timescaledb()}
    assert parse_environment("test", config, source="x").redis is None


def test_defaults_are_secure(redis_config: dict[str, Any]) -> None:
    spec = parse(redis_config)
    assert spec.bind == ["127.0.0.1"]
    assert spec.port == 6379
    assert spec.protected_mode is True
    assert spec.tls.enabled is False


def test_persistence_defaults_to_aof_everysec_and_snapshots(redis_config: dict[str, Any]) -> None:
    persistence = parse(redis_config).persistence
    assert (persistence.appendonly, persistence.appendfsync) == (True, "everysec")
    assert [(rule.seconds, rule.changes) for rule in persistence.save] == [
        (3600, 1), (300, 100), (60, 10000),
    ]  # fmt: skip


def test_users_default_to_the_platform_key_patterns(redis_config: dict[str, Any]) -> None:
    users = parse(redis_config).users
    expected = ["config:*", "exchanges:*", "session:*", "price:*", "system:*"]
    assert users.app.key_patterns == expected
    assert users.reader.key_patterns == expected


def test_reader_is_granted_no_write_by_default(redis_config: dict[str, Any]) -> None:
    assert "@write" not in parse(redis_config).users.reader.allowed


def test_app_is_granted_reads_and_writes_by_default(redis_config: dict[str, Any]) -> None:
    assert {"@read", "@write"} <= set(parse(redis_config).users.app.allowed)


@pytest.mark.parametrize(
    ("size", "num_bytes"),
    [("256mb", 256 * 1024**2), ("256m", 256 * 1000**2), ("1gb", 1024**3), ("100kb", 102400),
     ("1GB", 1024**3), ("1048576b", 1048576)],
)  # fmt: skip
def test_maxmemory_takes_redis_units(
    redis_config: dict[str, Any], size: Any, num_bytes: int
) -> None:
    redis_config["maxmemory"] = size
    assert parse(redis_config).maxmemory == num_bytes


@pytest.mark.parametrize("size", ["lots", "256 MiB", "1.5gb", "256tb", "-1mb", True])
def test_maxmemory_that_is_not_a_size_is_named(redis_config: dict[str, Any], size: Any) -> None:
    redis_config["maxmemory"] = size
    assert f"datalayer:redis.maxmemory: {size!r}" in error_of(redis_config)


def test_maxmemory_zero_is_refused(redis_config: dict[str, Any]) -> None:
    redis_config["maxmemory"] = "0mb"
    assert "datalayer:redis.maxmemory: '0mb' must be larger than zero" in error_of(redis_config)


@pytest.mark.parametrize("size", [256, "256"])
def test_maxmemory_without_unit_is_refused(redis_config: dict[str, Any], size: Any) -> None:
    # redis.conf reads a bare 256 as 256 bytes: almost certainly not what was meant.
    redis_config["maxmemory"] = size
    assert f"datalayer:redis.maxmemory: {size!r} needs a unit, e.g. '256mb'" in error_of(
        redis_config
    )


def test_maxmemory_is_written_back_in_redis_units(redis_config: dict[str, Any]) -> None:
    assert parse(redis_config).model_dump()["maxmemory"] == "256mb"


def test_unknown_eviction_policy_is_named(redis_config: dict[str, Any]) -> None:
    redis_config["maxmemory_policy"] = "allkeys-lfru"
    message = error_of(redis_config)
    assert "datalayer:redis.maxmemory_policy: 'allkeys-lfru'" in message
    assert "volatile-ttl" in message


@pytest.mark.parametrize(
    "policy",
    ["noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru",
     "volatile-lfu", "volatile-random", "volatile-ttl"],
)  # fmt: skip
def test_every_redis_eviction_policy_is_accepted(redis_config: dict[str, Any], policy: str) -> None:
    redis_config["maxmemory_policy"] = policy
    assert parse(redis_config).maxmemory_policy == policy


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [("", "is empty"), ("price: *", "printable ASCII without spaces"),
     ('price:"x"', "without spaces or quotes"), ("price:[a-z", "without its closing"),
     ("price:[]", "empty '[]' class"), ("price:\\", "lone '\\'"), ("prïce:*", "printable ASCII")],
)  # fmt: skip
def test_bad_key_pattern_is_named(redis_config: dict[str, Any], pattern: str, reason: str) -> None:
    redis_config["users"]["app"]["key_patterns"] = ["config:*", pattern]
    message = error_of(redis_config)
    assert f"datalayer:redis.users.app.key_patterns.1: {pattern!r}" in message
    assert reason in message


@pytest.mark.parametrize("pattern", ["price:*", "session:?", "config:[abc]*", "x:[^a-z]", "a\\*b"])
def test_redis_globs_are_accepted(redis_config: dict[str, Any], pattern: str) -> None:
    redis_config["users"]["reader"]["key_patterns"] = [pattern]
    assert parse(redis_config).users.reader.key_patterns == [pattern]


def test_empty_key_pattern_list_is_refused(redis_config: dict[str, Any]) -> None:
    redis_config["users"]["app"]["key_patterns"] = []
    assert "datalayer:redis.users.app.key_patterns: []" in error_of(redis_config)


@pytest.mark.parametrize(
    ("rule", "reason"),
    [("gett", "is not a Redis command"), ("@reads", "is not a Redis ACL category"),
     ("config|gett", "is not a Redis command"), ("", "is not a Redis command")],
)  # fmt: skip
def test_unknown_command_is_named(redis_config: dict[str, Any], rule: str, reason: str) -> None:
    redis_config["users"]["app"]["allowed"] = ["@read", rule]
    message = error_of(redis_config)
    assert f"datalayer:redis.users.app.allowed.1: {rule!r} {reason}" in message


@pytest.mark.parametrize("rule", ["GET", "client|setname", "@all", "@Read", "vadd"])
def test_known_commands_are_accepted_in_any_case(redis_config: dict[str, Any], rule: str) -> None:
    redis_config["users"]["app"]["allowed"] = [rule]
    assert parse(redis_config).users.app.allowed == [rule.lower()]


@pytest.mark.parametrize(
    "kept", ["@admin", "@dangerous", "flushall", "flushdb", "config", "debug", "shutdown", "keys"]
)
def test_dangerous_commands_cannot_be_dropped_from_denied(
    redis_config: dict[str, Any], kept: str
) -> None:
    denied = ["@admin", "@dangerous", "flushall", "flushdb", "config", "debug", "shutdown", "keys"]
    redis_config["users"]["app"]["denied"] = [rule for rule in denied if rule != kept]
    assert f"datalayer:redis.users.app: denied must include {kept}" in error_of(redis_config)


@pytest.mark.parametrize(
    ("rule", "writes"),
    [
        # command_table.json (Redis 8.0.2's COMMAND): the first write commands each rule grants.
        ("@write", "append, bitfield, bitop, blmove, ..."),
        ("@all", "append, bitfield, bitop, blmove, ..."),
        ("set", "set"),
        ("del", "del"),
        ("xgroup", "xgroup|create, xgroup|createconsumer, xgroup|delconsumer, xgroup|destroy, ..."),
        ("xgroup|create", "xgroup|create"),
        ("@string", "append, decr, decrby, getdel, ..."),
        ("@keyspace", "copy, del, expire, expireat, ..."),
        ("@fast", "append, bzpopmax, bzpopmin, decr, ..."),
        ("@scripting", "function|delete, function|flush, function|load, function|restore"),
        ("vadd", "vadd"),
    ],
)
def test_reader_cannot_be_granted_a_write_command(
    redis_config: dict[str, Any], rule: str, writes: str
) -> None:
    redis_config["users"]["reader"]["allowed"] = ["@read", rule]
    assert (
        f"datalayer:redis.users.reader: allowed: {rule!r} would let the reader write ({writes}: "
        "commands Redis 8.0.2 flags write)"
    ) in error_of(redis_config)


@pytest.mark.parametrize("rule", ["get", "client|setname", "@pubsub", "eval_ro", "sort_ro"])
def test_reader_can_be_granted_a_command_that_does_not_write(
    redis_config: dict[str, Any], rule: str
) -> None:
    redis_config["users"]["reader"]["allowed"] = ["@read", rule]
    assert rule in parse(redis_config).users.reader.allowed


def test_reader_write_taken_away_again_is_not_granted(redis_config: dict[str, Any]) -> None:
    # ACL rules apply in order: +@keyspace, then -@write removes every write it granted.
    reader = redis_config["users"]["reader"]
    reader["allowed"] = ["@read", "@keyspace"]
    reader["denied"] = [*ALWAYS_DENIED, "@write"]
    assert parse(redis_config).users.reader.denied[-1] == "@write"


def test_command_table_names_every_command_of_the_acl_rules() -> None:
    # command_table.json and COMMAND LIST (commands.py's former list) agree: 394 names.
    assert len(COMMANDS) == 394
    assert {"get", "set", "client|kill", "vadd"} <= COMMANDS


def test_user_without_secret_is_named(redis_config: dict[str, Any]) -> None:
    del redis_config["users"]["reader"]["password_secret"]
    assert "datalayer:redis.users.reader.password_secret: Field required" in error_of(redis_config)


def test_shared_password_secret_is_refused(redis_config: dict[str, Any]) -> None:
    redis_config["users"]["reader"]["password_secret"] = "REDIS_APP"
    assert "every user needs its own password secret" in error_of(redis_config)


@pytest.mark.parametrize("address", ["localhost", "10.0.0", "*", "10.110.0.20/32"])
def test_bind_address_must_be_an_ip(redis_config: dict[str, Any], address: str) -> None:
    redis_config["bind"] = ["127.0.0.1", address]
    assert f"datalayer:redis.bind.1: {address!r} is not an IP address" in error_of(redis_config)


def test_tls_without_files_is_refused(redis_config: dict[str, Any]) -> None:
    redis_config["tls"] = {"enabled": True, "cert_file": "/etc/redis/tls/server.crt"}
    assert "tls.key_file, tls.ca_file not set" in error_of(redis_config)


def test_tls_file_must_be_absolute(redis_config: dict[str, Any]) -> None:
    redis_config["tls"] = {"enabled": True, "cert_file": "server.crt",
                           "key_file": "/k", "ca_file": "/c"}  # fmt: skip
    assert "datalayer:redis.tls.cert_file: 'server.crt' must be an absolute path" in error_of(
        redis_config
    )


@pytest.mark.parametrize(
    ("where", "key", "shown"),
    # What a *_secret key holds is never repeated: it may be a pasted password.
    [
        ((), "maxmemroy", "'x'"),
        (("users", "app"), "pasword_secret", "'***'"),
        (("tls",), "on", "'x'"),
    ],
)
def test_unknown_key_is_named(
    redis_config: dict[str, Any], where: tuple[str, ...], key: str, shown: str
) -> None:
    section = redis_config
    for part in where:
        section = section.setdefault(part, {})
    section[key] = "x"
    dotted = ".".join(("redis", *where, key))
    assert f"datalayer:{dotted}: {shown} unknown key (a typo?)" in error_of(redis_config)


def test_passwords_are_read_for_every_user(redis_config: dict[str, Any]) -> None:
    passwords = redis_passwords(parse(redis_config), PASSWORDS)
    assert {user: p.get_secret_value() for user, p in passwords.items()} == {
        "app": "a" * 20, "reader": "r" * 20, "admin": "s" * 20,
    }  # fmt: skip


def test_missing_user_secret_is_named(redis_config: dict[str, Any]) -> None:
    environ = {k: v for k, v in PASSWORDS.items() if k != "REDIS_READER"}
    with pytest.raises(SecretError, match="secret REDIS_READER is not set"):
        redis_passwords(parse(redis_config), environ)


def test_missing_admin_secret_is_named(redis_config: dict[str, Any]) -> None:
    environ = {k: v for k, v in PASSWORDS.items() if k != "REDIS_ADMIN"}
    with pytest.raises(SecretError, match="secret REDIS_ADMIN is not set"):
        redis_passwords(parse(redis_config), environ)


def test_command_data_holds_the_commands_the_spec_names() -> None:
    assert {"get", "set", "flushall", "acl|load", "config|set"} <= COMMANDS
    assert {"read", "write", "admin", "dangerous", "connection"} <= ACL_CATEGORIES


@pytest.mark.parametrize(
    ("key", "value"),
    [("port", True), ("port", "6379"), ("protected_mode", "no"), ("protected_mode", 0)],
)
def test_value_of_another_type_is_not_coerced(
    redis_config: dict[str, Any], key: str, value: Any
) -> None:
    redis_config[key] = value
    assert f"datalayer:redis.{key}: {value!r} Input should be a valid" in error_of(redis_config)
