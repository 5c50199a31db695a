"""The Redis part of an environment: where it listens, how much it keeps, who may do what.

Defaults live here and nowhere else: the templates have none (``StrictUndefined``) and the deploy
computes nothing itself. ACL rules name Redis's own commands and categories, checked against the
list read from Debian 13's redis-server (``datalayer.redis.commands``), so that a typo stops the
deploy here instead of failing ``ACL LOAD`` on a half-configured host.
"""

import ipaddress
import re
import string
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer, model_validator

from datalayer.redis.commands import (
    ACL_CATEGORIES,
    COMMANDS,
    REDIS_VERSION,
    granted_by,
    write_commands_granted_by,
)
from datalayer.spec.base import Constraint, SpecModel
from datalayer.spec.types import AbsolutePath, SecretName, StrictBool, StrictInt

# Redis's size units (redis.conf's header): k/m/g are powers of 1000, kb/mb/gb of 1024.
_REDIS_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1024,
    "m": 1000**2,
    "mb": 1024**2,
    "g": 1000**3,
    "gb": 1024**3,
}
_PATTERN_CHARACTERS = frozenset(string.ascii_letters + string.digits + string.punctuation) - {
    '"',
    "'",
}
_REDIS_SIZE = re.compile(r"(?P<number>[0-9]+)\s*(?P<unit>[A-Za-z]*)")

# The keys the trading platform uses (its database notes: config, exchange settings, sessions,
# price cache, system status).
PLATFORM_KEY_PATTERNS = ("config:*", "exchanges:*", "session:*", "price:*", "system:*")

# Never allowed to the application's users, whatever they are granted: whole-keyspace wipes,
# server reconfiguration, debugging, shutdown and KEYS (which blocks the server on a large
# keyspace). @admin and @dangerous cover them and the rest of their kind (MONITOR, MODULE, ACL,
# REPLICAOF...); the commands are also named one by one so the file says so plainly.
ALWAYS_DENIED = (
    "@admin",
    "@dangerous",
    "flushall",
    "flushdb",
    "config",
    "debug",
    "shutdown",
    "keys",
)


def _redis_size(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"expected a size such as '256mb', got {value!r}")
    if isinstance(value, int) or value.strip().isdigit():
        raise ValueError("needs a unit, e.g. '256mb' (a bare number would be bytes; write '512b')")
    match = _REDIS_SIZE.fullmatch(value.strip())
    if match is None or match["unit"].lower() not in _REDIS_UNITS:
        raise ValueError(
            "is not a Redis size: a whole number and a unit (b, k, kb, m, mb, g, gb), e.g. '256mb'"
        )
    return int(match["number"]) * _REDIS_UNITS[match["unit"].lower()]


def _redis_size_text(num_bytes: int) -> str:
    """Largest binary unit that divides the size exactly, else bytes: '256mb', '1536kb', '1000'."""
    for unit in ("gb", "mb", "kb"):
        if num_bytes and num_bytes % _REDIS_UNITS[unit] == 0:
            return f"{num_bytes // _REDIS_UNITS[unit]}{unit}"
    return str(num_bytes)


def _positive(value: int) -> int:
    if value <= 0:
        raise ValueError("must be larger than zero (0 would mean no limit at all)")
    return value


RedisSize = Annotated[
    int,
    BeforeValidator(_redis_size),
    AfterValidator(_positive),
    PlainSerializer(_redis_size_text, return_type=str),
    Constraint("a size with a unit: b, k, kb, m, mb, g, gb; above zero"),
]
"""A size as redis.conf reads it: bytes, or '256mb' (mb = 1024*1024 bytes, m = 1000*1000)."""


