"""WAL archiving and backups of the TimescaleDB cluster, with pgBackRest.

Every finished WAL segment is pushed to a pgBackRest repository by PostgreSQL's
``archive_command``; systemd timers take full and differential backups into the same repository
and pgBackRest expires the old ones. A restore to any moment since the oldest kept full backup
needs that repository only, which is why it should not live on the database droplet alone:
``posix`` (a directory on the host, the default, so that nothing is ever unarchived) is for
a volume or a host whose disk is copied elsewhere; ``s3`` puts it in S3-compatible object storage
such as DigitalOcean Spaces; ``sftp`` on a host of its own (the inventory's ``backup_repository``
group, or any SSH server), which every member of a cluster reaches and which outlives them all.

Defaults live here and nowhere else: the templates have none (``StrictUndefined``), the deploy
computes nothing itself.
"""

import base64
import binascii
import ipaddress
import re
from pathlib import PurePosixPath
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, BeforeValidator, Discriminator, Field, Tag, model_validator

from datalayer.render import has_control_characters
from datalayer.spec.base import Constraint, SpecModel
from datalayer.spec.types import (
    AbsolutePath,
    Identifier,
    ManagedDirectory,
    SecretName,
    StrictInt,
    tz_database_zones,
)

# --- systemd calendar events (systemd.time(7)), as OnCalendar= takes them ----------------------
#
# A structural check, so that a typo stops the deploy here rather than leaving a timer that
# systemd refuses to load: an optional weekday list, an optional date, an optional time and an
# optional time zone, in that order; or one of systemd's shorthands.
_CALENDAR_SHORTHANDS = frozenset(
    {
        "minutely", "hourly", "daily", "weekly", "monthly", "yearly", "annually", "quarterly",
        "semiannually",
    }
)  # fmt: skip
_WEEKDAY = (
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
)
_WEEKDAY_RANGE = rf"{_WEEKDAY}(?:\.\.{_WEEKDAY})?"
_WEEKDAYS = re.compile(rf"{_WEEKDAY_RANGE}(?:,{_WEEKDAY_RANGE})*", re.IGNORECASE)
_VALUE = r"(?:\*|[0-9]+(?:\.\.[0-9]+)?)(?:/[0-9]+)?"
_VALUES = rf"{_VALUE}(?:,{_VALUE})*"
_DATE = re.compile(rf"(?:{_VALUES}-)?{_VALUES}[-~]{_VALUES}")
_TIME = re.compile(rf"{_VALUES}:{_VALUES}(?::{_VALUES}(?:\.[0-9]+)?)?")
_TIME_ZONE = re.compile(r"UTC|[A-Z][A-Za-z_]+(?:/[A-Za-z0-9_+-]+)+")


# What each field of a date and a time may hold (systemd's src/shared/calendarspec.c refuses
# the rest: years before 1970 or after 2199, month 13, hour 24, second 60, a repetition of 0).
_FIELD_RANGES = {
    "year": (1970, 2199), "month": (1, 12), "day": (1, 31),
    "hour": (0, 23), "minute": (0, 59), "second": (0, 59),
}  # fmt: skip


