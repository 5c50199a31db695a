"""Verify a Redis host against its environment spec.

Runs against any host the deploy provisioned (sandbox droplets in this repository's CI, real
droplets from a laptop or a CI runner): package, service, sockets, files, settings in effect, and
the ACL users as clients meet them, from where pytest runs (``--redis-endpoint``). The last test
restarts Redis to prove the data outlives it.
"""

import fnmatch
import ipaddress
import secrets
from collections.abc import Iterator
from typing import Any, cast

import pytest
import redis

from datalayer.redis.config import settings_path
from datalayer.redis.layout import DEBIAN_LAYOUT, RedisLayout
from datalayer.redis.passwords import ADMIN_USER, redis_passwords
from datalayer.spec.redis import Redis
from tests.infra.conftest import Endpoint, endpoint_of
from tests.infra.postgresql import journal
from tests.infra.redaction import revealed

PROBE = "datalayer-probe"
OUTSIDE_KEY = "datalayer:probe:outside-every-pattern"


@pytest.fixture(scope="session")
def redis_layout() -> RedisLayout:
    return DEBIAN_LAYOUT


@pytest.fixture
def redis_endpoint(pytestconfig: pytest.Config, host: Any, redis_spec: Redis) -> Endpoint:
    """Where this machine reaches the Redis of the host under test."""
    return endpoint_of(pytestconfig, "--redis-endpoint", host, redis_spec.port)


class Clients:
    """Connections to the server under test as any user, with the deploy's passwords."""

    def __init__(self, spec: Redis, endpoint: Endpoint) -> None:
        self.spec = spec
        self.endpoint = endpoint
        self.passwords = {
            user: revealed(password.get_secret_value())
            for user, password in redis_passwords(spec).items()
        }
        self.opened: list[redis.Redis] = []

    def connect(self, user: str | None = None, password: str | None = None) -> redis.Redis:
        """A client logged in as ``user`` (its own password unless given); None: no login."""
        if user is not None and password is None:
            password = self.passwords[user]
        client = redis.Redis(
            host=self.endpoint.address,
            port=self.endpoint.port,
            username=user,
            password=password,
            ssl=self.spec.tls.enabled,
            # Access control is under test here, not the certificate chain (the CA is the
            # host's): TLS is required, its certificate is not verified.
            ssl_cert_reqs="none",
            socket_timeout=10,
            decode_responses=True,
        )
        self.opened.append(client)
        return client


@pytest.fixture
def clients(redis_spec: Redis, redis_endpoint: Endpoint) -> Iterator[Clients]:
    made = Clients(redis_spec, redis_endpoint)
    yield made
    for client in made.opened:
        client.close()


def _key_inside(patterns: list[str]) -> str:
    """A key the first pattern that has only '*' wildcards matches."""
    for pattern in patterns:
        if not set(pattern) & set("?[]\\"):
            return pattern.replace("*", PROBE)
    pytest.skip(f"no plain '*' pattern in {patterns} to derive a key from")


@pytest.fixture
def probe_key(redis_spec: Redis) -> str:
    return _key_inside(redis_spec.users.app.key_patterns)


@pytest.fixture
def writable(clients: Clients) -> None:
    """Skip a test that writes on a replica of a Sentinel group, which takes writes only from
    its master (tests/infra/test_redis_sentinel.py checks replication there)."""
    role = cast(dict[str, Any], clients.connect(ADMIN_USER).info("replication"))["role"]
    if role != "master":
        pytest.skip("a replica of the Sentinel group: writes go to its master")


def test_redis_server_package_is_installed(host: Any, redis_layout: RedisLayout) -> None:
    assert host.package(redis_layout.package).is_installed


def test_service_is_enabled_and_running(host: Any, redis_layout: RedisLayout) -> None:
    service = host.service(redis_layout.service)
    assert service.is_running, journal(host, str(redis_layout.service))
    assert service.is_enabled, journal(host, str(redis_layout.service))


def test_listens_only_where_the_spec_says(host: Any, redis_spec: Redis) -> None:
    listening = {
        ipaddress.ip_address(socket.split("://")[1].rsplit(":", 1)[0].strip("[]")).compressed
        for socket in host.socket.get_listening_sockets()
        if socket.startswith("tcp") and socket.rsplit(":", 1)[1] == str(redis_spec.port)
    }
    assert listening == set(redis_spec.bind), journal(host, str(DEBIAN_LAYOUT.service))


@pytest.mark.parametrize("file", ["settings", "acl_file"])
def test_config_file_owner_and_mode(
    host: Any, redis_spec: Redis, redis_layout: RedisLayout, file: str
) -> None:
    # The deploy's settings: redis.conf itself, or with Sentinel the file redis.conf includes.
    name = settings_path(redis_spec, redis_layout) if file == "settings" else redis_layout.acl_file
    path = host.file(name)
    assert (path.user, path.group, path.mode) == ("redis", "redis", 0o640)


def test_acl_file_holds_no_password(host: Any, clients: Clients, redis_layout: RedisLayout) -> None:
    content = host.file(redis_layout.acl_file).content_string
    # The users' names, never their passwords, in a failure's message.
    assert [user for user, password in clients.passwords.items() if password in content] == []


