"""The TimescaleDB part of an environment: what to install, how to size it, who may connect.

Defaults live here and nowhere else: templates have none (``StrictUndefined``), deploys and Pulumi
components compute nothing themselves but ask this model and the tuning function.
"""

import re
from contextvars import ContextVar
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    ModelWrapValidatorHandler,
    ValidationInfo,
    field_validator,
    model_validator,
)

from datalayer.spec.backup import Backup
from datalayer.spec.base import Constraint, SpecModel
from datalayer.spec.cluster import Cluster
from datalayer.spec.policies import ContinuousAggregate, Hypertable
from datalayer.spec.tls import ServerTls
from datalayer.spec.types import (
    HBA_DATABASE_KEYWORDS,
    AbsolutePath,
    ConfigText,
    DatabaseName,
    ExtensionVersion,
    Identifier,
    ListenAddress,
    MemorySize,
    MemorySizeOrZero,
    Network,
    QualifiedName,
    RoleName,
    SecretName,
    SettingName,
    StrictBool,
    StrictInt,
    TimeZoneName,
)
from datalayer.timescaledb import catalogue
from datalayer.timescaledb.catalogue import SettingValue, setting_text
from datalayer.tuning import HostResources, StorageType, tune

SUPPORTED_POSTGRESQL_VERSIONS = catalogue.SUPPORTED_MAJORS

# PostgreSQL's own authentication methods. Those outside the two allow-lists below are rejected
# with a message that says why, rather than as an unknown word.
KNOWN_AUTH_METHODS = frozenset(
    {
        "trust", "reject", "scram-sha-256", "md5", "password", "gss", "sspi", "ident", "peer",
        "ldap", "radius", "cert", "pam", "bsd", "oauth",
    }
)  # fmt: skip
NETWORK_AUTH_METHODS = ("scram-sha-256", "cert", "reject")
LOCAL_AUTH_METHODS = ("peer", "scram-sha-256", "reject")

_HBA_NAME = re.compile(r"^\+?[a-z_][a-z0-9_]{0,62}$")

# Settings the template writes from dedicated fields; an override would be a second home for them.
SETTINGS_WITH_DEDICATED_FIELDS = {
    "listen_addresses": "timescaledb.listen_addresses",
    "port": "timescaledb.port",
    "max_connections": "timescaledb.max_connections",
    "superuser_reserved_connections": "timescaledb.superuser_reserved_connections",
    "reserved_connections": "timescaledb.reserved_connections",
    "ssl": "timescaledb.tls.enabled",
    "ssl_cert_file": "timescaledb.tls.cert_file",
    "ssl_key_file": "timescaledb.tls.key_file",
    "ssl_ca_file": "timescaledb.tls.ca_file",
    "ssl_min_protocol_version": "timescaledb.tls.min_protocol_version",
    "password_encryption": "(fixed: scram-sha-256)",
    "shared_preload_libraries": "(fixed: timescaledb)",
    "timescaledb.telemetry_level": "timescaledb.telemetry_level",
    "data_directory": "(fixed: Debian layout)",
    "hba_file": "(fixed: Debian layout)",
    "ident_file": "(fixed: Debian layout)",
    "external_pid_file": "(fixed: Debian layout)",
    "unix_socket_directories": "(fixed: Debian layout)",
    "allow_alter_system": "timescaledb.allow_alter_system",
    "timezone": "timescaledb.timezone",
    "cluster_name": "timescaledb.cluster",
    "archive_mode": "(fixed: on, for timescaledb.backup)",
    "archive_command": "(fixed: pgBackRest's archive-push, for timescaledb.backup)",
    "archive_timeout": "timescaledb.backup.archive_timeout",
}

# Dedicated fields that become a postgresql.conf setting of the same name, judged by PostgreSQL's
# catalogue like any override.
_FIELDS_THAT_ARE_SETTINGS = (
    "max_connections", "superuser_reserved_connections", "reserved_connections", "port",
    "timezone",
)  # fmt: skip


def _judged(name: str) -> Constraint:
    """The constraint of a field that is PostgreSQL's setting ``name``: what its catalogue says."""
    return Constraint(catalogue.describe(name))