def _calendar_event(value: str) -> str:
    # OnCalendar= ends at the line break: a value split over lines would leave the timer its
    # first line and systemd the rest to misread as settings of their own.
    if has_control_characters(value):
        raise ValueError(
            "cannot hold line breaks, tabs or other control characters: it is written into a "
            "systemd unit"
        )
    tokens = value.split()
    if len(tokens) == 1 and tokens[0].lower() in _CALENDAR_SHORTHANDS:
        return value
    parts = {}
    for part, pattern in (
        ("weekdays", _WEEKDAYS), ("date", _DATE), ("time", _TIME), ("time zone", _TIME_ZONE)
    ):  # fmt: skip
        if tokens and pattern.fullmatch(tokens[0]):
            parts[part] = tokens.pop(0)
    if tokens or not parts.keys() & {"weekdays", "date", "time"}:
        raise ValueError(
            "is not a systemd calendar event (OnCalendar=): [weekdays] [date] [time] [time zone], "
            "e.g. 'Sun *-*-* 01:00:00' or 'Mon..Sat *-*-* 01:00:00', or a shorthand such as "
            "'daily'"
        )
    fields: list[tuple[str, str]] = []
    if "date" in parts:
        # '~' counts days back from the month's end ('~1' is the last day): also 1 to 31.
        date = parts["date"].replace("~", "-").split("-")
        names = ("year", "month", "day")[-len(date) :]
        fields += list(zip(names, date, strict=True))
    if "time" in parts:
        clock = parts["time"].split(":")
        clock[-1] = clock[-1].split(".")[0]  # a second's fraction ('00.5') is free
        fields += list(zip(("hour", "minute", "second"), clock, strict=False))
    for name, text in fields:
        problem = _out_of_range(text, *_FIELD_RANGES[name])
        if problem:
            raise ValueError(f"is not a systemd calendar event: {name} {problem}")
    zone = parts.get("time zone")
    if zone is not None and zone not in tz_database_zones():
        raise ValueError(f"is not a systemd calendar event: {zone!r} is not a tz database zone")
    return value


def _out_of_range(text: str, low: int, high: int) -> str | None:
    """Why one field (``5``, ``1..5``, ``*/6``, ``0,30``) is refused, if it is."""
    for value in text.split(","):
        base, _, repeat = value.partition("/")
        if repeat and int(repeat) == 0:
            return f"{value} repeats every 0"
        if base == "*":
            continue
        start, _, end = base.partition("..")
        numbers = [int(start)] + ([int(end)] if end else [])
        for number in numbers:
            if not low <= number <= high:
                return f"{number} is outside {low}..{high}"
        if end and int(end) < int(start):
            return f"range {base} runs backwards"
    return None


CalendarEvent = Annotated[
    str,
    AfterValidator(_calendar_event),
    Constraint("a systemd calendar event (systemd.time(7)) within its ranges, or a shorthand"),
]
"""When a systemd timer fires, in systemd.time(7)'s calendar event syntax."""

# PostgreSQL's units for a time setting whose base unit is seconds (archive_timeout).
_SECONDS_SETTING = re.compile(r"0|[1-9][0-9]*(?:s|min|h|d)?")


def _seconds_setting(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"expected a duration such as '60s' or '5min', got {value!r}")
    text = str(value)
    if not _SECONDS_SETTING.fullmatch(text):
        raise ValueError(
            "is not a PostgreSQL duration in whole seconds or larger units: a number and "
            "s, min, h or d (e.g. '60s', '5min'), or 0 to switch it off"
        )
    return text


SecondsSetting = Annotated[
    str, BeforeValidator(_seconds_setting), Constraint("whole s, min, h or d (e.g. `60s`), or 0")
]

_SECONDS_PER_UNIT = {"": 1, "s": 1, "min": 60, "h": 3600, "d": 86400}


def seconds_of(setting: str) -> int:
    """A :data:`SecondsSetting`'s value in seconds (``'5min'`` is 300), as PostgreSQL reads it."""
    number = setting.rstrip("smhind")
    return int(number) * _SECONDS_PER_UNIT[setting[len(number) :]]


_HOST_NAME = re.compile(
    r"(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*"
)
# S3's bucket naming rules (also DigitalOcean Spaces'): 3 to 63 lower-case letters, digits, dots
# and dashes, starting and ending with a letter or digit.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_REGION = re.compile(r"[a-z0-9][a-z0-9-]*")


def _host_name(value: str) -> str:
    if not _HOST_NAME.fullmatch(value):
        raise ValueError(
            "must be a host name without scheme, port or path, "
            "e.g. 'fra1.digitaloceanspaces.com' or 's3.eu-central-1.amazonaws.com'"
        )
    return value


