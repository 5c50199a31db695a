"""Reusable field types of the environment spec: sizes, names, addresses.

They parse at the edge (the YAML file) so that everything downstream works with plain, checked
values: bytes as ints, networks as ``ipaddress`` objects.
"""

import ipaddress
import re
import zoneinfo
from functools import cache
from pathlib import PurePosixPath
from typing import Annotated, Any

from pydantic import AfterValidator, AllowInfNan, BeforeValidator, Field, PlainSerializer, Strict

from datalayer.render import has_control_characters
from datalayer.spec.base import Constraint
from datalayer.timescaledb.keywords import RESERVED_KEYWORDS
from datalayer.units import format_pg_memory, parse_memory

StrictInt = Annotated[int, Strict()]
"""A whole number as YAML writes it: never a boolean (``port: true`` is not port 1), a float or
a quoted string."""
StrictBool = Annotated[bool, Strict()]
"""true or false as YAML writes them: never 1, 0 or a string such as 'off'."""
StrictFloat = Annotated[float, Strict(), AllowInfNan(False)]

Port = Annotated[StrictInt, Field(ge=1, le=65535)]
"""A TCP port number."""
"""A number as YAML writes it (2 or 0.5): never a boolean, a quoted string, or YAML's .inf and
.nan (which a limit in nanoseconds or bytes cannot hold)."""

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_SETTING_NAME = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$")


def _memory_from_yaml(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"expected a size such as '4GB', got {value!r}")
    if isinstance(value, int) or value.strip().isdigit():
        raise ValueError("needs a unit, e.g. '4GB' (a bare number would be bytes; write '512B')")
    return parse_memory(value)


def _positive_size(value: int) -> int:
    if value <= 0:
        raise ValueError("must be larger than zero")
    return value


MemorySize = Annotated[
    int,
    BeforeValidator(_memory_from_yaml),
    AfterValidator(_positive_size),
    PlainSerializer(format_pg_memory, return_type=str),
    Constraint("a size with a unit: B, kB, MB, GB, TB (1kB = 1024 B); above zero"),
]
"""A size with a unit as PostgreSQL writes it: '512MB', '4GB' (1kB = 1024 B)."""


def _size_or_zero(value: Any) -> int:
    if type(value) is int and value == 0:
        return 0
    return _positive_size(_memory_from_yaml(value))


def _size_or_zero_text(num_bytes: int) -> int | str:
    return 0 if num_bytes == 0 else format_pg_memory(num_bytes)


MemorySizeOrZero = Annotated[
    int,
    BeforeValidator(_size_or_zero),
    PlainSerializer(_size_or_zero_text, return_type=int | str),
    Constraint("0, or a size with a unit: B, kB, MB, GB, TB (1kB = 1024 B)"),
]
"""0, or a :data:`MemorySize`: one type rather than a union, whose refusal would be one line per
variant, each naming pydantic's validator functions instead of the key."""


def _identifier(value: str) -> str:
    if not _IDENTIFIER.fullmatch(value):
        raise ValueError(
            "must be a lower-case SQL identifier (a-z, 0-9, _; starting with a letter or _; "
            "at most 63 characters)"
        )
    if value in RESERVED_KEYWORDS:
        raise ValueError("is a key word PostgreSQL reserves; SQL would need it quoted")
    return value


_IDENTIFIER_RULE = "a-z, 0-9, _ (not a digit first), at most 63; not a reserved SQL key word"
Identifier = Annotated[str, AfterValidator(_identifier), Constraint(_IDENTIFIER_RULE)]
"""A name that needs no quoting in SQL, pg_hba.conf or shell: roles, databases."""

# Names PostgreSQL refuses for a new role ('role name "public" is reserved', CREATE ROLE in
# PostgreSQL 17.12), or that are already its superuser.
_RESERVED_ROLE_NAMES = {
    "public": "PostgreSQL reserves it for every role",
    "none": "PostgreSQL reserves it",
    "postgres": "it is the superuser, which the hooks would strip of SUPERUSER",
}
# Databases every cluster has: the hooks would take one over as the application's.
_RESERVED_DATABASE_NAMES = {
    "postgres": "it is the maintenance database the tools connect to",
    "template0": "it is the pristine template every restore needs",
    "template1": "it is the template every new database is copied from",
}
# pg_hba.conf's own words in its database column.
HBA_DATABASE_KEYWORDS = frozenset({"all", "sameuser", "samerole", "replication"})