def _setting_scalar(value: Any) -> Any:
    if not isinstance(value, str | int | float):  # a bool is an int
        raise ValueError("is not a setting's value: a word, a number, or true or false")
    return value


SettingInput = Annotated[SettingValue, BeforeValidator(_setting_scalar)]
"""A setting's value as the file gives it: refused in one line when it is none of the types a
setting may have, rather than in one line for each of them."""


def _not_a_debian_cluster_name(value: Any) -> Any:
    """Name the key that took over a Debian cluster name given as ``cluster``."""
    if isinstance(value, str):
        raise ValueError(
            "declares a Patroni cluster (a mapping with a scope); "
            "the Debian cluster name is timescaledb.debian_cluster"
        )
    return value


class PackageSource(StrEnum):
    """Where PostgreSQL and TimescaleDB packages come from on a droplet."""

    TIMESCALE = "timescale"
    """Timescale's signed apt repository (Community edition: compression, retention policies,
    continuous aggregates) plus the PostgreSQL project's (PGDG) repository for the server."""
    DISTRIBUTION = "distribution"
    """The distribution's own ``postgresql-N-timescaledb`` (Debian 13: Apache-2 edition only)."""


class Resources(SpecModel):
    """What the host offers PostgreSQL; tuning is computed from these, never from /proc."""

    memory: MemorySize
    """Memory available to PostgreSQL, e.g. '8GB'. Containers see the whole machine in
    /proc/meminfo, so this is declared rather than measured."""
    cpus: StrictInt = Field(gt=0)
    """CPU cores available to PostgreSQL."""
    storage: StorageType = StorageType.SSD
    """Kind of data disk: ssd, hdd or network (block storage); sets planner I/O costs."""
    wal_disk: MemorySize | None = None
    """Size of a dedicated WAL disk, if any; bounds max_wal_size as timescaledb-tune does."""

    def host_resources(self) -> HostResources:
        """The tuning function's view of these resources."""
        return HostResources(
            memory_bytes=self.memory,
            cpus=self.cpus,
            storage=self.storage,
            wal_disk_bytes=self.wal_disk,
        )


class Tls(ServerTls):
    """Server-side TLS. When enabled, every network pg_hba line becomes ``hostssl`` and
    unencrypted network logins are refused."""

    ca_file: AbsolutePath | None = None
    """CA bundle that client certificates must chain to; required by pg_hba 'cert' rules."""
    min_protocol_version: Literal["TLSv1.2", "TLSv1.3"] = "TLSv1.2"
    """Oldest TLS version accepted (ssl_min_protocol_version)."""


def _hba_names(value: str, keywords: frozenset[str]) -> str:
    for name in value.split(","):
        if name not in keywords and not _HBA_NAME.fullmatch(name):
            raise ValueError(
                f"{name!r} is neither a keyword ({', '.join(sorted(keywords))}) nor a name"
            )
    return value


def _hba_databases(value: str) -> str:
    return _hba_names(value, HBA_DATABASE_KEYWORDS)


def _hba_users(value: str) -> str:
    return _hba_names(value, frozenset({"all"}))


