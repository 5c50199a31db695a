"""Redis with Sentinel, rendered: the settings file, the seeds, both ACL files, the topology."""

import pytest
from pydantic import SecretStr

from datalayer.redis.changes import (
    AclChange,
    decide,
    masked_settings,
    parse_settings,
    with_secret_values,
)
from datalayer.redis.commands import COMMANDS
from datalayer.redis.config import acl_lines, render_redis_conf, settings_path
from datalayer.redis.layout import DEBIAN_LAYOUT, DEBIAN_SENTINEL_LAYOUT
from datalayer.redis.passwords import user_secrets
from datalayer.redis.sentinel import (
    SEED_MARKER,
    SentinelFiles,
    Topology,
    sentinel_acl_lines,
)
from datalayer.spec import EnvironmentSpec, load_environment
from datalayer.spec.redis import Redis

# COMMAND LIST of Debian 13's redis-sentinel (5:8.0.2-3+deb13u3) in sentinel mode, asked in a
# throwaway droplet: `redis-cli -p 26379 COMMAND LIST`. An ACL rule naming anything else makes
# Sentinel refuse the whole ACL file.
SENTINEL_COMMAND_LIST = frozenset(
    {
     "acl", "acl|cat", "acl|deluser", "acl|dryrun", "acl|genpass", "acl|getuser", "acl|help",
     "acl|list", "acl|load", "acl|log", "acl|save", "acl|setuser", "acl|users", "acl|whoami",
     "auth", "client", "client|caching", "client|getname", "client|getredir", "client|help",
     "client|id", "client|info", "client|kill", "client|list", "client|no-evict", "client|pause",
     "client|reply", "client|setinfo", "client|setname", "client|tracking", "client|trackinginfo",
     "client|unblock", "client|unpause", "command", "command|count", "command|docs",
     "command|getkeys", "command|getkeysandflags", "command|help", "command|info", "command|list",
     "hello", "info", "ping", "psubscribe", "publish", "punsubscribe", "role", "sentinel",
     "sentinel|ckquorum", "sentinel|config", "sentinel|debug", "sentinel|failover",
     "sentinel|flushconfig", "sentinel|get-master-addr-by-name", "sentinel|help",
     "sentinel|info-cache", "sentinel|is-master-down-by-addr", "sentinel|master",
     "sentinel|masters", "sentinel|monitor", "sentinel|myid", "sentinel|pending-scripts",
     "sentinel|remove", "sentinel|replicas", "sentinel|reset", "sentinel|sentinels", "sentinel|set",
     "sentinel|simulate-failure", "sentinel|slaves", "shutdown", "subscribe", "unsubscribe",
    }
)  # fmt: skip
# The @connection category's commands there (`ACL CAT connection` in sentinel mode lists these
# among them): the rule is accepted as a category, not by name.
CATEGORY_RULES = frozenset({"@connection"})


@pytest.fixture(scope="module")
def environment() -> EnvironmentSpec:
    return load_environment("sandbox-cluster")


@pytest.fixture(scope="module")
def spec(environment: EnvironmentSpec) -> Redis:
    assert environment.redis is not None and environment.redis.sentinel is not None
    return environment.redis


@pytest.fixture(scope="module")
def passwords(spec: Redis) -> dict[str, SecretStr]:
    return {user: SecretStr(f"{user}-Password-0123456789") for user in user_secrets(spec)}


@pytest.fixture(scope="module")
def files(
    environment: EnvironmentSpec, spec: Redis, passwords: dict[str, SecretStr]
) -> SentinelFiles:
    return SentinelFiles(spec, environment.name, passwords, DEBIAN_LAYOUT, DEBIAN_SENTINEL_LAYOUT)


def rules_of(lines: list[str], user: str) -> list[str]:
    (line,) = [line for line in lines if line.startswith(f"user {user} ")]
    return line.split()[2:]


def test_single_redis_keeps_its_settings_in_redis_conf() -> None:
    spec = load_environment("sandbox").redis
    assert spec is not None
    assert settings_path(spec) == DEBIAN_LAYOUT.config_file


def test_single_redis_conf_has_no_replication_settings() -> None:
    spec = load_environment("sandbox").redis
    assert spec is not None
    settings = parse_settings(render_redis_conf(spec, "sandbox"))
    assert not {"masteruser", "masterauth", "min-replicas-to-write", "replicaof"} & set(settings)


