"""The InfluxDB 2 part of an environment: package, listener, TLS, org, bucket and scoped tokens.

Defaults live here and nowhere else: the template has none (``StrictUndefined``), the deploy and
the setup step compute nothing themselves but ask this model.

Tokens: InfluxDB generates an authorization's token itself (``POST /api/v2/authorizations``
takes no token value), and from 2.9 on it stores only a hash, so the token can be read exactly
once, in the answer that creates it. The setup step therefore writes each token to a file on the
droplet (``tokens[].file``, mode 0600, owner influxdb) at that moment; operators hand it to the
application from there (e.g. into their secret store). A missing file makes the next deploy
replace the authorization, since the old token cannot be recovered.
"""

import ipaddress
import re
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, Field, model_validator

from datalayer.spec.base import Constraint, SpecModel
from datalayer.spec.tls import ServerTls
from datalayer.spec.types import (
    ListenAddress,
    ManagedFile,
    SecretName,
    StrictBool,
    StrictInt,
)

# InfluxDB's duration literals as the influx CLI takes them for a retention period ("30d", "1w2d",
# "0s" for infinite). Months and years are left out: their length is not fixed.
_DURATION_PART = re.compile(r"([0-9]+)(w|d|h|m|s)")
_DURATION = re.compile(r"^(?:[0-9]+(?:w|d|h|m|s))+$")
_SECONDS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
# InfluxDB refuses a finite retention period below one hour.
MINIMUM_RETENTION_SECONDS = 3600

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def duration_seconds(value: str) -> int:
    """Seconds in an InfluxDB duration literal such as '30d', '52w' or '1w12h'."""
    if not _DURATION.fullmatch(value):
        raise ValueError(
            "is not a duration: use a number and a unit (w, d, h, m, s), e.g. '30d', '52w', "
            "or '0s' for infinite"
        )
    return sum(int(number) * _SECONDS[unit] for number, unit in _DURATION_PART.findall(value))


def _retention(value: str) -> str:
    seconds = duration_seconds(value)
    if 0 < seconds < MINIMUM_RETENTION_SECONDS:
        raise ValueError("must be at least 1h (InfluxDB's minimum), or '0s' for infinite")
    return value


Duration = Annotated[
    str, AfterValidator(_retention), Constraint("an InfluxDB duration of at least 1h, or `0s`")
]
"""A retention period as InfluxDB writes it; kept as written, read as seconds."""


def _ipv4_bind_address(value: str) -> str:
    # The influxdb2 package's unit starts influxd through influxd-systemd-start.sh, which reads
    # the bind address from `influxd print-config` and polls /ready until it answers, with
    # TimeoutStartSec=0 (.circleci/scripts/package/influxdb2/fs/usr/lib/influxdb/scripts/ at
    # v2.7.12: influxd-systemd-start.sh:8-28, influxdb.service:13-23). print-config encodes the
    # value as YAML, which quotes '[::1]:8086' ('[' starts a flow sequence: go-yaml v3.0.1
    # emitterc.go:1297-1301 and 1022-1026), the script keeps the quotes in its URL, curl never
    # connects, and `systemctl start` never returns. Unbracketed, influxd cannot listen on it.
    if value not in ("*", "localhost") and ipaddress.ip_address(value).version == 6:
        raise ValueError(
            "is an IPv6 address, which the influxdb2 package's start script cannot reach "
            "(systemctl start would never return): use an IPv4 address, 'localhost' or '*'"
        )
    return value


def _name(value: str) -> str:
    # A leading underscore is reserved for InfluxDB's system buckets (_monitoring, _tasks).
    if not _NAME.fullmatch(value):
        raise ValueError(
            "must start with a letter or digit and hold only letters, digits, '.', '_', '-' "
            "(at most 64 characters)"
        )
    return value


InfluxName = Annotated[
    str, AfterValidator(_name), Constraint("letters, digits, `.`, `_`, `-`; at most 64")
]

# What each token role may do on the spec's bucket, and nothing else.
ROLE_ACTIONS: dict[str, tuple[str, ...]] = {"app": ("read", "write"), "reader": ("read",)}


