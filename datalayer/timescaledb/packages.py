"""Which apt repositories and packages give a host PostgreSQL with TimescaleDB.

Kept apart from the deploy so that the choice, including Timescale's repository that these
machines cannot reach, is plain data a unit test can check.
"""

from dataclasses import dataclass

from datalayer.spec.timescaledb import PackageSource, TimescaleDb

KEYRING_DIRECTORY = "/etc/apt/keyrings"


@dataclass(frozen=True)
class AptRepository:
    """A signed apt source: its key is fetched to a keyring that only this source trusts."""

    name: str
    key_url: str
    uri: str
    suite: str
    component: str = "main"

    @property
    def keyring(self) -> str:
        # apt reads ASCII-armoured keys when the file name ends in .asc: no gpg --dearmor needed.
        return f"{KEYRING_DIRECTORY}/{self.name}.asc"

    @property
    def source_line(self) -> str:
        return f"deb [signed-by={self.keyring}] {self.uri} {self.suite} {self.component}"


@dataclass(frozen=True)
class PackagePlan:
    repositories: tuple[AptRepository, ...]
    packages: tuple[str, ...]


def package_plan(spec: TimescaleDb, distribution: str, codename: str) -> PackagePlan:
    """Repositories and packages for ``spec`` on a host running ``distribution`` ``codename``.

    + distribution: the os-release ID, 'debian' or 'ubuntu'
    + codename: the release codename, e.g. 'trixie' or 'noble'
    """
    version = spec.version
    # pgBackRest archives every WAL segment from the server's first start on (timescaledb.backup),
    # so it is installed with the server. Debian and the PGDG repository both ship it.
    common = (f"postgresql-{version}", f"postgresql-client-{version}", "ssl-cert", "pgbackrest")
    if spec.package_source is PackageSource.DISTRIBUTION:
        return PackagePlan((), (*common, f"postgresql-{version}-timescaledb"))
    if distribution not in ("debian", "ubuntu"):
        raise ValueError(
            f"Timescale's repository has no packages for distribution {distribution!r}"
        )
    repositories = (
        # Timescale's packages are built against the PostgreSQL project's (PGDG) server packages.
        AptRepository(
            name="pgdg",
            key_url="https://www.postgresql.org/media/keys/ACCC4CF8.asc",
            uri="https://apt.postgresql.org/pub/repos/apt",
            suite=f"{codename}-pgdg",
        ),
        AptRepository(
            name="timescaledb",
            key_url="https://packagecloud.io/timescale/timescaledb/gpgkey",
            uri=f"https://packagecloud.io/timescale/timescaledb/{distribution}/",
            suite=codename,
        ),
    )
    return PackagePlan(repositories, (*common, f"timescaledb-2-postgresql-{version}"))