def test_settings_are_recorded_beside_redis_own_file(files: SentinelFiles) -> None:
    assert files.settings_path == DEBIAN_LAYOUT.settings_file
    assert files.settings.startswith(f"# {DEBIAN_LAYOUT.settings_file}: rendered from")


def test_replicas_log_in_as_the_replication_user(files: SentinelFiles) -> None:
    settings = parse_settings(files.settings)
    assert (settings["masteruser"], settings["masterauth"]) == (
        "replication",
        "replication-Password-0123456789",
    )


def test_settings_file_declares_min_replicas_to_write(files: SentinelFiles) -> None:
    settings = parse_settings(files.settings)
    assert (settings["min-replicas-to-write"], settings["min-replicas-max-lag"]) == ("1", "10")


def test_settings_file_names_no_master(files: SentinelFiles) -> None:
    assert "replicaof" not in parse_settings(files.settings)


def test_redis_seed_of_a_replica_replicates_the_master(files: SentinelFiles) -> None:
    assert parse_settings(files.redis_seed("172.30.57.2")) == {
        **parse_settings(files.settings),
        "replicaof": "172.30.57.2 6379",
    }


def test_redis_seed_of_the_master_holds_the_settings(files: SentinelFiles) -> None:
    assert parse_settings(files.redis_seed(None)) == parse_settings(files.settings)


def test_redis_seed_includes_no_file(files: SentinelFiles) -> None:
    # CONFIG REWRITE's copy after an include would win over it, and Redis reads the lines after
    # an include as runtime sets (datalayer/redis/sentinel.py says where in src/config.c).
    assert "include" not in parse_settings(files.redis_seed(None))


@pytest.mark.parametrize("seed", ["redis", "sentinel"])
def test_seed_opens_with_the_marker_line(files: SentinelFiles, seed: str) -> None:
    text = files.redis_seed(None) if seed == "redis" else files.sentinel_seed("172.30.57.2")
    assert text.splitlines()[0] == SEED_MARKER


def test_sentinel_seed_monitors_the_master_with_the_quorum(files: SentinelFiles) -> None:
    lines = files.sentinel_seed("172.30.57.2").splitlines()
    assert "sentinel monitor trading 172.30.57.2 6379 2" in lines


@pytest.mark.parametrize(
    "line",
    [
        "sentinel auth-user trading sentinel",
        'sentinel auth-pass trading "sentinel-Password-0123456789"',
        "sentinel sentinel-user sentinel",
        'sentinel sentinel-pass "sentinel-Password-0123456789"',
    ],
)
def test_sentinel_seed_logs_in_as_the_sentinel_user(files: SentinelFiles, line: str) -> None:
    assert line in files.sentinel_seed("172.30.57.2").splitlines()


@pytest.mark.parametrize(
    "line",
    [
        "port 26379",
        "aclfile /etc/redis/sentinel-users.acl",
        "sentinel down-after-milliseconds trading 3000",
        "sentinel failover-timeout trading 30000",
        "sentinel deny-scripts-reconfig yes",
    ],
)
def test_sentinel_seed_declares(files: SentinelFiles, line: str) -> None:
    assert line in files.sentinel_seed("172.30.57.2").splitlines()


@pytest.mark.parametrize("acl", ["redis", "sentinel"])
def test_default_user_is_off(files: SentinelFiles, acl: str) -> None:
    text = files.users_acl if acl == "redis" else files.sentinel_users_acl
    assert rules_of(text.splitlines(), "default")[0] == "off"


def test_replication_user_may_only_replicate(files: SentinelFiles) -> None:
    assert rules_of(files.users_acl.splitlines(), "replication")[-4:] == [
        "-@all",
        "+psync",
        "+replconf",
        "+ping",
    ]


def test_sentinel_user_may_use_only_the_hello_channel(files: SentinelFiles) -> None:
    rules = rules_of(files.users_acl.splitlines(), "sentinel")
    assert [rule for rule in rules if rule.startswith("&") or "channels" in rule] == [
        "resetchannels",
        "&__sentinel__:hello",
    ]


def test_sentinel_users_commands_are_redis_commands(files: SentinelFiles) -> None:
    rules = rules_of(files.users_acl.splitlines(), "sentinel")
    commands = [rule[1:] for rule in rules if rule.startswith("+")]
    assert [command for command in commands if command not in COMMANDS] == []