def test_unauthenticated_command_is_refused(clients: Clients) -> None:
    # redis-py raises AuthenticationError for Redis's NOAUTH, without the prefix.
    with pytest.raises(redis.AuthenticationError, match="Authentication required"):
        clients.connect().ping()


def test_default_user_cannot_log_in(clients: Clients) -> None:
    with pytest.raises(redis.AuthenticationError, match="user is disabled"):
        clients.connect("default", "any-password-" + "x" * 16).ping()


def test_default_user_is_disabled(clients: Clients) -> None:
    user = cast(dict[str, Any], clients.connect(ADMIN_USER).acl_getuser("default"))
    flags = user["flags"]
    assert "off" in flags
    assert "on" not in flags


def test_wrong_password_is_rejected(clients: Clients) -> None:
    with pytest.raises(redis.AuthenticationError, match="invalid username-password pair"):
        clients.connect("app", "not-the-password-" + "x" * 16).ping()


@pytest.mark.usefixtures("writable")
def test_app_can_set_and_get_its_keys(clients: Clients, probe_key: str) -> None:
    app = clients.connect("app")
    value = secrets.token_hex(8)
    assert app.set(probe_key, value, ex=60)
    assert app.get(probe_key) == value


@pytest.mark.usefixtures("writable")
def test_reader_can_get_what_app_wrote(clients: Clients, probe_key: str) -> None:
    value = secrets.token_hex(8)
    clients.connect("app").set(probe_key, value, ex=60)
    assert clients.connect("reader").get(probe_key) == value


def test_reader_cannot_set(clients: Clients, probe_key: str) -> None:
    with pytest.raises(redis.exceptions.NoPermissionError, match="'set' command"):
        clients.connect("reader").set(probe_key, "written by the reader")


def _dry_run(clients: Clients, user: str, *command: str) -> str:
    """ACL DRYRUN's verdict on ``user`` running ``command`` ('OK' or why not)."""
    admin = clients.connect(ADMIN_USER)
    verdict = admin.execute_command("ACL", "DRYRUN", user, *command)  # type: ignore[no-untyped-call]
    return str(verdict)


@pytest.mark.parametrize(
    "command",
    [("FLUSHALL",), ("FLUSHDB",), ("CONFIG", "GET", "maxmemory"), ("KEYS", "*"),
     ("DEBUG", "SLEEP", "0"), ("SHUTDOWN", "NOSAVE")],
    ids=lambda command: command[0],
)  # fmt: skip
@pytest.mark.parametrize("user", ["app", "reader"])
def test_acl_denies_dangerous_command(
    clients: Clients, user: str, command: tuple[str, ...]
) -> None:
    # ACL DRYRUN asks the ACL alone, without running the command: SHUTDOWN is safe to ask about,
    # and DEBUG is answered by the ACL rather than by enable-debug-command, which refuses it first.
    verdict = _dry_run(clients, user, *command)
    assert f"no permissions to run the '{command[0].lower()}" in verdict  # 'config|get'


def test_acl_allows_what_the_app_needs(clients: Clients, probe_key: str) -> None:
    assert _dry_run(clients, "app", "SET", probe_key, "1") == "OK"


def test_app_flushall_is_refused(clients: Clients) -> None:
    with pytest.raises(redis.exceptions.NoPermissionError, match="'flushall' command"):
        clients.connect("app").flushall()


def test_app_cannot_touch_a_key_outside_its_patterns(clients: Clients, redis_spec: Redis) -> None:
    if any(fnmatch.fnmatchcase(OUTSIDE_KEY, p) for p in redis_spec.users.app.key_patterns):
        pytest.skip(f"the spec's app patterns cover {OUTSIDE_KEY}")
    with pytest.raises(redis.exceptions.NoPermissionError, match="No permissions to access a key"):
        clients.connect("app").set(OUTSIDE_KEY, "outside")


def _config(clients: Clients, name: str) -> str:
    settings = cast(dict[str, str], clients.connect(ADMIN_USER).config_get(name))
    return settings[name]


def test_persistence_is_on(clients: Clients, redis_spec: Redis) -> None:
    persistence = redis_spec.persistence
    assert _config(clients, "appendonly") == ("yes" if persistence.appendonly else "no")
    assert _config(clients, "appendfsync") == persistence.appendfsync
    assert _config(clients, "save") == " ".join(
        f"{rule.seconds} {rule.changes}" for rule in persistence.save
    )


def test_memory_limit_is_in_effect(clients: Clients, redis_spec: Redis) -> None:
    assert int(_config(clients, "maxmemory")) == redis_spec.maxmemory
    assert _config(clients, "maxmemory-policy") == redis_spec.maxmemory_policy


@pytest.mark.usefixtures("writable")
def test_data_written_before_a_restart_is_there_after_it(
    host: Any, clients: Clients, redis_layout: RedisLayout, probe_key: str
) -> None:
    value = secrets.token_hex(8)
    key = f"{probe_key}:restart"
    clients.connect("app").set(key, value, ex=600)
    # Type=notify: systemctl returns once Redis has loaded its data and said it is ready.
    restarted = host.run("systemctl restart %s", redis_layout.service)
    assert restarted.rc == 0, restarted.stderr + journal(host, str(redis_layout.service))
    assert clients.connect("app").get(key) == value
