"""Verify a Redis host's Sentinel, and its place in the group, against its environment spec.

Runs with tests/infra/test_redis.py on every host of the redis group (``python -m
datalayer.verify``); skipped where the environment declares no ``redis.sentinel``. Checks the
package and unit, the seeded files left to their servers, the deploy's own files, and Sentinel
as clients meet it from where pytest runs (``--sentinel-endpoint``): logins, what it says of
the master, and what the application's users may not do there.
"""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from datalayer.redis.layout import DEBIAN_LAYOUT, DEBIAN_SENTINEL_LAYOUT, SentinelLayout
from datalayer.redis.passwords import redis_passwords
from datalayer.redis.sentinel import SEED_MARKER
from datalayer.spec.redis import Redis, Sentinel
from tests.infra.conftest import Endpoint, endpoint_of
from tests.infra.postgresql import journal
from tests.infra.redaction import revealed


@pytest.fixture(scope="session")
def sentinel_spec(redis_spec: Redis) -> Sentinel:
    if redis_spec.sentinel is None:
        pytest.skip("the environment declares no redis.sentinel: one Redis host, no Sentinel")
    return redis_spec.sentinel


@pytest.fixture(scope="session")
def sentinel_layout() -> SentinelLayout:
    return DEBIAN_SENTINEL_LAYOUT


@pytest.fixture
def sentinel_endpoint(pytestconfig: pytest.Config, host: Any, sentinel_spec: Sentinel) -> Endpoint:
    """Where this machine reaches the Sentinel of the host under test."""
    return endpoint_of(pytestconfig, "--sentinel-endpoint", host, sentinel_spec.port)


Login = Callable[..., redis.Redis]


@pytest.fixture
def sentinel_login(redis_spec: Redis, sentinel_endpoint: Endpoint) -> Iterator[Login]:
    """A function that logs in to the host's Sentinel as a user (None: no login)."""
    passwords = {
        user: revealed(password.get_secret_value())
        for user, password in redis_passwords(redis_spec).items()
    }
    opened: list[redis.Redis] = []

    def login(user: str | None, password: str | None = None) -> redis.Redis:
        client = redis.Redis(
            host=sentinel_endpoint.address,
            port=sentinel_endpoint.port,
            username=user,
            password=password or (passwords[user] if user else None),
            socket_timeout=10,
            decode_responses=True,
        )
        opened.append(client)
        return client

    yield login
    for client in opened:
        client.close()


def ask(client: redis.Redis, *command: str) -> Any:
    """Sentinel's answer to ``command`` (redis-py types execute_command loosely)."""
    return client.execute_command(*command)  # type: ignore[no-untyped-call]


def test_redis_sentinel_package_is_installed(
    host: Any, sentinel_spec: Sentinel, sentinel_layout: SentinelLayout
) -> None:
    assert host.package(sentinel_layout.package).is_installed


def test_sentinel_service_is_enabled_and_running(
    host: Any, sentinel_spec: Sentinel, sentinel_layout: SentinelLayout
) -> None:
    service = host.service(sentinel_layout.service)
    assert service.is_running, journal(host, sentinel_layout.service)
    assert service.is_enabled, journal(host, sentinel_layout.service)


def test_sentinel_listens_on_its_port(host: Any, sentinel_spec: Sentinel) -> None:
    listening = [
        socket
        for socket in host.socket.get_listening_sockets()
        if socket.startswith("tcp") and socket.rsplit(":", 1)[1] == str(sentinel_spec.port)
    ]
    assert listening != [], journal(host, DEBIAN_SENTINEL_LAYOUT.service)


@pytest.mark.parametrize(
    "path",
    [DEBIAN_LAYOUT.config_file, DEBIAN_SENTINEL_LAYOUT.config_file],
    ids=["redis", "sentinel"],
)
def test_seeded_file_is_left_to_its_server(host: Any, sentinel_spec: Sentinel, path: str) -> None:
    assert SEED_MARKER in host.file(path).content_string.splitlines()


def test_redis_conf_includes_no_file(host: Any, sentinel_spec: Sentinel) -> None:
    lines = host.file(DEBIAN_LAYOUT.config_file).content_string.splitlines()
    assert [line for line in lines if line.startswith("include ")] == []


def test_sentinel_monitors_no_loopback_master(host: Any, sentinel_spec: Sentinel) -> None:
    # The package's own sentinel.conf monitors 127.0.0.1; the seed replaces it.
    monitors = [
        line
        for line in host.file(DEBIAN_SENTINEL_LAYOUT.config_file).content_string.splitlines()
        if line.startswith("sentinel monitor ")
    ]
    assert [line.split()[2] for line in monitors] == [sentinel_spec.master_name]
    assert not [line for line in monitors if line.split()[3].startswith("127.")]


def test_sentinel_acl_file_owner_and_mode(host: Any, sentinel_spec: Sentinel) -> None:
    path = host.file(DEBIAN_SENTINEL_LAYOUT.acl_file)
    assert (path.user, path.group, path.mode) == ("redis", "redis", 0o640)


def test_unauthenticated_sentinel_command_is_refused(sentinel_login: Login) -> None:
    with pytest.raises(redis.AuthenticationError, match="Authentication required"):
        sentinel_login(None).ping()


def test_default_user_cannot_log_in_to_sentinel(sentinel_login: Login) -> None:
    with pytest.raises(redis.AuthenticationError, match="user is disabled"):
        sentinel_login("default", "any-password-" + "x" * 16).ping()


@pytest.mark.parametrize("user", ["app", "reader"])
def test_application_user_finds_the_master(
    sentinel_login: Login, sentinel_spec: Sentinel, user: str
) -> None:
    address = ask(
        sentinel_login(user), "SENTINEL", "GET-MASTER-ADDR-BY-NAME", sentinel_spec.master_name
    )
    assert address is not None and len(address) == 2


def test_sentinel_knows_its_peers(sentinel_login: Login, sentinel_spec: Sentinel) -> None:
    peers = ask(sentinel_login("app"), "SENTINEL", "SENTINELS", sentinel_spec.master_name)
    assert len(peers) >= 2


def test_sentinel_sees_the_master_up(sentinel_login: Login, sentinel_spec: Sentinel) -> None:
    master = ask(sentinel_login("app"), "SENTINEL", "MASTER", sentinel_spec.master_name)
    fields = dict(zip(master[::2], master[1::2], strict=True))
    assert fields["flags"] == "master"


@pytest.mark.parametrize("user", ["app", "reader"])
def test_application_user_cannot_reconfigure_sentinel(
    sentinel_login: Login, sentinel_spec: Sentinel, user: str
) -> None:
    with pytest.raises(redis.exceptions.NoPermissionError, match=r"'sentinel\|set' command"):
        ask(sentinel_login(user), "SENTINEL", "SET", sentinel_spec.master_name, "quorum", "1")


def test_sentinel_quorum_is_the_spec(sentinel_login: Login, sentinel_spec: Sentinel) -> None:
    master = ask(sentinel_login("admin"), "SENTINEL", "MASTER", sentinel_spec.master_name)
    fields = dict(zip(master[::2], master[1::2], strict=True))
    assert (fields["quorum"], fields["down-after-milliseconds"]) == (
        str(sentinel_spec.quorum),
        str(sentinel_spec.down_after_milliseconds),
    )
