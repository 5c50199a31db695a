"""Where PostgreSQL keeps its files, per platform.

The droplets use the Debian/Ubuntu layout of postgresql-common (one directory per version and
cluster); containers (Pulumi) use the official image's. Templates take the paths from here.
"""

from dataclasses import dataclass

from datalayer.spec.timescaledb import TimescaleDb


@dataclass(frozen=True)
class PostgresqlLayout:
    """Paths and unit names of one PostgreSQL cluster."""

    data_directory: str
    config_directory: str
    socket_directory: str
    pid_file: str | None
    service: str | None
    cluster_name: str

    @property
    def postgresql_conf(self) -> str:
        return f"{self.config_directory}/postgresql.conf"

    @property
    def pg_hba_conf(self) -> str:
        return f"{self.config_directory}/pg_hba.conf"

    @property
    def pg_ident_conf(self) -> str:
        return f"{self.config_directory}/pg_ident.conf"


def debian_layout(spec: TimescaleDb) -> PostgresqlLayout:
    """postgresql-common's layout: /etc/postgresql/V/C, /var/lib/postgresql/V/C, postgresql@V-C."""
    version, cluster = spec.version, spec.cluster
    return PostgresqlLayout(
        data_directory=f"/var/lib/postgresql/{version}/{cluster}",
        config_directory=f"/etc/postgresql/{version}/{cluster}",
        socket_directory="/var/run/postgresql",
        pid_file=f"/var/run/postgresql/{version}-{cluster}.pid",
        service=f"postgresql@{version}-{cluster}",
        cluster_name=f"{version}/{cluster}",
    )
