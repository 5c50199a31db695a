"""Verify an InfluxDB 2 host against its environment spec.

    pytest tests/infra/test_influxdb.py --hosts=ssh://influx-1 --ssh-config=FILE --env=prod \
        [--influxdb-endpoint=ADDR:PORT]

These need a real InfluxDB 2, provisioned by the deploy: run them against real hosts (or through
``python -m datalayer.verify INVENTORY``). No machine of this repository's CI can install InfluxDB
2 (no reachable registry ships it), so this repository's CI does not run them; the setup step's
decisions are unit-tested from recorded answers in ``tests/unit/influxdb/test_setup.py``.

Commands on the host run as root; API requests go from where pytest runs, with the tokens the
setup step stored on the host. With TLS, the host's own certificate is the trust anchor.
"""

import ipaddress
import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from datalayer.influxdb.config import render_influxdb_config
from datalayer.influxdb.layout import CONFIG_PATH, SERVICE, USER
from datalayer.spec import EnvironmentSpec
from datalayer.spec.influxdb import InfluxDb, InfluxToken
from tests.infra.conftest import Endpoint, endpoint_of
from tests.infra.postgresql import journal
from tests.infra.redaction import revealed

PROBE_MEASUREMENT = "datalayer_verify_probe"


@pytest.fixture(scope="session")
def influxdb(environment: EnvironmentSpec) -> InfluxDb:
    if environment.influxdb is None:
        raise pytest.UsageError(f"Pulumi.{environment.name}.yaml declares no datalayer:influxdb")
    return environment.influxdb


@pytest.fixture
def api(pytestconfig: pytest.Config, host: Any, influxdb: InfluxDb) -> Endpoint:
    """Where this machine reaches the API of the host under test."""
    return endpoint_of(pytestconfig, "--influxdb-endpoint", host, influxdb.http_port)


@pytest.fixture
def tls_context(host: Any, influxdb: InfluxDb, tmp_path: Path) -> ssl.SSLContext | None:
    if not influxdb.tls.enabled:
        return None
    certificate = tmp_path / "server.crt"
    certificate.write_text(host.file(influxdb.tls.cert_file).content_string)
    context = ssl.create_default_context(cafile=str(certificate))
    context.check_hostname = False  # pinned: the endpoint may be a forwarded port
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    return context


