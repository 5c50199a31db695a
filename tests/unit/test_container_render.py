"""The services' files rendered for containers: the droplets' templates and renderers, with the
images' layouts."""

from typing import Any

import pytest

from datalayer.influxdb.config import render_influxdb_config
from datalayer.influxdb.layout import CONTAINER_LAYOUT as INFLUXDB_LAYOUT
from datalayer.redis.changes import parse_settings as redis_settings
from datalayer.redis.config import render_redis_conf
from datalayer.redis.layout import CONTAINER_LAYOUT as REDIS_LAYOUT
from datalayer.redis.layout import DEBIAN_LAYOUT
from datalayer.spec import load_environment
from datalayer.spec.timescaledb import TimescaleDb
from datalayer.timescaledb.changes import parse_settings as postgresql_settings
from datalayer.timescaledb.config import render_postgresql_conf
from datalayer.timescaledb.layout import container_layout, container_volume_directory
from tests.unit.conftest import minimal_timescaledb


def timescaledb(**changes: Any) -> TimescaleDb:
    return TimescaleDb.model_validate(minimal_timescaledb() | changes)


@pytest.mark.parametrize(
    ("version", "data", "volume"),
    [
        (17, "/var/lib/postgresql/data", "/var/lib/postgresql/data"),
        (18, "/var/lib/postgresql/18/docker", "/var/lib/postgresql"),
    ],
)
def test_postgresql_container_layout_follows_the_images_pgdata(
    version: int, data: str, volume: str
) -> None:
    spec = timescaledb(version=version)
    settings = postgresql_settings(render_postgresql_conf(spec, container_layout(spec), "test"))
    assert settings["data_directory"] == data
    assert settings["hba_file"] == "/etc/postgresql/pg_hba.conf"
    assert settings["ident_file"] == f"{data}/pg_ident.conf"
    assert "external_pid_file" not in settings
    assert container_volume_directory(spec) == volume


def test_postgresql_conf_header_names_the_containers_path() -> None:
    spec = timescaledb()
    first = render_postgresql_conf(spec, container_layout(spec), "test").splitlines()[0]
    assert first.startswith("# /etc/postgresql/postgresql.conf: rendered from templates/")


def test_redis_container_layout_runs_in_the_foreground_and_logs_to_stdout() -> None:
    spec = load_environment("dev").redis
    assert spec is not None
    settings = redis_settings(render_redis_conf(spec, "dev", REDIS_LAYOUT))
    assert (settings["supervised"], settings["logfile"], settings["dir"]) == ("no", "", "/data")
    assert settings["unixsocket"] == "/tmp/redis-server.sock"
    assert "pidfile" not in settings


def test_redis_debian_layout_is_unchanged_by_the_container_one() -> None:
    spec = load_environment("dev").redis
    assert spec is not None
    settings = redis_settings(render_redis_conf(spec, "dev", DEBIAN_LAYOUT))
    assert (settings["supervised"], settings["pidfile"]) == (
        "systemd",
        "/run/redis/redis-server.pid",
    )
    assert settings["logfile"] == "/var/log/redis/redis-server.log"


def test_influxdb_container_layout_keeps_data_on_the_images_volume() -> None:
    spec = load_environment("dev").influxdb
    assert spec is not None
    text = render_influxdb_config(spec, "dev", INFLUXDB_LAYOUT)
    assert text.startswith("# /etc/datalayer/influxdb/config.toml: rendered from templates/")
    assert 'bolt-path = "/var/lib/influxdb2/influxd.bolt"' in text
    assert 'engine-path = "/var/lib/influxdb2/engine"' in text
