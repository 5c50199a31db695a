"""Where PostgreSQL keeps its files, per platform.

The droplets use the Debian/Ubuntu layout of postgresql-common (one directory per version and
cluster); containers (Pulumi) use the official image's. Templates take the paths from here.
"""

from dataclasses import dataclass, replace

from datalayer.spec.timescaledb import TimescaleDb


@dataclass(frozen=True)
class PostgresqlLayout:
    """Paths and unit names of one PostgreSQL cluster."""

    version: int
    """PostgreSQL's major version."""
    cluster: str
    """The cluster's name within its version (postgresql-common's ``main``)."""
    data_directory: str
    config_directory: str
    socket_directory: str
    pid_file: str | None
    service: str | None
    ident_directory: str | None = None
    """Where pg_ident.conf is, when not beside the other two files (containers: initdb's own, in
    the data directory)."""
    wal_archive_directory: str | None = None
    """Where archive_command copies finished WAL segments, when not to pgBackRest (containers:
    a volume of its own; the images carry no pgBackRest)."""
    server_binary: str | None = None
    """The ``postgres`` server binary, with which the deploy checks a candidate postgresql.conf
    before installing it (droplets; containers start from the rendered file and are not
    checked this way)."""

    @property
    def postgresql_conf(self) -> str:
        return f"{self.config_directory}/postgresql.conf"

    @property
    def pg_hba_conf(self) -> str:
        return f"{self.config_directory}/pg_hba.conf"

    @property
    def pg_ident_conf(self) -> str:
        return f"{self.ident_directory or self.config_directory}/pg_ident.conf"

    @property
    def cluster_name(self) -> str:
        """``VERSION/CLUSTER``: how postgresql-common and ``psql --cluster`` name the cluster,
        and PostgreSQL's ``cluster_name`` setting (the processes' titles)."""
        return f"{self.version}/{self.cluster}"


def debian_layout(spec: TimescaleDb) -> PostgresqlLayout:
    """postgresql-common's layout: /etc/postgresql/V/C, /var/lib/postgresql/V/C, postgresql@V-C."""
    version, cluster = spec.version, spec.debian_cluster
    return PostgresqlLayout(
        version=version,
        cluster=cluster,
        data_directory=f"/var/lib/postgresql/{version}/{cluster}",
        config_directory=f"/etc/postgresql/{version}/{cluster}",
        socket_directory="/var/run/postgresql",
        pid_file=f"/var/run/postgresql/{version}-{cluster}.pid",
        service=f"postgresql@{version}-{cluster}",
        server_binary=f"/usr/lib/postgresql/{version}/bin/postgres",
    )


def patroni_layout(spec: TimescaleDb) -> PostgresqlLayout:
    """postgresql-common's layout, run by Debian's ``patroni@V-C`` unit instead of
    ``postgresql@V-C``: the rendered files stay in /etc/postgresql/V/C, where postgresql-common's
    tools (``psql --cluster``, ``pg_lsclusters``) read them, and Patroni writes its own
    postgresql.conf in the data directory (``datalayer.cluster.patroni``)."""
    return replace(debian_layout(spec), service=f"patroni@{spec.version}-{spec.debian_cluster}")


CONTAINER_CONFIG_DIRECTORY = "/etc/postgresql"
"""Where the containers' postgresql.conf and pg_hba.conf are placed: outside the data volume, so
that initdb finds an empty directory on first start and the rendered files are the only ones in
force (``-c config_file=``), whatever the image wrote into the data directory."""


CONTAINER_WAL_ARCHIVE_DIRECTORY = "/var/lib/postgresql/wal-archive"


def container_layout(spec: TimescaleDb) -> PostgresqlLayout:
    """The official postgres image's layout, which Timescale's image inherits: PGDATA at
    /var/lib/postgresql/data up to PostgreSQL 17, /var/lib/postgresql/VERSION/docker from 18
    on; the server runs in the foreground (no pid file, no unit)."""
    if spec.version >= 18:
        data_directory = f"/var/lib/postgresql/{spec.version}/docker"
    else:
        data_directory = "/var/lib/postgresql/data"
    return PostgresqlLayout(
        version=spec.version,
        cluster=spec.debian_cluster,
        data_directory=data_directory,
        config_directory=CONTAINER_CONFIG_DIRECTORY,
        socket_directory="/var/run/postgresql",
        pid_file=None,
        service=None,
        ident_directory=data_directory,
        wal_archive_directory=CONTAINER_WAL_ARCHIVE_DIRECTORY,
    )


def container_volume_directory(spec: TimescaleDb) -> str:
    """Where the data volume is mounted: the image's VOLUME, /var/lib/postgresql/data up to 17;
    from 18 on /var/lib/postgresql, the parent of the versioned PGDATA, so that a major upgrade
    (pg_upgrade --link) finds both versions on one volume."""
    return "/var/lib/postgresql" if spec.version >= 18 else "/var/lib/postgresql/data"