def _bucket(value: str) -> str:
    if not _BUCKET.fullmatch(value) or ".." in value:
        raise ValueError(
            "is not an S3 bucket name (3 to 63 lower-case letters, digits, '.' and '-', "
            "starting and ending with a letter or digit)"
        )
    return value


def _region(value: str) -> str:
    if not _REGION.fullmatch(value):
        raise ValueError("is not a region name, e.g. 'fra1' (Spaces) or 'us-east-1'")
    return value


class PosixRepository(SpecModel):
    """A repository in a directory of the database host (pgBackRest's repo1-type=posix)."""

    type: Literal["posix"] = "posix"
    """Where the repository is: 'posix' (a directory on the host, the default), 's3' (an
    S3-compatible bucket) or 'sftp' (a directory on an SSH server)."""
    path: ManagedDirectory = "/var/lib/pgbackrest"
    """The repository's directory on the host (repo1-path), owned by postgres, mode 750.
    Mount a volume here, or copy it off the droplet: a repository on the droplet's own disk is
    lost with the droplet."""


class S3Repository(SpecModel):
    """A repository in an S3-compatible bucket (pgBackRest's repo1-type=s3), e.g. DigitalOcean
    Spaces. The bucket must exist; pgBackRest does not create it."""

    type: Literal["s3"]
    """'s3': object storage."""
    endpoint: Annotated[str, AfterValidator(_host_name), Constraint("a host name")]
    """The object store's host name (repo1-s3-endpoint), e.g. 'fra1.digitaloceanspaces.com'."""
    bucket: Annotated[str, AfterValidator(_bucket), Constraint("an S3 bucket name")]
    """The bucket (repo1-s3-bucket)."""
    region: Annotated[str, AfterValidator(_region), Constraint("a-z, 0-9, -")]
    """The bucket's region (repo1-s3-region), e.g. 'fra1' for Spaces in Frankfurt."""
    path: AbsolutePath
    """Where in the bucket the repository lives (repo1-path), e.g. '/trading-prod'; one per
    environment, so that environments sharing a bucket never share a repository."""
    uri_style: Literal["host", "path"] = "host"
    """'host' (bucket.endpoint, as Spaces and AWS expect) or 'path' (endpoint/bucket, for
    stores without per-bucket host names)."""
    access_key_secret: SecretName
    """Environment variable holding the access key ID (or NAME_FILE naming a file that
    does); written to a file only postgres can read, never to a command line."""
    secret_key_secret: SecretName
    """Environment variable holding the secret access key (or NAME_FILE naming a file)."""
    ca_file: AbsolutePath | None = None
    """CA bundle on the host that the store's certificate must chain to
    (repo1-storage-ca-file), for a self-hosted store with a private CA; unset: the system's."""

    @model_validator(mode="after")
    def _two_secrets(self) -> Self:
        if self.access_key_secret == self.secret_key_secret:
            raise ValueError("access_key_secret and secret_key_secret must name different secrets")
        return self


BACKUP_REPOSITORY_GROUP = "backup_repository"
"""The inventory group whose one host serves an SFTP repository that declares no host."""

# A Unix account name as Debian's adduser takes it (its NAME_REGEX default, adduser.conf(5)):
# the SFTP user is created on the repository host under this name.
_UNIX_USER = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
# The accounts that own the system or its services: giving one of them an SFTP-only login in a
# chroot would lock it out of everything else it does.
_RESERVED_USERS = frozenset({"root", "postgres", "sshd", "nobody", "daemon", "bin", "sys"})

# The host key algorithms OpenSSH's sshd offers by default and libssh2 1.11 (Debian 13) checks
# a known_hosts entry of: pgBackRest 2.55 maps these (src/storage/sftp/storage.c:45-93 of
# release/2.55.0, storageSftpKnownHostKeyType) and DSA, which Debian 13's OpenSSH 10.0 lacks.
HOST_KEY_TYPES = (
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-rsa",
)


