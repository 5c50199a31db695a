"""The containers section of the spec: engine, images pinned, addresses, limits; one key at a
time from a valid environment."""

import copy
from typing import Any

import pytest

from datalayer.spec import EnvironmentSpec, SpecError, parse_environment
from datalayer.spec.containers import TIMESCALEDB_IMAGE_VERSION
from tests.unit.conftest import minimal_timescaledb
from tests.unit.spec.test_influxdb import MINIMAL_INFLUXDB
from tests.unit.spec.test_redis import MINIMAL_REDIS

SSH = {
    "engine": "ssh",
    "docker_host": "ssh://deploy@10.110.0.40",
    "private_address": "10.110.0.40",
    "timescaledb": {"hooks_network": "10.110.1.0/24"},
}


SECTIONS = {"redis": MINIMAL_REDIS, "influxdb": MINIMAL_INFLUXDB}
"""The service sections a container of ``containers`` needs (the environment's own check)."""


def parse(containers: dict[str, Any]) -> EnvironmentSpec:
    config = {
        "datalayer:timescaledb": minimal_timescaledb(),
        "datalayer:containers": copy.deepcopy(containers),
    }
    config |= {
        f"datalayer:{service}": copy.deepcopy(section)
        for service, section in SECTIONS.items()
        if service in containers
    }
    return parse_environment("test", config, source="Pulumi.test.yaml")


def error_of(containers: dict[str, Any]) -> str:
    with pytest.raises(SpecError) as error:
        parse(containers)
    return str(error.value)


def test_an_empty_section_is_the_local_engine_on_loopback() -> None:
    containers = parse({}).containers
    assert containers is not None
    assert (containers.engine, containers.publish_address) == ("local", "127.0.0.1")
    assert str(containers.network.subnet) == "172.28.57.0/24"


def test_the_sandbox_and_droplet_environments_need_no_section() -> None:
    config = {"datalayer:timescaledb": minimal_timescaledb()}
    assert parse_environment("test", config, source="Pulumi.test.yaml").containers is None


def test_ssh_engine_publishes_on_the_private_address() -> None:
    containers = parse(SSH).containers
    assert containers is not None and containers.publish_address == "10.110.0.40"


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("docker_host", "containers.docker_host is not set: engine 'ssh' needs"),
        ("private_address", "containers.private_address is not set: engine 'ssh' publishes"),
        ("timescaledb", "containers.timescaledb.hooks_network is not set: with engine 'ssh'"),
    ],
)
def test_ssh_engine_names_each_missing_key(missing: str, message: str) -> None:
    containers = {key: value for key, value in SSH.items() if key != missing}
    assert error_of(containers).startswith(f"Pulumi.test.yaml: datalayer:{message}")


@pytest.mark.parametrize("key", ["docker_host", "private_address"])
def test_local_engine_takes_no_remote_settings(key: str) -> None:
    message = error_of({key: SSH[key]})
    assert f"datalayer:containers.{key}: {SSH[key]!r} is for engine 'ssh'" in message


@pytest.mark.parametrize("host", ["tcp://10.110.0.40:2376", "ssh://", "10.110.0.40"])
def test_docker_host_must_be_an_ssh_url(host: str) -> None:
    assert "datalayer:containers.docker_host" in error_of(SSH | {"docker_host": host})


@pytest.mark.parametrize("address", ["203.0.113.7", "127.0.0.1", "0.0.0.0", "db-1.internal"])
def test_private_address_must_be_a_private_ip(address: str) -> None:
    assert "datalayer:containers.private_address" in error_of(SSH | {"private_address": address})


def test_the_servers_are_expected_to_name_the_publish_address_by_default() -> None:
    containers = parse(SSH).containers
    assert containers is not None
    assert containers.server_name == "10.110.0.40"


