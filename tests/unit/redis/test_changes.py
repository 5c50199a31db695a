"""CONFIG SET, ACL LOAD or restart: the least disruptive action for what changed."""

from datalayer.redis.changes import (
    RUNTIME_SETTINGS,
    LoadedAcl,
    acl_change,
    acl_in_force,
    decide,
    parse_settings,
    user_rules,
)

CONF = """# header
bind 127.0.0.1
port 6379
maxmemory 268435456
maxmemory-policy volatile-lru
appendonly yes
appendfsync everysec
save "3600 1 300 100"
"""
ACL = """user default off resetpass resetkeys resetchannels -@all
user admin on #aaaa resetkeys resetchannels -@all +config|set
user app on #bbbb ~price:* resetchannels -@all +@read +@write
"""


def test_nothing_changed_does_nothing() -> None:
    decision = decide(
        CONF,
        CONF,
        acl_change(ACL, ACL, "admin"),
        running=True,
        admin_user="admin",
    )
    assert not decision.restart
    assert not decision.acl_load
    assert decision.runtime_settings == ()
    assert decision.describe() == "configuration unchanged, no reload or restart"


def test_changed_app_password_loads_the_acl_without_restart() -> None:
    decision = decide(
        CONF,
        CONF,
        acl_change(ACL, ACL.replace("#bbbb", "#cccc"), "admin"),
        running=True,
        admin_user="admin",
    )
    assert decision.acl_load
    assert not decision.restart
    assert decision.describe() == "ACL LOAD"


def test_changed_admin_user_restarts() -> None:
    decision = decide(
        CONF,
        CONF,
        acl_change(ACL, ACL.replace("#aaaa", "#dddd"), "admin"),
        running=True,
        admin_user="admin",
    )
    assert decision.restart_reasons == ("users.acl changes the admin user",)
    assert not decision.acl_load


def test_runtime_setting_is_set_without_restart() -> None:
    wanted = CONF.replace("maxmemory 268435456", "maxmemory 314572800")
    decision = decide(
        CONF,
        wanted,
        acl_change(ACL, ACL, "admin"),
        running=True,
        admin_user="admin",
    )
    assert not decision.restart
    assert decision.runtime_settings == (("maxmemory", "314572800"),)


def test_runtime_setting_and_acl_change_do_both() -> None:
    wanted = CONF.replace("appendfsync everysec", "appendfsync always")
    decision = decide(
        CONF,
        wanted,
        acl_change(ACL, ACL.replace("#bbbb", "#cccc"), "admin"),
        running=True,
        admin_user="admin",
    )
    assert decision.runtime_settings == (("appendfsync", "always"),)
    assert decision.acl_load
    assert decision.describe() == "CONFIG SET appendfsync, ACL LOAD"


def test_save_rules_are_set_as_one_value() -> None:
    wanted = CONF.replace('save "3600 1 300 100"', 'save ""')
    decision = decide(
        CONF,
        wanted,
        acl_change(ACL, ACL, "admin"),
        running=True,
        admin_user="admin",
    )
    assert decision.runtime_settings == (("save", ""),)


def test_bind_change_restarts() -> None:
    wanted = CONF.replace("bind 127.0.0.1", "bind 127.0.0.1 10.0.0.5")
    decision = decide(
        CONF,
        wanted,
        acl_change(ACL, ACL, "admin"),
        running=True,
        admin_user="admin",
    )
    assert decision.restart_reasons == ("bind",)
    assert decision.runtime_settings == ()


def test_restart_setting_with_runtime_setting_restarts_once() -> None:
    wanted = CONF.replace("port 6379", "port 6380").replace(
        "appendfsync everysec", "appendfsync no"
    )
    decision = decide(
        CONF,
        wanted,
        acl_change(ACL, ACL.replace("#bbbb", "#cccc"), "admin"),
        running=True,
        admin_user="admin",
    )
    assert decision.restart_reasons == ("port",)
    assert decision.runtime_settings == ()
    assert not decision.acl_load  # the restart reads the new file


