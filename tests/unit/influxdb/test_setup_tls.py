"""The setup step's HTTPS client against a real TLS server on 127.0.0.1, whose certificate (from a
CA made here) names ``influxdb.test`` only: the stacks' client must check that the certificate
names the host it expects, not only that it chains to the CA.

The server is Python's own HTTP server behind ``ssl``; it answers ``/health`` as InfluxDB does when
ready (200), since what is under test is the TLS handshake, not InfluxDB."""

import datetime
import http.server
import ssl
import threading
import urllib.error
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from datalayer.onhost.influxdb_setup import SetupError, http_transport, wait_until_ready

CERTIFICATE_NAME = "influxdb.test"


@dataclass(frozen=True)
class TlsServer:
    url: str
    ca_file: str


def _certificate(
    subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Certificate | None,
    issuer_key: ec.EllipticCurvePrivateKey,
) -> x509.Certificate:  # fmt: skip
    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsServer]:
    directory: Path = tmp_path_factory.mktemp("tls")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("test CA", ca_key, None, ca_key)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = _certificate(CERTIFICATE_NAME, server_key, ca, ca_key)
    (directory / "ca.crt").write_bytes(_pem(ca))
    (directory / "server.crt").write_bytes(_pem(server))
    (directory / "server.key").write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(directory / "server.crt", directory / "server.key")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield TlsServer(f"https://127.0.0.1:{httpd.server_address[1]}", str(directory / "ca.crt"))
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_client_accepts_the_certificate_naming_the_expected_server(tls_server: TlsServer) -> None:
    send = http_transport(tls_server.url, tls_server.ca_file, CERTIFICATE_NAME)
    assert send("GET", "/health", None, None).status == 200


@pytest.mark.parametrize("expected", ["127.0.0.1", "other.test"])
def test_client_refuses_a_certificate_naming_another_server(
    tls_server: TlsServer, expected: str
) -> None:
    send = http_transport(tls_server.url, tls_server.ca_file, expected)
    with pytest.raises(urllib.error.URLError) as refused:
        send("GET", "/health", None, None)
    assert isinstance(refused.value.reason, ssl.SSLCertVerificationError)
    # OpenSSL's X509_V_ERR_HOSTNAME_MISMATCH / X509_V_ERR_IP_ADDRESS_MISMATCH.
    assert f"mismatch, certificate is not valid for '{expected}'" in (
        refused.value.reason.verify_message
    )


def test_setup_stops_at_once_on_a_certificate_naming_another_server(
    tls_server: TlsServer,
) -> None:
    # wait_until_ready retries what a starting influxd does (refused, reset); no retry fixes a
    # certificate, so the step stops with the reason instead of waiting out its deadline.
    send = http_transport(tls_server.url, tls_server.ca_file, "other.test")
    with pytest.raises(SetupError, match="certificate is refused: Hostname mismatch"):
        wait_until_ready(send, seconds=30)