class HbaRule(SpecModel):
    """One pg_hba.conf line. Rules are rendered in the order given, after the fixed
    ``local all postgres peer`` line and before the final explicit reject."""

    type: Literal["local", "host", "hostssl"]
    """'local' (Unix socket) or a network line; 'host' is written as 'hostssl' when TLS is on."""
    database: Annotated[
        str,
        AfterValidator(_hba_databases),
        Constraint("the spec's database, or postgres, all, sameuser, samerole, replication"),
    ]
    """Database name(s), comma-separated, or all / sameuser / samerole / replication."""
    user: Annotated[
        str, AfterValidator(_hba_users), Constraint("declared roles, +role, postgres or all")
    ]
    """Role name(s), comma-separated, '+group' for members of a role, or all."""
    address: Network | None = None
    """Client network in CIDR form ('10.10.0.0/16', '10.10.0.5/32'); network lines only."""
    method: Annotated[
        str,
        Constraint(
            f"network lines: {', '.join(NETWORK_AUTH_METHODS)}; "
            f"local: {', '.join(LOCAL_AUTH_METHODS)}"
        ),
    ]
    """scram-sha-256, cert or reject on network lines; peer, scram-sha-256 or reject on local."""
    comment: ConfigText = Field(min_length=1)
    """Why this rule exists; written above the line."""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.method not in KNOWN_AUTH_METHODS:
            raise ValueError(f"method {self.method!r} is not a PostgreSQL authentication method")
        if self.type == "local":
            if self.address is not None:
                raise ValueError("a 'local' rule takes no address")
            if self.method not in LOCAL_AUTH_METHODS:
                raise ValueError(
                    f"method {self.method!r} is not allowed on local lines "
                    f"(use one of {', '.join(LOCAL_AUTH_METHODS)})"
                )
        else:
            if self.address is None:
                raise ValueError(f"a {self.type!r} rule needs an address (CIDR)")
            if self.method not in NETWORK_AUTH_METHODS:
                raise ValueError(
                    f"method {self.method!r} is not allowed on network lines "
                    f"(use one of {', '.join(NETWORK_AUTH_METHODS)})"
                )
        return self


class Logging(SpecModel):
    """What the server logs (to stderr, collected by Debian's pg_ctlcluster/journal)."""

    log_min_duration_statement: Annotated[str, _judged("log_min_duration_statement")] = "1s"
    """Log statements slower than this ('-1' disables)."""
    log_connections: Annotated[StrictBool, _judged("log_connections")] = True
    """Log each successful connection (audit trail of who connected from where)."""
    log_disconnections: Annotated[StrictBool, _judged("log_disconnections")] = True
    """Log session ends with their duration."""
    log_lock_waits: Annotated[StrictBool, _judged("log_lock_waits")] = True
    """Log waits longer than deadlock_timeout: the first sign of ingest contention."""
    log_checkpoints: Annotated[StrictBool, _judged("log_checkpoints")] = True
    """Log checkpoints; needed to judge max_wal_size."""
    log_temp_files: Annotated[MemorySizeOrZero, _judged("log_temp_files")] = 0
    """Log temporary files at least this large (0: all), the sign of a too small work_mem."""
    log_line_prefix: Annotated[str, _judged("log_line_prefix")] = "%m [%p] %q%u@%d "
    """Prefix of every log line (Debian's default)."""
    log_timezone: Annotated[TimeZoneName, _judged("log_timezone")] = "UTC"
    """Time zone of log timestamps; UTC like the data."""


SETTINGS_WITH_DEDICATED_FIELDS |= {
    name: f"timescaledb.logging.{name}" for name in Logging.model_fields
}


class Access(StrEnum):
    """What a login role may do with the rows of the data schemas; neither may change the schema
    itself (that is the owner role's, through the migrations)."""

    READ_WRITE = "read_write"
    """SELECT, INSERT, UPDATE, DELETE on every table and USAGE on every sequence."""
    READ_ONLY = "read_only"
    """SELECT on every table, view and continuous aggregate, including those created later."""


# The PostgreSQL version of the TimescaleDb spec being validated, for the models nested in it
# (pydantic's validation context is the loader's to give, and it gives none).
_POSTGRESQL_VERSION: ContextVar[int | None] = ContextVar("postgresql_version", default=None)

# Per-role settings that would hand a login role more than its access level grants.
FORBIDDEN_ROLE_SETTINGS = frozenset({"role", "session_authorization", "search_path"})