@pytest.mark.parametrize("name", ["db.prod.internal", "db-1", "10.110.0.40", "fd00::40"])
def test_the_tls_server_name_is_what_the_servers_are_expected_to_name(name: str) -> None:
    containers = parse(SSH | {"tls_server_name": name}).containers
    assert containers is not None
    assert containers.server_name == name


@pytest.mark.parametrize(
    "name", ["db prod", "-db.internal", "db..internal", "a" * 64 + ".internal", "db_1", 42]
)
def test_tls_server_name_must_be_a_dns_name_or_ip_address(name: object) -> None:
    assert "datalayer:containers.tls_server_name" in error_of(SSH | {"tls_server_name": name})


@pytest.mark.parametrize(
    "image",
    [
        "redis:8.0.2",
        "registry.example.com:5000/team/redis:8.0.2-bookworm",
        "redis@sha256:" + "0" * 64,
    ],
)
def test_pinned_images_are_accepted(image: str) -> None:
    containers = parse({"redis": {"image": image, "memory": "512MB", "cpus": 1}}).containers
    assert containers is not None and containers.redis is not None
    assert containers.redis.image == image


@pytest.mark.parametrize(
    ("image", "reason"),
    [
        ("redis", "is not pinned"),
        ("registry.example.com:5000/redis", "is not pinned"),
        ("redis:latest", "'latest' moves"),
        ("Redis:8", "is not an image reference"),
    ],
)
def test_unpinned_images_are_refused(image: str, reason: str) -> None:
    message = error_of({"redis": {"image": image, "memory": "512MB", "cpus": 1}})
    assert f"datalayer:containers.redis.image: {image!r} {reason}" in message


def test_default_images_follow_the_service_versions() -> None:
    containers = parse({"influxdb": {"memory": "1GB", "cpus": 1}}).containers
    assert containers is not None and containers.influxdb is not None
    assert containers.timescaledb.image_for(18) == (
        f"timescale/timescaledb:{TIMESCALEDB_IMAGE_VERSION}-pg18"
    )
    assert containers.influxdb.image_for("2.7.12-1") == "influxdb:2.7.12"


@pytest.mark.parametrize("subnet", ["fd00::/64", "172.28.57.0/29", "172.28.57.1/24"])
def test_network_subnet_is_an_ipv4_network_with_room(subnet: str) -> None:
    assert "datalayer:containers.network.subnet" in error_of({"network": {"subnet": subnet}})


def test_limits_are_required_for_redis_and_influxdb() -> None:
    message = error_of({"redis": {}})
    assert "datalayer:containers.redis.memory: Field required" in message
    assert "datalayer:containers.redis.cpus: Field required" in message


@pytest.mark.parametrize(
    ("section", "fragment"),
    [
        ({"timescaledb": {"published_port": True}}, "timescaledb.published_port: True Input"),
        ({"redis": {"memory": "512MB", "cpus": True}}, "redis.cpus: True Input"),
        ({"redis": {"memory": "512MB", "cpus": "1"}}, "redis.cpus: '1' Input"),
        ({"redis": {"memory": 536870912, "cpus": 1}}, "redis.memory: 536870912 needs a unit"),
    ],
)
def test_value_of_another_type_is_not_coerced(section: dict[str, Any], fragment: str) -> None:
    assert f"datalayer:containers.{fragment}" in error_of(section)


def test_containers_refuse_an_sftp_repository() -> None:
    timescaledb = minimal_timescaledb()
    timescaledb["backup"] = {
        "repository": {"type": "sftp", "private_key_secret": "DATALAYER_BACKUP_SFTP_KEY"}
    }
    config = {"datalayer:timescaledb": timescaledb, "datalayer:containers": {}}
    with pytest.raises(SpecError) as error:
        parse_environment("test", config, source="Pulumi.test.yaml")
    assert str(error.value) == (
        "Pulumi.test.yaml: datalayer:timescaledb.backup.repository.type: 'sftp' is for droplets: "
        "the containers archive WAL into their wal-archive volume and run no pgBackRest, so "
        "nothing would reach the SFTP server"
    )