def _bind_address(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected an IP address such as '10.110.0.20', got {value!r}")
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError("is not an IP address") from None


BindAddress = Annotated[str, BeforeValidator(_bind_address), Constraint("an IP address")]
"""An IPv4 or IPv6 address Redis binds to (Redis takes addresses, not host names)."""


def _key_pattern(value: str) -> str:
    """A glob as Redis's ``stringmatchlen`` reads it: ``*``, ``?``, ``[...]`` (``[^...]``,
    ``a-z``) and ``\\`` escapes. Redis would take the ill-formed ones below too, but then match
    something other than what was written (a lone ``[`` runs to the end, ``[]`` matches nothing).
    """
    if not value:
        raise ValueError("is empty: a key pattern must match something")
    if not set(value) <= _PATTERN_CHARACTERS:
        raise ValueError(
            "may hold only printable ASCII without spaces or quotes (users.acl splits lines on "
            "them)"
        )
    index = 0
    while index < len(value):
        if value[index] == "\\":
            if index + 1 == len(value):
                raise ValueError("ends in a lone '\\' that escapes nothing")
            index += 1
        elif value[index] == "[":
            index = _end_of_class(value, index)
        index += 1
    return value


def _end_of_class(value: str, start: int) -> int:
    """Index of the ']' closing the class that opens at ``start``."""
    index = start + 1
    if value[index : index + 1] == "^":
        index += 1
    first = index
    while index < len(value):
        if value[index] == "\\":
            index += 2
            continue
        if value[index] == "]":
            if index == first:
                raise ValueError("has an empty '[]' class, which matches nothing")
            return index
        index += 1
    raise ValueError("has a '[' without its closing ']'")


KeyPattern = Annotated[
    str, AfterValidator(_key_pattern), Constraint("a well-formed glob, printable ASCII")
]
"""An ACL key pattern (written as ``~pattern``): a glob over key names."""


def _command_rule(value: str) -> str:
    """A command, ``container|subcommand`` or ``@category`` as ``COMMAND LIST``/``ACL CAT`` name
    them; any case, stored lower-cased."""
    name = value.lower()
    if name.startswith("@"):
        # 'all' is a category every ACL rule accepts, though ACL CAT does not list it.
        if name[1:] not in ACL_CATEGORIES | {"all"}:
            raise ValueError("is not a Redis ACL category (see ACL CAT)")
    elif name not in COMMANDS:
        raise ValueError("is not a Redis command (see COMMAND LIST)")
    return name


CommandRule = Annotated[
    str,
    AfterValidator(_command_rule),
    Constraint(f"a command or @category of Redis {REDIS_VERSION}'s command table"),
]
"""A Redis command ('get'), subcommand ('client|setname') or ACL category ('@read')."""


class Tls(SpecModel):
    """TLS on Redis's port. When enabled, the plain TCP port is closed (``port 0``) and Redis
    serves TLS on ``redis.port`` (``tls-port``)."""

    enabled: StrictBool = False
    """Serve TLS only; no unencrypted TCP port."""
    cert_file: AbsolutePath | None = None
    """Server certificate (PEM) on the host, readable by the redis user; required when enabled."""
    key_file: AbsolutePath | None = None
    """Server private key on the host, readable by the redis user; required when enabled."""
    ca_file: AbsolutePath | None = None
    """CA bundle (tls-ca-cert-file) clients and client certificates chain to; required when
    enabled."""
    auth_clients: StrictBool = False
    """Require client certificates signed by ca_file (tls-auth-clients), besides the password."""

    @model_validator(mode="after")
    def _files_when_enabled(self) -> Self:
        missing = [
            name
            for name in ("cert_file", "key_file", "ca_file")
            if self.enabled and getattr(self, name) is None
        ]
        if missing:
            raise ValueError(f"tls.enabled is true but tls.{', tls.'.join(missing)} not set")
        return self


class SnapshotRule(SpecModel):
    """One RDB snapshot rule: save when at least ``changes`` writes happened in ``seconds``."""

    seconds: StrictInt = Field(gt=0)
    """Length of the window, in seconds."""
    changes: StrictInt = Field(gt=0)
    """Writes within the window that trigger a snapshot."""


class Persistence(SpecModel):
    """How Redis keeps data across restarts: the append-only file plus RDB snapshots."""

    appendonly: StrictBool = True
    """Log every write to the append-only file, so a restart loses at most ``appendfsync``'s
    window."""
    appendfsync: Literal["always", "everysec", "no"] = "everysec"
    """When the append-only file is flushed to disk: everysec loses at most a second of writes."""
    save: list[SnapshotRule] = Field(
        default=[
            SnapshotRule(seconds=3600, changes=1),
            SnapshotRule(seconds=300, changes=100),
            SnapshotRule(seconds=60, changes=10000),
        ]
    )
    """RDB snapshot rules (Redis's own defaults); empty for no snapshots."""


class AclUser(SpecModel):
    """An ACL user of the application: a password from a secret, keys and commands it may use."""

    password_secret: SecretName
    """Environment variable holding the password (or NAME_FILE naming a file that does)."""
    key_patterns: list[KeyPattern] = Field(default=list(PLATFORM_KEY_PATTERNS), min_length=1)
    """Keys the user may touch (ACL '~pattern'); the platform's key families by default."""
    allowed: list[CommandRule] = Field(min_length=1)
    """Commands and @categories granted, in order, after '-@all'."""
    denied: list[CommandRule] = Field(default=list(ALWAYS_DENIED))
    """Commands and @categories taken away again after ``allowed``; must keep every one of
    @admin, @dangerous, flushall, flushdb, config, debug, shutdown and keys."""

    @model_validator(mode="after")
    def _keeps_the_dangerous_ones_out(self) -> Self:
        kept_out = [rule for rule in ALWAYS_DENIED if rule not in self.denied]
        if kept_out:
            raise ValueError(f"denied must include {', '.join(kept_out)}")
        return self


class AppUser(AclUser):
    """The application: reads and writes its keys."""

    allowed: list[CommandRule] = Field(
        default=["@read", "@write", "@connection", "@transaction"], min_length=1
    )
    """Commands and @categories granted, in order, after '-@all': reads, writes, connection
    handling and MULTI/EXEC (redis-py pipelines are transactions by default)."""


class ReaderUser(AclUser):
    """Dashboards and analysts: read its keys, never write."""

    allowed: list[CommandRule] = Field(
        default=["@read", "@connection", "@transaction"], min_length=1
    )
    """Commands and @categories granted, in order, after '-@all': read-only commands."""

    @model_validator(mode="after")
    def _read_only(self) -> Self:
        """No rule may leave the reader a command Redis flags ``write``, judged against Redis's
        own command table: ``set``, ``@string`` or ``@all`` as much as ``@write``. A write that
        ``denied`` takes away again is not granted."""
        taken_away = {name for rule in self.denied for name in granted_by(rule)}
        for rule in self.allowed:
            writes = [name for name in write_commands_granted_by(rule) if name not in taken_away]
            if writes:
                shown = ", ".join(writes[:4]) + (", ..." if len(writes) > 4 else "")
                raise ValueError(
                    f"allowed: {rule!r} would let the reader write ({shown}: commands Redis "
                    f"{REDIS_VERSION} flags write); grant read commands only, e.g. @read"
                )
        return self


class Users(SpecModel):
    """The ACL users the application connects as; the built-in ``default`` user is disabled."""

    app: AppUser
    """The application's user (read and write)."""
    reader: ReaderUser
    """The read-only user."""


_MASTER_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _master_name(value: str) -> str:
    if not _MASTER_NAME.fullmatch(value):
        raise ValueError(
            "must be 1 to 64 letters, digits, '.', '_' or '-' (Sentinel's config lines and "
            "commands split on spaces)"
        )
    return value


MasterName = Annotated[
    str, AfterValidator(_master_name), Constraint("letters, digits, '.', '_', '-'; at most 64")
]
"""The name Sentinel monitors the master under (``sentinel monitor NAME ...``)."""


class Sentinel(SpecModel):
    """Redis Sentinel on every host of the inventory's ``redis`` group: one master, the other
    hosts its replicas, and a Sentinel beside each server (Debian's redis-sentinel).

    At the first deploy the group's first host (inventory order) is the master; from then on
    Sentinel decides, and a redeploy follows it. Replication and Sentinel log in as ACL users
    of their own (``replication``, ``sentinel``); the default user stays off on both servers.
    """

    master_name: MasterName = "trading"
    """The name Sentinel monitors the master under; clients ask Sentinel for it by this name."""
    port: StrictInt = Field(default=26379, ge=1, le=65535)
    """Sentinel's TCP port, on the same addresses as Redis (redis.bind)."""
    quorum: StrictInt = Field(default=2, ge=1)
    """Sentinels that must agree the master is down before a failover starts; at most the
    number of hosts in the redis group (a failover also needs a majority of them)."""
    down_after_milliseconds: StrictInt = Field(default=5000, ge=100)
    """How long the master may not answer before a Sentinel considers it down."""
    failover_timeout_milliseconds: StrictInt = Field(default=60000, ge=1000)
    """Sentinel's failover-timeout: how long before a failed failover is tried again, and the
    time replicas get to follow a new master."""
    min_replicas_to_write: StrictInt = Field(default=1, ge=0)
    """The master refuses writes unless this many replicas are connected and within
    min_replicas_max_lag (min-replicas-to-write); 0 accepts writes with no replica. At most
    the number of replicas (hosts in the redis group less one)."""
    min_replicas_max_lag: StrictInt = Field(default=10, ge=1)
    """Seconds since a replica's last acknowledgement within which it counts for
    min_replicas_to_write (min-replicas-max-lag)."""
    replication_password_secret: SecretName
    """Environment variable with the password of 'replication', the ACL user replicas log in to
    their master as (masteruser, masterauth)."""
    sentinel_password_secret: SecretName
    """Environment variable with the password of 'sentinel', the ACL user Sentinel logs in to
    Redis and to the other Sentinels as (auth-user, auth-pass, sentinel-user, sentinel-pass)."""


class Redis(SpecModel):
    """Redis from Debian's redis-server package, on a droplet."""

    bind: list[BindAddress] = Field(default=["127.0.0.1"], min_length=1)
    """Addresses Redis listens on (IPs only)."""
    port: StrictInt = Field(default=6379, ge=1, le=65535)
    """TCP port; the TLS port when tls.enabled (the plain port is then closed)."""
    protected_mode: StrictBool = True
    """Refuse clients from other hosts while no password is set (a second lock, kept on)."""
    tls: Tls = Tls()
    """Server TLS."""
    maxmemory: RedisSize
    """Most memory for data, e.g. '256mb'; writes past it evict per maxmemory_policy. Sized to the
    droplet, so no default."""
    maxmemory_policy: Literal[
        "noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random",
        "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
    ] = "volatile-lru"  # fmt: skip
    """What goes when maxmemory is reached. volatile-lru evicts only keys with a TTL (prices,
    sessions), so configuration keys without one are never lost to eviction."""
    persistence: Persistence = Persistence()
    """Append-only file and RDB snapshots."""
    users: Users
    """The application's ACL users."""
    admin_password_secret: SecretName
    """Environment variable with the password of 'admin', the deploy's own ACL user (ACL LOAD,
    CONFIG SET, checks), which the deploy reaches over the local Unix socket."""
    sentinel: Sentinel | None = None
    """Sentinel and replication across the redis group's hosts (3 or more); unset: one Redis
    host, on its own."""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        secrets = [user.password_secret for _, user in self.users] + [self.admin_password_secret]
        if self.sentinel is not None:
            secrets += [
                self.sentinel.replication_password_secret,
                self.sentinel.sentinel_password_secret,
            ]
        if len(set(secrets)) != len(secrets):
            raise ValueError(f"every user needs its own password secret, got {secrets}")
        if self.sentinel is not None and self.sentinel.port == self.port:
            raise ValueError(
                f"sentinel.port {self.sentinel.port} is redis.port too: Sentinel needs a port "
                "of its own (26379 by default)"
            )
        if self.sentinel is not None and self.tls.enabled:
            raise ValueError(
                "sentinel is declared with tls.enabled: replication and Sentinel over TLS are "
                "not supported yet; declare one or the other"
            )
        return self