def test_runtime_setting_removed_from_the_file_restarts() -> None:
    wanted = CONF.replace("maxmemory-policy volatile-lru\n", "")
    decision = decide(
        CONF,
        wanted,
        acl_change(ACL, ACL, "admin"),
        running=True,
        admin_user="admin",
    )
    assert decision.restart_reasons == ("maxmemory-policy",)


def test_stopped_server_is_restarted_even_without_changes() -> None:
    decision = decide(
        CONF,
        CONF,
        acl_change(ACL, ACL, "admin"),
        running=False,
        admin_user="admin",
    )
    assert decision.restart_reasons == ("the server is not running",)


def test_first_install_over_debians_file_restarts() -> None:
    debian = "bind 127.0.0.1 -::1\nport 6379\ndaemonize yes\nappendonly no\n"
    decision = decide(
        debian,
        CONF,
        acl_change(None, ACL, "admin"),
        running=True,
        admin_user="admin",
    )
    assert decision.restart
    assert "bind" in decision.restart_reasons
    assert "users.acl changes the admin user" in decision.restart_reasons


def test_runtime_settings_are_ones_redis_sets_at_runtime() -> None:
    assert {"maxmemory", "maxmemory-policy", "appendfsync", "save"} <= RUNTIME_SETTINGS
    assert not {"bind", "port", "tls-port", "aclfile", "dir", "unixsocket"} & RUNTIME_SETTINGS


def test_parse_settings_joins_repeated_directives_in_order() -> None:
    text = "save 3600 1\nsave 300 100\n# save 1 1\nbind 127.0.0.1 -::1\n"
    assert parse_settings(text) == {"save": "3600 1 300 100", "bind": "127.0.0.1 -::1"}


def test_user_rules_of_an_undeclared_user_is_none() -> None:
    assert user_rules(ACL, "reader") is None


# ACL LIST of Redis 8.0.2 (Debian 13's redis-server in the sandbox image) after loading ACL:
# each user rebuilt from scratch, the sanitize-payload flag printed, resetpass and resetkeys gone
# (Redis 8.0 src/acl.c:422-423 ACLCreateUser, :846-905 ACLDescribeUser), users sorted by name.
LOADED = [
    "user admin on sanitize-payload #aaaa resetchannels -@all +config|set",
    "user app on sanitize-payload #bbbb ~price:* resetchannels -@all +@read +@write",
    "user default off sanitize-payload resetchannels -@all",
]


def test_acl_list_of_the_loaded_file_is_in_force() -> None:
    assert acl_in_force(LOADED, ACL)


def test_acl_list_with_another_password_is_not_in_force() -> None:
    assert not acl_in_force(LOADED, ACL.replace("#bbbb", "#cccc"))


def test_unchanged_file_the_server_has_not_loaded_loads_the_acl() -> None:
    decision = decide(
        CONF, CONF, acl_change(ACL, ACL, "admin"), running=True, admin_user="admin",
        loaded_acl=LoadedAcl(in_force=False),
    )  # fmt: skip
    assert decision.acl_load
    assert not decision.restart


def test_loaded_acl_as_in_the_file_does_nothing() -> None:
    decision = decide(
        CONF, CONF, acl_change(ACL, ACL, "admin"), running=True, admin_user="admin",
        loaded_acl=LoadedAcl(in_force=True),
    )  # fmt: skip
    assert not decision.acl_load
    assert not decision.restart


def test_server_refusing_the_admin_password_restarts() -> None:
    decision = decide(
        CONF, CONF, acl_change(ACL, ACL, "admin"), running=True, admin_user="admin",
        loaded_acl=LoadedAcl(in_force=False, admin_refused=True),
    )  # fmt: skip
    assert decision.restart_reasons == ("the running server refuses the admin user's password",)