class LoginRole(SpecModel):
    """A role that logs in with a password; the password comes from a secret, never the spec.

    Login roles never get SUPERUSER, CREATEDB, CREATEROLE, REPLICATION or BYPASSRLS: the hooks
    set them NO and keep them so."""

    name: RoleName
    """Role name, e.g. app or reader."""
    password_secret: SecretName
    """Environment variable holding the password (or NAME_FILE naming a file that does)."""
    access: Access
    """read_write (the application) or read_only (dashboards, analysts)."""
    connection_limit: StrictInt = Field(default=-1, ge=-1)
    """Most concurrent connections for this role; -1 means no limit."""
    settings: Annotated[
        dict[SettingName, SettingInput],
        Constraint("only settings of context user, judged by PostgreSQL's catalogue"),
    ] = {}
    """Settings in force for this role in the application database, e.g. statement_timeout:
    30s (ALTER ROLE ... IN DATABASE ... SET); settings not listed are reset."""

    @field_validator("settings")
    @classmethod
    def _settings_a_login_role_may_carry(
        cls, value: dict[str, SettingValue]
    ) -> dict[str, SettingValue]:
        for name in FORBIDDEN_ROLE_SETTINGS & value.keys():
            raise ValueError(f"settings.{name} cannot be set per role (it widens what it can do)")
        version = _POSTGRESQL_VERSION.get()
        if version is None:
            return value
        for name, setting in value.items():
            label = f"settings.{name}: "
            known = _judge_setting(version, name, setting, label=label)
            if known.context != "user":
                # ALTER ROLE ... SET, run by the hooks as a superuser, would apply even a
                # superuser-only setting at each login of this role: only 'user' settings are
                # ones the role could have set for itself.
                raise ValueError(
                    f"{label}{setting!r} needs a superuser to set ({name}'s context is "
                    f"{known.context}); a login role may carry only settings of context user"
                )
        return value