def _role_name(value: str) -> str:
    if value.startswith("pg_"):
        raise ValueError(
            "starts with pg_, which PostgreSQL reserves for its own roles (pg_monitor, ...)"
        )
    if value in _RESERVED_ROLE_NAMES:
        raise ValueError(f"cannot be a role the spec manages: {_RESERVED_ROLE_NAMES[value]}")
    return value


def _database_name(value: str) -> str:
    if value in _RESERVED_DATABASE_NAMES:
        raise ValueError(f"cannot be the application's database: {_RESERVED_DATABASE_NAMES[value]}")
    if value in HBA_DATABASE_KEYWORDS:
        raise ValueError("is a pg_hba.conf key word, which a rule could not name")
    return value


RoleName = Annotated[
    str,
    AfterValidator(_identifier),
    AfterValidator(_role_name),
    Constraint(f"{_IDENTIFIER_RULE}; not pg_*, public, none or postgres"),
]
"""A role the hooks create and manage: a plain identifier, not pg_*, public, none or postgres."""

DatabaseName = Annotated[
    str,
    AfterValidator(_identifier),
    AfterValidator(_database_name),
    Constraint(f"{_IDENTIFIER_RULE}; not postgres, template0, template1 or a pg_hba.conf key word"),
]
"""The application's database: a plain identifier, not postgres, template0 or template1."""


def _setting_name(value: str) -> str:
    if not _SETTING_NAME.fullmatch(value):
        raise ValueError("is not a PostgreSQL setting name (lower case, optionally 'prefix.name')")
    return value


SettingName = Annotated[
    str, AfterValidator(_setting_name), Constraint("a setting PostgreSQL knows (lower case)")
]