def _call(
    api: Endpoint,
    context: ssl.SSLContext | None,
    method: str,
    path: str,
    token: str | None = None,
    body: bytes | None = None,
    content_type: str = "application/json",
) -> tuple[int, Any]:
    scheme = "https" if context is not None else "http"
    headers = {"Content-Type": content_type}
    if token is not None:
        headers["Authorization"] = f"Token {token}"
    request = urllib.request.Request(
        f"{scheme}://{api.address}:{api.port}{path}", data=body, headers=headers, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        raw, status = error.read(), error.code
    text = raw.decode()
    try:
        return status, json.loads(text) if text.strip() else None
    except json.JSONDecodeError:
        return status, text


def _token(host: Any, influxdb: InfluxDb, role: str) -> str:
    token = next((t for t in influxdb.tokens if t.role == role), None)
    if token is None:
        pytest.skip(f"the spec declares no {role} token")
    content: str = host.file(token.file).content_string
    return revealed(content.strip())


def _write(api: Endpoint, context: ssl.SSLContext | None, spec: InfluxDb, token: str) -> int:
    query = urllib.parse.urlencode({"org": spec.org, "bucket": spec.bucket, "precision": "s"})
    status, _ = _call(
        api, context, "POST", f"/api/v2/write?{query}", token,
        f"{PROBE_MEASUREMENT} value=1".encode(), "text/plain; charset=utf-8",
    )  # fmt: skip
    return status


def test_server_package_is_the_pinned_version(host: Any, influxdb: InfluxDb) -> None:
    package = host.package("influxdb2")
    assert package.is_installed
    assert package.version == influxdb.version


def test_service_is_enabled_and_running(host: Any) -> None:
    service = host.service(SERVICE)
    assert service.is_running, journal(host, SERVICE)
    assert service.is_enabled, journal(host, SERVICE)


def test_listens_only_where_the_spec_says(host: Any, influxdb: InfluxDb) -> None:
    listening = {
        ipaddress.ip_address(socket.split("://")[1].rsplit(":", 1)[0].strip("[]")).compressed
        for socket in host.socket.get_listening_sockets()
        if socket.startswith("tcp") and socket.rsplit(":", 1)[1] == str(influxdb.http_port)
    }
    allowed = {
        "*": {"0.0.0.0", "::"},
        "localhost": {"127.0.0.1", "::1"},
    }.get(influxdb.http_bind_address, {influxdb.http_bind_address})
    assert listening, f"nothing listens on port {influxdb.http_port}"
    assert listening <= allowed, f"listening on {sorted(listening - allowed)} beyond the spec"


def test_config_file_is_the_rendered_one(
    host: Any, influxdb: InfluxDb, environment: EnvironmentSpec
) -> None:
    config = host.file(CONFIG_PATH)
    assert config.content_string == render_influxdb_config(influxdb, environment.name)
    assert (config.user, config.group, config.mode) == ("root", USER, 0o640)


def test_ping_answers_204(api: Endpoint, tls_context: ssl.SSLContext | None) -> None:
    assert _call(api, tls_context, "GET", "/ping")[0] == 204


def test_setup_is_done(api: Endpoint, tls_context: ssl.SSLContext | None) -> None:
    assert _call(api, tls_context, "GET", "/api/v2/setup") == (200, {"allowed": False})


@pytest.mark.parametrize("role", ["app", "reader"])
def test_token_file_is_private_to_influxdb(host: Any, influxdb: InfluxDb, role: str) -> None:
    token: InfluxToken | None = next((t for t in influxdb.tokens if t.role == role), None)
    if token is None:
        pytest.skip(f"the spec declares no {role} token")
    file = host.file(token.file)
    assert (file.user, file.group, file.mode) == (USER, USER, 0o600)


def test_bucket_keeps_data_as_long_as_the_spec_says(
    host: Any, api: Endpoint, tls_context: ssl.SSLContext | None, influxdb: InfluxDb
) -> None:
    query = urllib.parse.urlencode({"name": influxdb.bucket, "org": influxdb.org})
    status, body = _call(
        api, tls_context, "GET", f"/api/v2/buckets?{query}", _token(host, influxdb, "reader")
    )
    assert status == 200, body
    rules = [r for r in body["buckets"][0]["retentionRules"] if r["type"] == "expire"]
    assert (rules[0]["everySeconds"] if rules else 0) == influxdb.retention_seconds


def test_reader_can_read(
    host: Any, api: Endpoint, tls_context: ssl.SSLContext | None, influxdb: InfluxDb
) -> None:
    flux = f'from(bucket: "{influxdb.bucket}") |> range(start: -1m) |> limit(n: 1)'
    status, body = _call(
        api, tls_context, "POST",
        f"/api/v2/query?{urllib.parse.urlencode({'org': influxdb.org})}",
        _token(host, influxdb, "reader"), flux.encode(), "application/vnd.flux",
    )  # fmt: skip
    assert status == 200, body


def test_reader_cannot_write(
    host: Any, api: Endpoint, tls_context: ssl.SSLContext | None, influxdb: InfluxDb
) -> None:
    assert _write(api, tls_context, influxdb, _token(host, influxdb, "reader")) in (401, 403)


def test_app_can_write(
    host: Any, api: Endpoint, tls_context: ssl.SSLContext | None, influxdb: InfluxDb
) -> None:
    token = _token(host, influxdb, "app")
    assert _write(api, tls_context, influxdb, token) == 204
    # Remove the probe point again (the app token may delete in its bucket: write permission).
    query = urllib.parse.urlencode({"org": influxdb.org, "bucket": influxdb.bucket})
    predicate = {
        "start": "1970-01-01T00:00:00Z",
        "stop": "2100-01-01T00:00:00Z",
        "predicate": f'_measurement="{PROBE_MEASUREMENT}"',
    }
    status, body = _call(
        api, tls_context, "POST", f"/api/v2/delete?{query}", token, json.dumps(predicate).encode()
    )
    assert status == 204, body


def test_wrong_token_is_refused(
    api: Endpoint, tls_context: ssl.SSLContext | None, influxdb: InfluxDb
) -> None:
    assert _write(api, tls_context, influxdb, "not-a-token-" + "x" * 40) == 401