class TimescaleDb(SpecModel):
    """PostgreSQL with the timescaledb extension, on a droplet or in a container."""

    version: Annotated[
        StrictInt,
        Constraint("one of " + ", ".join(map(str, SUPPORTED_POSTGRESQL_VERSIONS))),
    ]
    """PostgreSQL major version (15 to 18)."""
    package_source: PackageSource = PackageSource.TIMESCALE
    """Where droplets get packages: 'timescale' (Timescale's repository) or 'distribution'."""
    debian_cluster: Identifier = "main"
    """Debian cluster name: files live in /etc/postgresql/VERSION/CLUSTER."""
    resources: Resources
    """Host resources the tuning is computed from."""
    max_connections: Annotated[StrictInt, _judged("max_connections")] = Field(default=100, gt=0)
    """Most concurrent connections; work_mem is sized from it."""
    superuser_reserved_connections: Annotated[
        StrictInt, _judged("superuser_reserved_connections")
    ] = Field(default=3, ge=0)
    """Connections kept for superusers."""
    reserved_connections: Annotated[StrictInt, _judged("reserved_connections")] = Field(
        default=0, ge=0
    )
    """Connections kept for pg_use_reserved_connections members (PostgreSQL 16+)."""
    listen_addresses: list[ListenAddress] = Field(default=["localhost"], min_length=1)
    """Addresses the server listens on: IPs, 'localhost' or '*'."""
    port: Annotated[StrictInt, _judged("port")] = Field(default=5432, ge=1, le=65535)
    """TCP port."""
    tls: Tls = Tls()
    """Server TLS."""
    database: DatabaseName = "trading"
    """The application database the deploy creates."""
    hba: list[HbaRule] = []
    """Client authentication rules, in order."""
    roles: list[LoginRole] = []
    """Login roles with passwords from secrets."""
    owner: RoleName = "trading_owner"
    """Role that owns every schema object the migrations create and runs TimescaleDB's policy
    jobs: LOGIN (background workers need it) with no password, rejected by pg_hba.conf."""
    extension_version: ExtensionVersion | None = None
    """timescaledb extension version every database runs, e.g. '2.19.3'; none: the installed
    package's default. The hooks update to it after a package upgrade and never downgrade."""
    hypertables: dict[QualifiedName, Hypertable] = {}
    """Chunk interval, compression and retention per hypertable of sql/migrations."""
    continuous_aggregates: dict[QualifiedName, ContinuousAggregate] = {}
    """Continuous aggregates of sql/continuous_aggregates to create, with refresh policies."""
    telemetry_level: Literal["off", "basic"] = "off"
    """timescaledb.telemetry_level: no phoning home unless asked."""
    timezone: TimeZoneName = "UTC"
    """Session time zone default; UTC, like every timestamp the platform stores."""
    allow_alter_system: StrictBool = False
    """PostgreSQL 17+: whether ALTER SYSTEM may write postgresql.auto.conf. Off, so that the
    rendered postgresql.conf stays the single source of truth."""
    logging: Logging = Logging()
    """Server logging."""
    backup: Backup = Backup()
    """WAL archiving and scheduled backups with pgBackRest: always on, into a directory on the
    host unless ``repository`` names object storage or an SFTP server."""
    cluster: Annotated[Cluster | None, BeforeValidator(_not_a_debian_cluster_name)] = None
    """High availability: Patroni on etcd behind HAProxy, every host of the inventory's
    timescaledb group a member. Unset: one database host."""
    settings: Annotated[
        dict[SettingName, SettingInput],
        Constraint("names, types, units, ranges and values of the version's pg_settings"),
    ] = {}
    """Overrides of any tuned or other setting, by PostgreSQL's own name (e.g. work_mem: 64MB)."""

    @field_validator(*_FIELDS_THAT_ARE_SETTINGS)
    @classmethod
    def _field_judged_by_postgresql(cls, value: SettingValue, info: ValidationInfo) -> SettingValue:
        version = info.data.get("version")
        if version in SUPPORTED_POSTGRESQL_VERSIONS and info.field_name is not None:
            _judge_setting(version, info.field_name, value, label=None)
        return value

    @field_validator("logging")
    @classmethod
    def _logging_judged_by_postgresql(cls, value: Logging, info: ValidationInfo) -> Logging:
        version = info.data.get("version")
        if version in SUPPORTED_POSTGRESQL_VERSIONS:
            for name, setting in value.model_dump().items():
                _judge_setting(version, name, setting, label=f"{name}: ")
        return value

    @field_validator("settings")
    @classmethod
    def _settings_judged_by_postgresql(
        cls, value: dict[str, SettingValue], info: ValidationInfo
    ) -> dict[str, SettingValue]:
        version = info.data.get("version")
        for name, setting in value.items():
            if name in SETTINGS_WITH_DEDICATED_FIELDS:
                raise ValueError(
                    f"settings.{name} cannot be overridden here; "
                    f"set {SETTINGS_WITH_DEDICATED_FIELDS[name]} instead"
                )
            if version in SUPPORTED_POSTGRESQL_VERSIONS:
                _judge_setting(version, name, setting, label=f"settings.{name}: ")
        return value

    @model_validator(mode="wrap")
    @classmethod
    def _version_for_nested_models(
        cls, data: Any, handler: ModelWrapValidatorHandler[Self]
    ) -> Self:
        """Lets a login role judge its settings by this spec's PostgreSQL version, so that its
        error names ``roles.N.settings`` rather than the whole list of roles."""
        version = data.get("version") if isinstance(data, dict) else None
        supported = type(version) is int and version in SUPPORTED_POSTGRESQL_VERSIONS
        token = _POSTGRESQL_VERSION.set(version if supported else None)
        try:
            return handler(data)
        finally:
            _POSTGRESQL_VERSION.reset(token)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.version not in SUPPORTED_POSTGRESQL_VERSIONS:
            raise ValueError(
                f"version {self.version!r} is not supported "
                f"(use one of {', '.join(map(str, SUPPORTED_POSTGRESQL_VERSIONS))})"
            )
        if self.reserved_connections and self.version < 16:
            raise ValueError("reserved_connections needs PostgreSQL 16 or later")
        reserved = self.superuser_reserved_connections + self.reserved_connections
        if self.max_connections <= reserved:
            raise ValueError(
                f"max_connections {self.max_connections} must be above the reserved connections "
                f"(superuser_reserved_connections + reserved_connections = {reserved})"
            )
        for index, rule in enumerate(self.hba):
            if rule.type == "hostssl" and not self.tls.enabled:
                raise ValueError(f"hba[{index}] is 'hostssl' but tls.enabled is false")
            if rule.method == "cert" and (not self.tls.enabled or self.tls.ca_file is None):
                raise ValueError(
                    f"hba[{index}] uses 'cert', which needs tls.enabled and tls.ca_file"
                )
        self._check_memory_overrides()
        names = [role.name for role in self.roles]
        if len(names) != len(set(names)):
            raise ValueError(f"roles: duplicate role names in {names}")
        if self.owner in names:
            raise ValueError(f"owner {self.owner!r} must not be a login role")
        for index, rule in enumerate(self.hba):
            if {self.owner, f"+{self.owner}"} & set(rule.user.split(",")):
                raise ValueError(
                    f"hba[{index}].user {rule.user!r} names the owner role {self.owner!r}, "
                    "which pg_hba.conf always rejects: nobody logs in as the owner"
                )
        self._check_hba_names(names)
        if self.cluster is not None:
            self._check_cluster(self.cluster, names)
        return self

    def _check_cluster(self, cluster: Cluster, roles: list[str]) -> None:
        """The cluster against the rest of the section: its roles are its own and its ports
        are not PostgreSQL's."""
        for key in ("replication_role", "rewind_role"):
            name = getattr(cluster, key)
            if name in (*roles, self.owner, "postgres"):
                raise ValueError(
                    f"cluster.{key} {name!r} is already a login role, the owner or postgres: "
                    "it needs a role of its own"
                )
        for key in ("read_write_port", "read_only_port", "rest_api_port"):
            if getattr(cluster, key) == self.port:
                raise ValueError(f"cluster.{key} {self.port} is also timescaledb.port")
        if self.backup.repository.type == "posix":
            raise ValueError(
                "backup.repository.type 'posix' cannot serve a cluster: a posix repository "
                "lives on one member and dies with it, and the others never reach it; use "
                "'sftp' (a backup_repository host) or 's3'"
            )

    def _check_hba_names(self, roles: list[str]) -> None:
        """Every name a rule gives is a declared role or the database, or a key word: a rule
        for a name the spec never declares admits nobody today and whoever takes it later."""
        known_users = {*roles, "postgres"}
        for index, rule in enumerate(self.hba):
            for name in rule.user.split(","):
                if name != "all" and name.removeprefix("+") not in known_users:
                    raise ValueError(
                        f"hba[{index}].user {name!r} is not a declared role "
                        f"(roles: {', '.join(roles) or 'none'}; or all, postgres, +role)"
                    )
            # postgres, the maintenance database: the hooks over a DSN connect to it first.
            for name in rule.database.split(","):
                if name not in HBA_DATABASE_KEYWORDS and name not in (self.database, "postgres"):
                    raise ValueError(
                        f"hba[{index}].database {name!r} is not the spec's database "
                        f"{self.database!r} (or postgres, all, sameuser, samerole, replication)"
                    )

    def _check_memory_overrides(self) -> None:
        shared_buffers = catalogue.memory_bytes(
            self.version, "shared_buffers", self.tuned_settings()["shared_buffers"]
        )
        if shared_buffers >= self.resources.memory:
            raise ValueError(
                f"shared_buffers {self.tuned_settings()['shared_buffers']} is not below the "
                f"host's memory (resources.memory {self.resources.model_dump()['memory']})"
            )

    def tuned_settings(self) -> dict[str, str]:
        """timescaledb-tune's values for these resources, with the spec's overrides applied."""
        tuned = tune(
            self.resources.host_resources(),
            max_connections=self.max_connections,
            pg_major=self.version,
        )
        overrides = {name: setting_text(value) for name, value in self.settings.items()}
        return tuned | overrides


def _judge_setting(
    version: int, name: str, value: SettingValue, *, label: str | None
) -> catalogue.Setting:
    """The catalogue's entry for ``name``, or the reason PostgreSQL ``version`` would refuse
    ``name = value``. ``label`` names the key inside the field being validated, followed by the
    value; None when the field is the setting itself, whose key and value the error line names.
    """
    known = catalogue.lookup(version, name)
    try:
        if known is None:
            raise ValueError(catalogue.unknown_name(version, name))
        catalogue.judge(known, value)
    except ValueError as error:
        raise ValueError(str(error) if label is None else f"{label}{value!r} {error}") from None
    return known