class InfluxTls(ServerTls):
    """HTTPS for InfluxDB's API and UI (influxd's tls-cert, tls-key, tls-min-version,
    tls-strict-ciphers)."""

    min_version: Literal["1.2", "1.3"] = "1.2"
    """Oldest TLS version accepted (tls-min-version); with 1.2, only the ECDHE AEAD cipher
    suites are (tls-strict-ciphers)."""

    @property
    def strict_ciphers(self) -> bool:
        """influxd's tls-strict-ciphers: restrict TLS 1.2 to the ECDHE AES-GCM and ChaCha20
        suites. TLS 1.3 has only strong suites, and influxd 2.7.12 turns the option off for it
        with a warning at every start (cmd/influxd/launcher/launcher.go:1223-1245)."""
        return self.min_version == "1.2"


class InfluxToken(SpecModel):
    """An API token scoped to the spec's bucket, for one role."""

    role: Literal["app", "reader"]
    """app: read and write on the bucket; reader: read only."""
    file: ManagedFile
    """Where the setup step stores the token on the host (mode 0600, owner influxdb), e.g.
    /etc/influxdb/tokens/app.token. InfluxDB shows a token only once, when it creates it."""

    @property
    def description(self) -> str:
        """The authorization's description in InfluxDB: how the setup step finds it again."""
        return f"datalayer {self.role} token"

    @property
    def actions(self) -> tuple[str, ...]:
        """The actions this role is granted on the bucket."""
        return ROLE_ACTIONS[self.role]


class InfluxDb(SpecModel):
    """InfluxDB 2 (OSS) on a droplet: one org, one bucket, an operator and scoped tokens."""

    version: str = Field(default="2.7.12-1", pattern=r"^2\.[0-9]+\.[0-9]+-[0-9]+$")
    """Version of the influxdb2 package from InfluxData's repository, Debian revision included.
    The influx CLI (influxdb2-cli) is versioned apart and installed at its current version."""
    http_bind_address: Annotated[
        ListenAddress, AfterValidator(_ipv4_bind_address), Constraint("no IPv6 address")
    ] = "127.0.0.1"
    """Address the HTTP API listens on: an IPv4 address, 'localhost' or '*' (every address, IPv6
    included). Not an IPv6 address: the influxdb2 package's start script cannot poll it. The
    stacks' containers bind every address of their own network namespace instead."""
    http_port: StrictInt = Field(default=8086, ge=1, le=65535)
    """TCP port of the HTTP API (the port of http-bind-address)."""
    tls: InfluxTls = InfluxTls()
    """HTTPS for the API."""
    org: InfluxName = "trading-platform"
    """The organization onboarding creates."""
    bucket: InfluxName = "market-data"
    """The bucket onboarding creates and the tokens are scoped to."""
    retention: Duration = "30d"
    """How long the bucket keeps data, e.g. '30d', '52w'; '0s' keeps it forever."""
    admin_username: InfluxName = "admin"
    """The operator user onboarding creates."""
    admin_password_secret: SecretName
    """Environment variable holding the operator's password (or NAME_FILE naming a file)."""
    admin_token_secret: SecretName
    """Environment variable holding the operator token onboarding sets (all access)."""
    tokens: list[InfluxToken] = []
    """Tokens scoped to the bucket, one per role, each stored in a file on the host."""
    log_level: Literal["debug", "info", "error"] = "info"
    """influxd's log-level."""
    reporting_disabled: StrictBool = True
    """influxd's reporting-disabled: no usage statistics sent to InfluxData unless asked."""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        roles = [token.role for token in self.tokens]
        if len(roles) != len(set(roles)):
            raise ValueError(f"tokens: each role at most once, got {roles}")
        files = [token.file for token in self.tokens]
        if len(files) != len(set(files)):
            raise ValueError(f"tokens: each token needs a file of its own, got {files}")
        if self.admin_password_secret == self.admin_token_secret:
            raise ValueError("admin_password_secret and admin_token_secret must differ")
        return self

    @property
    def retention_seconds(self) -> int:
        """The retention period in seconds; 0 is infinite."""
        return duration_seconds(self.retention)
