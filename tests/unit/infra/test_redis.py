"""Redis's component under Pulumi's mocks: image, volume, redis.conf and users.acl in place,
ACL users app and reader with the default user off, persistence, limits, health check."""

import hashlib

import pytest

from datalayer.redis.changes import parse_settings, user_rules
from datalayer.redis.commands import REDIS_VERSION
from datalayer.redis.config import render_redis_conf
from datalayer.redis.container import container_spec
from datalayer.redis.layout import CONTAINER_LAYOUT
from datalayer.spec import load_environment
from tests.unit.infra.conftest import CONFIGURED_SECRETS
from tests.unit.infra.harness import StackRun, container, uploads

CONFIG = "/usr/local/etc/redis/redis.conf"
ACL = "/usr/local/etc/redis/users.acl"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def settings(run: StackRun) -> dict[str, str]:
    return parse_settings(uploads(run, "redis")[CONFIG]["content"])


def test_component_has_its_type_token(dev: StackRun) -> None:
    assert dev.named("redis").type == "trading:cache:Redis"


def test_image_is_the_official_image_of_the_droplets_release(stack: StackRun) -> None:
    assert stack.named("redis-image").inputs["name"] == f"redis:{REDIS_VERSION}"


def test_data_volume_is_protected_kept_and_mounted_at_data(stack: StackRun) -> None:
    volume = stack.named("redis-data")
    assert (volume.protect, volume.retain_on_delete) == (True, True)
    assert {"volumeName": volume.inputs["name"], "containerPath": "/data"} in container(
        stack, "redis"
    )["volumes"]


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_rendered_redis_conf_is_placed_and_in_force(
    name: str, request: pytest.FixtureRequest
) -> None:
    run: StackRun = request.getfixturevalue(name)
    spec = load_environment(name).redis
    assert spec is not None
    expected = render_redis_conf(container_spec(spec), name, CONTAINER_LAYOUT)
    assert uploads(run, "redis")[CONFIG]["content"] == expected
    assert container(run, "redis")["command"] == ["redis-server", CONFIG]


def test_redis_conf_runs_in_the_foreground_logging_to_docker(dev: StackRun) -> None:
    conf = settings(dev)
    assert (conf["daemonize"], conf["supervised"], conf["logfile"]) == ("no", "no", "")
    assert "pidfile" not in conf
    assert (conf["dir"], conf["aclfile"]) == ("/data", ACL)


def test_persistence_is_on(dev: StackRun) -> None:
    conf = settings(dev)
    assert (conf["appendonly"], conf["appendfsync"]) == ("yes", "everysec")
    assert conf["save"] == "3600 1 300 100 60 10000"


def test_redis_listens_inside_the_container_and_serves_tls_only_in_prod(prod: StackRun) -> None:
    conf = settings(prod)
    assert conf["bind"] == "0.0.0.0"
    assert (conf["port"], conf["tls-port"]) == ("0", "6379")
    assert {
        "hostPath": "/etc/redis/tls", "containerPath": "/etc/redis/tls", "readOnly": True
    } in container(prod, "redis")["volumes"]  # fmt: skip


def test_acl_file_has_app_and_reader_and_the_default_user_off(dev: StackRun) -> None:
    acl = uploads(dev, "redis")[ACL]
    assert (acl["permissions"], acl["owner"]) == ("0600", "999")
    assert user_rules(acl["content"], "default") == "off resetpass resetkeys resetchannels -@all"
    app, reader = user_rules(acl["content"], "app"), user_rules(acl["content"], "reader")
    assert app is not None and "+@write" in app
    assert reader is not None and "+@read" in reader and "@write" not in reader


def test_acl_file_holds_hashes_of_the_stacks_passwords(dev: StackRun) -> None:
    content = uploads(dev, "redis")[ACL]["content"]
    app = dev.generated["secrets-datalayer-redis-app-password"]
    admin = CONFIGURED_SECRETS["DATALAYER_REDIS_ADMIN_PASSWORD"]
    assert f"#{sha256(app)}" in (user_rules(content, "app") or "")
    assert f"#{sha256(admin)}" in (user_rules(content, "admin") or "")
    assert app not in content and admin not in content


def test_health_check_logs_in_as_admin_without_a_password_on_its_command_line(
    dev: StackRun,
) -> None:
    test = container(dev, "redis")["healthcheck"]["tests"]
    assert test == [
        "CMD-SHELL",
        'REDISCLI_AUTH="$(cat /run/secrets/redis-admin-password)" '
        "redis-cli --user admin -s /tmp/redis-server.sock ping | grep -qx PONG",
    ]
    placed = uploads(dev, "redis")["/run/secrets/redis-admin-password"]
    assert placed["content"] == CONFIGURED_SECRETS["DATALAYER_REDIS_ADMIN_PASSWORD"]
    assert (placed["permissions"], placed["owner"]) == ("0400", "0")


def test_limits_come_from_the_containers_section(stack: StackRun) -> None:
    inputs = container(stack, "redis")
    expected = {"dev": (512, "1.0"), "prod": (6144, "2.0")}[stack.stack]
    assert (inputs["memory"], inputs["cpus"]) == expected


def test_port_is_published_on_the_stacks_address(dev: StackRun, prod: StackRun) -> None:
    assert container(dev, "redis")["ports"][0] | {} == {
        "internal": 6379, "external": 6379, "ip": "127.0.0.1", "protocol": "tcp"
    }  # fmt: skip
    assert container(prod, "redis")["ports"][0]["ip"] == "10.110.0.40"


def test_connection_strings_are_secret_outputs_for_app_and_reader(
    dev: StackRun, prod: StackRun
) -> None:
    assert "redis_urls" in dev.secret_outputs
    reader = dev.generated["secrets-datalayer-redis-reader-password"]
    assert dev.outputs["redis_urls"]["reader"] == f"redis://reader:{reader}@127.0.0.1:6379/0"
    assert prod.outputs["redis_urls"]["app"].startswith("rediss://app:")