def _network(value: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    if not isinstance(value, str):
        raise ValueError(f"expected an address or CIDR such as '10.0.0.0/16', got {value!r}")
    try:
        return ipaddress.ip_network(value, strict=True)
    except ValueError as error:
        raise ValueError(f"is not a valid address or CIDR ({error})") from None


Network = Annotated[
    ipaddress.IPv4Network | ipaddress.IPv6Network,
    BeforeValidator(_network),
    PlainSerializer(str, return_type=str),
    Constraint("an address or CIDR, host bits clear"),
]


def _listen_address(value: Any) -> str:
    if value in ("*", "localhost"):
        return str(value)
    if not isinstance(value, str):
        raise ValueError(f"expected an IP address, 'localhost' or '*', got {value!r}")
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError("is not an IP address, 'localhost' or '*'") from None


ListenAddress = Annotated[
    str, BeforeValidator(_listen_address), Constraint("an IP address, `localhost` or `*`")
]


def _config_text(value: str) -> str:
    if has_control_characters(value):
        raise ValueError(
            "cannot hold line breaks, tabs or other control characters: it is written into a "
            "configuration file"
        )
    return value


ConfigText = Annotated[str, AfterValidator(_config_text), Constraint("one line of text")]
"""Free text that a configuration file carries on one line (a comment, a path): no control
characters, since no file's grammar here can carry a line break inside a value."""


def _absolute_path(value: str) -> str:
    if not PurePosixPath(value).is_absolute():
        raise ValueError("must be an absolute path on the host")
    return value


AbsolutePath = Annotated[
    str,
    AfterValidator(_config_text),
    AfterValidator(_absolute_path),
    Constraint("an absolute path, one line"),
]
"""A file on the managed host."""


@cache
def tz_database_zones() -> frozenset[str]:
    """The zones of the tz database on this machine (Python's zoneinfo reads the system's, as
    Debian's PostgreSQL and systemd do); a ValueError when there is none to judge against."""
    zones = frozenset(zoneinfo.available_timezones())
    if not zones:
        raise ValueError("cannot be checked: this machine has no tz database (install tzdata)")
    return zones


def _time_zone(value: str) -> str:
    # PostgreSQL matches zone names in any case.
    if value.lower() not in {zone.lower() for zone in tz_database_zones()}:
        raise ValueError("is not a time zone of the tz database, e.g. 'UTC' or 'Europe/Berlin'")
    return value


TimeZoneName = Annotated[
    str, AfterValidator(_time_zone), Constraint("a tz database zone, e.g. `Europe/Berlin`")
]
"""A zone of the tz database (zoneinfo.available_timezones()), e.g. 'UTC', 'Europe/Berlin'."""

# Directories of the operating system, and those the packages or this deploy already own with
# other owners and modes, that a deploy must never take over: chowning or replacing one of them
# (or a file directly in one, whose directory the deploy creates and chowns) would hand the
# system to a service account, or have two deploy steps fight over one directory.
_SYSTEM_DIRECTORIES = frozenset(
    {
        "/", "/etc", "/home", "/media", "/mnt", "/opt", "/root", "/run", "/srv", "/tmp", "/var",
        "/var/backups", "/var/cache", "/var/lib", "/var/local", "/var/lock", "/var/log",
        "/var/mail", "/var/opt", "/var/run", "/var/spool", "/var/tmp", "/etc/ssl",
        "/etc/ssl/private", "/etc/ssl/certs", "/etc/ssh", "/etc/systemd", "/etc/systemd/system",
        "/etc/sudoers.d", "/etc/pam.d", "/etc/security", "/etc/cron.d", "/etc/apt",
        "/etc/default", "/etc/postgresql", "/etc/redis", "/var/lib/apt", "/var/lib/dpkg",
        "/var/lib/systemd", "/var/lib/postgresql", "/var/lib/redis", "/var/lib/influxdb",
        "/var/log/postgresql", "/etc/apt/keyrings", "/etc/pgbackrest", "/etc/pgbackrest/conf.d",
        "/etc/influxdb",
    }
)  # fmt: skip
# Trees that hold only the system's programs, libraries and kernel interfaces: nothing a deploy
# creates belongs anywhere inside them.
_SYSTEM_TREES = ("/bin", "/boot", "/dev", "/lib", "/lib32", "/lib64", "/libx32", "/proc",
                 "/sbin", "/sys", "/usr")  # fmt: skip
# Trees whose owners and modes guard logins and privileges: homes with their ssh keys, sshd,
# sudo, PAM, cron, systemd's units, apt's sources and keys. A directory chowned to a service
# account inside one hands that guard over (sshd's StrictModes refuses the keys of a ~/.ssh that
# postgres owns), and a file replaced inside one (root's authorized_keys) is worse.
_GUARDED_TREES = ("/root", "/home", "/etc/ssh", "/etc/sudoers.d", "/etc/pam.d", "/etc/security",
                  "/etc/cron.d", "/etc/systemd", "/etc/apt")  # fmt: skip


def _plain_absolute_path(value: str) -> PurePosixPath:
    path = PurePosixPath(_absolute_path(value))
    if any(part in (".", "..") for part in value.split("/")) or "//" in value:
        raise ValueError("must be a plain absolute path (no '.', '..' or '//')")
    return path


def _system_reason(path: PurePosixPath) -> str | None:
    text = str(path)
    if text in _SYSTEM_DIRECTORIES:
        return f"{text} is a system directory"
    for tree in _SYSTEM_TREES:
        if text == tree or text.startswith(tree + "/"):
            return f"{text} is inside {tree}, which holds the system's own files"
    for tree in _GUARDED_TREES:
        if text.startswith(tree + "/"):
            return f"{text} is inside {tree}, whose owners and modes guard logins"
    return None


def _managed_directory(value: str) -> str:
    reason = _system_reason(_plain_absolute_path(value))
    if reason is not None:
        raise ValueError(
            f"cannot be the deploy's: {reason}, which it would create, chown and chmod; "
            "use a directory of its own, e.g. /var/lib/pgbackrest"
        )
    return value


def _managed_file(value: str) -> str:
    path = _plain_absolute_path(value)
    reason = _system_reason(path) or _system_reason(path.parent)
    if reason is not None:
        raise ValueError(
            f"cannot be the deploy's: {reason}, and the deploy replaces this file and chowns "
            "its directory; use a directory of its own, e.g. /etc/influxdb/tokens/app.token"
        )
    return value


ManagedDirectory = Annotated[
    str,
    AfterValidator(_managed_directory),
    Constraint(
        "an absolute path of its own: no system directory (/, /etc, /var/lib, /usr/...), "
        "nothing under /root, /home, /etc/ssh..."
    ),
]
"""A directory on the host that the deploy creates and hands to a service account: never a
system directory such as /, /etc, /var/lib or anything under /usr."""

ManagedFile = Annotated[
    str,
    AfterValidator(_managed_file),
    Constraint(
        "an absolute path in a directory of its own: not in /etc, /root, /var/lib..., "
        "nor under /root, /home, /etc/ssh..."
    ),
]
"""A file on the host that the deploy replaces, in a directory it creates and hands to a service
account: neither may be a system file or directory (/etc/passwd, a file directly in /etc)."""

SecretName = Annotated[
    str,
    Field(pattern=r"^[A-Z][A-Z0-9_]*$"),
    Constraint("an environment variable name: A-Z, 0-9, _"),
]
"""An environment variable holding a secret (or NAME_FILE naming a file that does)."""


_INTERVAL = re.compile(r"^([1-9][0-9]{0,5}) (second|minute|hour|day|week|month|year)s?$")
# Lengths used only to compare two intervals in the spec (compress-after against drop-after);
# the server receives the text itself.
_INTERVAL_SECONDS = {
    "second": 1,
    "minute": 60,
    "hour": 3600,
    "day": 86400,
    "week": 7 * 86400,
    "month": 30 * 86400,
    "year": 365 * 86400,
}


def _interval(value: Any) -> str:
    if not isinstance(value, str) or not _INTERVAL.fullmatch(value):
        raise ValueError(
            "is not a supported interval (a count and a unit: '7 days', '1 hour', '2 years'; "
            "units second, minute, hour, day, week, month, year)"
        )
    return value


def interval_seconds(value: str) -> int:
    """Approximate length of an interval accepted by :data:`Interval`, for comparisons."""
    match = _INTERVAL.fullmatch(value)
    assert match is not None, value
    return int(match.group(1)) * _INTERVAL_SECONDS[match.group(2)]


Interval = Annotated[
    str,
    BeforeValidator(_interval),
    Constraint("a count and a unit: second, minute, hour, day, week, month, year"),
]
"""A PostgreSQL interval in its plainest form, e.g. '7 days': the spec refuses anything that
PostgreSQL and TimescaleDB might read differently."""


def _qualified_name(value: Any) -> str:
    if not isinstance(value, str) or value.count(".") != 1:
        raise ValueError("is not a schema-qualified name such as 'market_data.candles'")
    for part in value.split("."):
        _identifier(part)
    return value


QualifiedName = Annotated[
    str, BeforeValidator(_qualified_name), Constraint("`schema.name`, both identifiers")
]
"""A table or view as ``schema.name``, both parts plain SQL identifiers."""


def _extension_version(value: Any) -> str:
    # Timescale's release versions: major.minor.patch, with a patch-release suffix ('-p0').
    if not isinstance(value, str) or not re.fullmatch(
        r"[0-9]{1,3}(\.[0-9]{1,3}){2}(-p[0-9]+)?", value
    ):
        raise ValueError("is not an extension version such as '2.19.3' (quote it in YAML)")
    return value


ExtensionVersion = Annotated[
    str, BeforeValidator(_extension_version), Constraint("a release such as `2.19.3`, quoted")
]
"""A timescaledb release as the extension names it, e.g. '2.19.3' (quoted in YAML)."""


_PROMETHEUS_DURATION = re.compile(r"^([1-9][0-9]{0,5})(ms|s|m|h|d|w)$")
_PROMETHEUS_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def _prometheus_duration(value: Any) -> str:
    if not isinstance(value, str) or not _PROMETHEUS_DURATION.fullmatch(value):
        raise ValueError(
            "is not a duration in Prometheus's form (a count and one unit: '30s', '5m', '2h', "
            "'7d'; units ms, s, m, h, d, w)"
        )
    return value


def prometheus_duration_seconds(value: str) -> float:
    """Seconds of a duration accepted by :data:`PrometheusDuration`, for comparisons."""
    match = _PROMETHEUS_DURATION.fullmatch(value)
    assert match is not None, value
    return int(match.group(1)) * _PROMETHEUS_UNIT_SECONDS[match.group(2)]


PrometheusDuration = Annotated[
    str,
    BeforeValidator(_prometheus_duration),
    Constraint("a count and one unit: ms, s, m, h, d, w (e.g. '5m')"),
]
"""A duration as Prometheus writes it (scrape intervals, a rule's ``for:``), in its plainest form
of one unit, which Prometheus's parser (``model.ParseDuration``) reads as written."""