def _sftp_host(value: str) -> str:
    try:
        ipaddress.ip_address(value)
        return value
    except ValueError:
        pass
    if not _HOST_NAME.fullmatch(value):
        raise ValueError(
            "must be a host name or an IP address without user, port or path, "
            "e.g. 'backup-1.internal' or '10.110.0.30'"
        )
    return value


def _unix_user(value: str) -> str:
    if not _UNIX_USER.fullmatch(value):
        raise ValueError(
            "is not a Unix user name (a-z, 0-9, '_', '-', starting with a letter or '_', "
            "at most 32)"
        )
    if value in _RESERVED_USERS:
        raise ValueError(
            "is a system account: the SFTP user is locked into the repository, so it needs an "
            "account of its own (e.g. 'pgbackrest')"
        )
    return value


def _host_key(value: str) -> str:
    """An OpenSSH public key line (``ssh-ed25519 AAAA... [comment]``): the key type, and a
    base64 blob that starts with the same type, as ``ssh-keygen`` and sshd write them."""
    fields = value.split()
    if len(fields) < 2 or fields[0] not in HOST_KEY_TYPES:
        raise ValueError(
            "is not an SSH public host key line (TYPE BASE64, e.g. the content of "
            f"/etc/ssh/ssh_host_ed25519_key.pub; TYPE one of {', '.join(HOST_KEY_TYPES)})"
        )
    try:
        blob = base64.b64decode(fields[1], validate=True)
    except binascii.Error:
        raise ValueError("holds a key that is not base64") from None
    length = int.from_bytes(blob[:4], "big")
    if blob[4 : 4 + length] != fields[0].encode():
        raise ValueError(f"holds a key that is not of type {fields[0]}")
    return " ".join(fields[:2])


def _below_root(value: str) -> str:
    """The repository needs a directory of its own below the SFTP user's root, which is root's;
    and the deploy hands each directory of the path to that user, so none may climb out."""
    parts = PurePosixPath(value).parts[1:]
    if not parts:
        raise ValueError(
            "must be a directory below /: the root of the SFTP user's view is not its own"
        )
    if {".", ".."} & set(value.split("/")):
        raise ValueError("cannot hold '.' or '..': each of its directories is the SFTP user's")
    return value


SftpHost = Annotated[str, AfterValidator(_sftp_host), Constraint("a host name or IP address")]
SftpUser = Annotated[
    str, AfterValidator(_unix_user), Constraint("a Unix user name, not a system account")
]
SftpPath = Annotated[AbsolutePath, AfterValidator(_below_root), Constraint("below /")]
HostKey = Annotated[
    str,
    AfterValidator(_host_key),
    Constraint(
        f"an SSH public host key line: TYPE BASE64, TYPE one of {', '.join(HOST_KEY_TYPES)}"
    ),
]


class SftpRepository(SpecModel):
    """A repository on an SSH server, over SFTP (pgBackRest's repo1-type=sftp, 2.46 and
    later): one host that every member of a cluster reaches and that outlives any of them.

    Without ``host``, the repository is the one host of the inventory's ``backup_repository``
    group, at its ``private_address``: the deploy makes it an SFTP-only server (its user
    chrooted into the repository, no shell, no forwarding) and pins its host keys from the
    host itself. With ``host``, it is any SFTP server, whose ``host_key`` the spec pins.
    """

    type: Literal["sftp"]
    """'sftp': a directory on an SSH server."""
    host: SftpHost | None = None
    """The SFTP server (repo1-sftp-host); unset: the private_address of the one host of the
    inventory's backup_repository group, which the deploy sets up."""
    port: StrictInt = Field(default=22, ge=1, le=65535)
    """Its SSH port (repo1-sftp-host-port)."""
    user: SftpUser = "pgbackrest"
    """The SFTP user (repo1-sftp-host-user); on a backup_repository host the deploy creates it,
    chrooted into the repository, with no shell and nothing else it may do."""
    path: SftpPath = "/pgbackrest"
    """The repository's directory as the SFTP user sees it (repo1-path); on a backup_repository
    host, inside the user's chroot."""
    private_key_secret: SecretName
    """Environment variable holding the members' SSH private key (or NAME_FILE naming its
    file): an unencrypted OpenSSH key (ed25519, ECDSA or RSA), written on each member mode 600
    for postgres only; its public key is what the repository host authorizes."""
    host_key: HostKey | None = None
    """The server's public host key (a line of its /etc/ssh/ssh_host_*_key.pub), pinned in
    the members' known hosts file; required with ``host``. Unset: the deploy reads the
    backup_repository host's own keys over its SSH connection."""

    @model_validator(mode="after")
    def _host_key_with_host(self) -> Self:
        if self.host is not None and self.host_key is None:
            raise ValueError(
                f"host {self.host!r} needs host_key: a declared SFTP server's host key must be "
                "pinned (a line of its /etc/ssh/ssh_host_ed25519_key.pub)"
            )
        if self.host is None and self.host_key is not None:
            raise ValueError(
                "host_key is for a declared host: the backup_repository host's keys are read "
                "from the host itself"
            )
        return self