def test_admin_may_rewrite_redis_own_file_with_sentinel(
    spec: Redis, passwords: dict[str, SecretStr]
) -> None:
    (admin,) = [line for line in acl_lines(spec, passwords) if line.user == "admin"]
    assert "+config|rewrite" in admin.commands


def test_admin_may_not_rewrite_without_sentinel() -> None:
    spec = load_environment("sandbox").redis
    assert spec is not None
    passwords = {user: SecretStr(f"{user}-Password-0123456789") for user in user_secrets(spec)}
    (admin,) = [line for line in acl_lines(spec, passwords) if line.user == "admin"]
    assert "+config|rewrite" not in admin.commands


def test_sentinel_acl_names_only_sentinels_commands(
    spec: Redis, passwords: dict[str, SecretStr]
) -> None:
    named = {
        rule[1:]
        for line in sentinel_acl_lines(spec, passwords)
        for rule in line.commands
        if rule[1:] not in CATEGORY_RULES and not rule.startswith("-")
    }
    assert named - SENTINEL_COMMAND_LIST == set()


@pytest.mark.parametrize("user", ["app", "reader"])
def test_application_users_may_only_discover_on_sentinel(
    spec: Redis, passwords: dict[str, SecretStr], user: str
) -> None:
    (line,) = [line for line in sentinel_acl_lines(spec, passwords) if line.user == user]
    assert {rule.split("|")[0] for rule in line.commands} == {"+@connection", "+ping", "+sentinel"}
    assert "+sentinel|set" not in line.commands


def test_sentinel_settings_are_the_spec(files: SentinelFiles) -> None:
    assert dict(files.sentinel_settings) == {
        "quorum": "2",
        "down-after-milliseconds": "3000",
        "failover-timeout": "30000",
    }


def test_min_replicas_to_write_changes_at_runtime(files: SentinelFiles) -> None:
    wanted = files.settings.replace("min-replicas-to-write 1", "min-replicas-to-write 2")
    decision = decide(
        files.settings, wanted, AclChange(False, False), running=True, admin_user="admin"
    )
    assert (decision.restart_reasons, decision.runtime_settings) == (
        (),
        (("min-replicas-to-write", "2"),),
    )


def test_changed_masterauth_changes_at_runtime(files: SentinelFiles) -> None:
    wanted = files.settings.replace("replication-Password-0123456789", "Other-password-0123456789")
    decision = decide(
        files.settings, wanted, AclChange(False, False), running=True, admin_user="admin"
    )
    assert (decision.restart_reasons, decision.runtime_settings) == (
        (),
        (("masterauth", "Other-password-0123456789"),),
    )


def test_changed_masterauth_is_named_not_shown(files: SentinelFiles) -> None:
    wanted = files.settings.replace("replication-Password-0123456789", "Other-password-0123456789")
    decision = decide(
        files.settings, wanted, AclChange(False, False), running=True, admin_user="admin"
    )
    assert decision.describe() == "CONFIG SET masterauth"


def test_first_host_is_the_bootstrap_master() -> None:
    topology = Topology(("172.30.57.4", "172.30.57.2", "172.30.57.3"), "172.30.57.3")
    assert topology.bootstrap_master == "172.30.57.4"


def test_peers_are_the_other_hosts() -> None:
    topology = Topology(("172.30.57.4", "172.30.57.2", "172.30.57.3"), "172.30.57.2")
    assert topology.peers == ("172.30.57.4", "172.30.57.3")


def test_secret_setting_is_compared_masked(files: SentinelFiles) -> None:
    masked = parse_settings(masked_settings(files.settings))
    assert (masked["masterauth"], masked["masteruser"]) == ("same", "replication")


def test_decision_on_masked_texts_sets_the_real_value(files: SentinelFiles) -> None:
    wanted = files.settings.replace("replication-Password-0123456789", "Other-password-0123456789")
    on_the_host = masked_settings(files.settings).replace("masterauth same", "masterauth changed")
    decision = decide(
        on_the_host, masked_settings(wanted), AclChange(False, False), running=True,
        admin_user="admin",
    )  # fmt: skip
    assert with_secret_values(decision, wanted).runtime_settings == (
        ("masterauth", "Other-password-0123456789"),
    )
