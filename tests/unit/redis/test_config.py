"""redis.conf and users.acl as rendered from the spec: whole files, hashes only, nothing open."""

import hashlib
from typing import Any

import pytest
from pydantic import SecretStr

from datalayer.redis.changes import parse_settings, user_rules
from datalayer.redis.commands import COMMANDS
from datalayer.redis.config import ADMIN_COMMANDS, render_redis_conf, render_users_acl
from datalayer.spec.redis import Redis
from tests.unit.spec.test_redis import MINIMAL_REDIS, parse

PASSWORDS = {
    "app": SecretStr("app-password-0123456789"),
    "reader": SecretStr("reader-password-0123456789"),
    "admin": SecretStr("admin-password-0123456789"),
}


def spec(**changes: Any) -> Redis:
    return parse(MINIMAL_REDIS | changes)


def settings(redis: Redis) -> dict[str, str]:
    return parse_settings(render_redis_conf(redis, "test"))


def acl(redis: Redis) -> str:
    return render_users_acl(redis, PASSWORDS)


def test_redis_conf_opens_with_the_managed_file_header() -> None:
    first, second = render_redis_conf(spec(), "test").splitlines()[:2]
    assert first.startswith("# /etc/redis/redis.conf: rendered from templates/redis/redis.conf.j2")
    assert "edits here are overwritten" in second


def test_redis_conf_uses_debians_layout() -> None:
    conf = settings(spec())
    assert conf["dir"] == "/var/lib/redis"
    assert conf["aclfile"] == "/etc/redis/users.acl"
    assert conf["pidfile"] == "/run/redis/redis-server.pid"
    assert conf["logfile"] == "/var/log/redis/redis-server.log"
    assert (conf["supervised"], conf["daemonize"]) == ("systemd", "no")


def test_redis_conf_writes_network_settings() -> None:
    conf = settings(spec(bind=["127.0.0.1", "10.110.0.20"], port=6380))
    assert (conf["bind"], conf["port"], conf["protected-mode"]) == (
        "127.0.0.1 10.110.0.20", "6380", "yes",
    )  # fmt: skip
    assert "tls-port" not in conf


def test_tls_moves_the_port_to_tls_port_and_closes_the_plain_one() -> None:
    tls = {"enabled": True, "cert_file": "/c.crt", "key_file": "/k.key", "ca_file": "/ca.crt"}
    conf = settings(spec(tls=tls))
    assert (conf["port"], conf["tls-port"]) == ("0", "6379")
    assert (conf["tls-cert-file"], conf["tls-key-file"]) == ("/c.crt", "/k.key")
    assert conf["tls-ca-cert-file"] == "/ca.crt"
    assert conf["tls-auth-clients"] == "no"


def test_maxmemory_is_written_in_bytes() -> None:
    conf = settings(spec(maxmemory="256mb", maxmemory_policy="allkeys-lfu"))
    assert (conf["maxmemory"], conf["maxmemory-policy"]) == ("268435456", "allkeys-lfu")


def test_persistence_is_written() -> None:
    conf = settings(spec())
    assert (conf["appendonly"], conf["appendfsync"]) == ("yes", "everysec")
    assert conf["save"] == "3600 1 300 100 60 10000"


def test_no_snapshot_rules_writes_an_empty_save() -> None:
    assert 'save ""' in render_redis_conf(spec(persistence={"save": []}), "test").splitlines()


def test_acl_file_holds_only_user_lines() -> None:
    # Redis refuses a whole ACL file over one line that is not 'user ...', comments included.
    lines = acl(spec()).splitlines()
    assert lines
    assert all(line.startswith("user ") for line in lines)


def test_acl_file_declares_each_user_once() -> None:
    users = [line.split()[1] for line in acl(spec()).splitlines()]
    assert users == ["default", "admin", "app", "reader"]


def test_default_user_is_off_with_nothing_allowed() -> None:
    assert user_rules(acl(spec()), "default") == "off resetpass resetkeys resetchannels -@all"


@pytest.mark.parametrize("user", ["app", "reader", "admin"])
def test_user_is_on_with_its_password_hash(user: str) -> None:
    digest = hashlib.sha256(PASSWORDS[user].get_secret_value().encode()).hexdigest()
    rules = user_rules(acl(spec()), user)
    assert rules is not None
    assert rules.startswith(f"on #{digest} ")


def test_acl_file_holds_no_plaintext_password() -> None:
    text = acl(spec())
    # The users' names, never their passwords, in a failure's message.
    assert [
        user for user, password in PASSWORDS.items() if password.get_secret_value() in text
    ] == []
    assert ">" not in text  # the ACL syntax for a plaintext password


@pytest.mark.parametrize("user", ["app", "reader"])
def test_user_may_touch_only_its_key_patterns(user: str) -> None:
    rules = str(user_rules(acl(spec()), user)).split()
    assert [rule for rule in rules if rule.startswith("~")] == [
        "~config:*", "~exchanges:*", "~session:*", "~price:*", "~system:*",
    ]  # fmt: skip
    assert "resetchannels" in rules


def test_app_is_granted_read_and_write_after_minus_all() -> None:
    rules = str(user_rules(acl(spec()), "app")).split()
    assert rules.index("-@all") < rules.index("+@read") < rules.index("+@write")


def test_reader_is_granted_no_write() -> None:
    rules = str(user_rules(acl(spec()), "reader")).split()
    assert "+@read" in rules
    assert "+@write" not in rules


@pytest.mark.parametrize("user", ["app", "reader"])
@pytest.mark.parametrize(
    "denied",
    ["-@admin", "-@dangerous", "-flushall", "-flushdb", "-config", "-debug", "-shutdown", "-keys"],
)
def test_dangerous_commands_are_denied_after_every_grant(user: str, denied: str) -> None:
    rules = str(user_rules(acl(spec()), user)).split()
    last_grant = max(index for index, rule in enumerate(rules) if rule.startswith("+"))
    assert rules.index(denied) > last_grant


def test_admin_has_no_keys_and_only_its_commands() -> None:
    rules = str(user_rules(acl(spec()), "admin")).split()
    assert not [rule for rule in rules if rule.startswith("~")]
    assert [rule for rule in rules if rule.startswith("+")] == [f"+{c}" for c in ADMIN_COMMANDS]


def test_admin_commands_are_redis_commands() -> None:
    assert {c for c in ADMIN_COMMANDS if not c.startswith("@")} <= COMMANDS