_REPOSITORY_TYPES = ("posix", "s3", "sftp")


def _known_repository_type(value: Any) -> Any:
    """Refuse an unknown type with a message naming it (the union's own error cannot)."""
    if isinstance(value, dict) and value.get("type", "posix") not in _REPOSITORY_TYPES:
        raise ValueError(
            f"type {value['type']!r} is not a repository type (use one of "
            f"{', '.join(_REPOSITORY_TYPES)})"
        )
    return value


def _repository_type(value: Any) -> str | None:
    """The repository's type; 'posix' when not given, so ``{path: /backups}`` is enough."""
    if isinstance(value, dict):
        found = value.get("type", "posix")
        return found if isinstance(found, str) else None
    return getattr(value, "type", None)


Repository = Annotated[
    Annotated[PosixRepository, Tag("posix")]
    | Annotated[S3Repository, Tag("s3")]
    | Annotated[SftpRepository, Tag("sftp")],
    Discriminator(
        _repository_type,
        custom_error_type="repository_type",
        custom_error_message="expected a mapping with a type of 'posix', 's3' or 'sftp'",
    ),
    BeforeValidator(_known_repository_type),
]


class Backup(SpecModel):
    """WAL archiving and scheduled backups with pgBackRest. Always on: a droplet that archives
    nothing cannot be restored to any moment at all."""

    stanza: Identifier = "main"
    """pgBackRest's name for this cluster in the repository (--stanza); also in archive_command."""
    repository: Repository = PosixRepository()
    """Where backups and archived WAL are kept (pgBackRest's repo1)."""
    retention_full: StrictInt = Field(default=2, ge=1, le=9999999)
    """Full backups kept (repo1-retention-full); older ones, the differential backups based on
    them, and the WAL only they need are expired after each backup."""
    schedule_full: CalendarEvent = "Sun *-*-* 01:00:00"
    """When the full backup runs (systemd OnCalendar=, in the host's time zone)."""
    schedule_differential: CalendarEvent = "Mon..Sat *-*-* 01:00:00"
    """When the differential backup runs (OnCalendar=); only the changes since the last full
    one. With no full backup yet, pgBackRest takes a full one instead."""
    compress_type: Literal["none", "bz2", "gz", "lz4", "zst"] = "zst"
    """Compression of backups and archived WAL (compress-type); zst packs about as tight as gz
    at a fraction of the CPU time."""
    process_max: StrictInt = Field(default=1, ge=1, le=999)
    """Parallel processes for backup and restore (process-max); each compresses on a core of
    its own."""
    archive_timeout: SecondsSetting = "60s"
    """PostgreSQL's archive_timeout: a WAL segment with writes in it is archived after at most
    this long even when not full, bounding what losing the host loses. 0 switches it off."""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.schedule_full == self.schedule_differential:
            raise ValueError(
                "schedule_full and schedule_differential must differ: pgBackRest runs one backup "
                "of a stanza at a time, so the second would fail every time"
            )
        return self
