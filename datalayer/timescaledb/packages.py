"""Which apt repositories and packages give a host PostgreSQL with TimescaleDB.

Kept apart from the deploy so that the choice, including Timescale's repository that these
machines cannot reach, is plain data a unit test can check.
"""

from datalayer.apt import AptRepository, PackagePlan
from datalayer.spec.timescaledb import PackageSource, TimescaleDb

# The PostgreSQL project's (PGDG) repository key, "PostgreSQL Debian Repository". The same key
# text ships in Debian's own postgresql-common (248+deb12u2:
# /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc; `gpg --show-keys` prints this
# fingerprint), and the official postgres image pins it (docker-library/postgres,
# 17/trixie/Dockerfile at fd482cf: "Key fingerprint = B97B 0AFC AA1A 47F0 44F2 44A0 7FCC 7D46
# ACCC 4CF8", then key='B97B0AFCAA1A47F044F244A07FCC7D46ACCC4CF8').
PGDG_KEY_URL = "https://www.postgresql.org/media/keys/ACCC4CF8.asc"
PGDG_KEY_FINGERPRINT = "B97B0AFCAA1A47F044F244A07FCC7D46ACCC4CF8"

# Timescale's packagecloud repository key, "https://packagecloud.io/timescale/timescaledb
# (https://packagecloud.io/docs#gpg_signing) <support@packagecloud.io>", rsa4096 of 2018-10-19
# (packagecloud's per-repository keys, blog.packagecloud.io 2018-10-17 "GPG Key Migration").
# Timescale's install instructions give the key's URL but no fingerprint; this one is what
# independent public records of that URL show: yum's "Importing GPG key 0x47F24417 ...
# Fingerprint: 1005 fb68 604c e9b8 f687 9cf7 59f1 8edf 47f2 4417 From:
# https://packagecloud.io/timescale/timescaledb/gpgkey", an `apt-key list` of the same uid, and
# Puppet and shell installers that pin it. Unreachable from the machines this was written on.
TIMESCALE_KEY_URL = "https://packagecloud.io/timescale/timescaledb/gpgkey"
TIMESCALE_KEY_FINGERPRINT = "1005FB68604CE9B8F6879CF759F18EDF47F24417"


def package_plan(spec: TimescaleDb, distribution: str, codename: str) -> PackagePlan:
    """Repositories and packages for ``spec`` on a host running ``distribution`` ``codename``.

    + distribution: the os-release ID, 'debian' or 'ubuntu'
    + codename: the release codename, e.g. 'trixie' or 'noble'
    """
    version = spec.version
    # pgBackRest archives every WAL segment from the server's first start on (timescaledb.backup),
    # so it is installed with the server. Debian and the PGDG repository both ship it.
    # The post-provision hooks run on the host (datalayer/onhost) with the distribution's psycopg;
    # installed in the same step, so that a no-op deploy asks dpkg once.
    common = (
        f"postgresql-{version}", f"postgresql-client-{version}", "ssl-cert", "pgbackrest",
        "python3-psycopg",
    )  # fmt: skip
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
            key_url=PGDG_KEY_URL,
            key_fingerprint=PGDG_KEY_FINGERPRINT,
            uri="https://apt.postgresql.org/pub/repos/apt",
            suite=f"{codename}-pgdg",
        ),
        AptRepository(
            name="timescaledb",
            key_url=TIMESCALE_KEY_URL,
            key_fingerprint=TIMESCALE_KEY_FINGERPRINT,
            uri=f"https://packagecloud.io/timescale/timescaledb/{distribution}/",
            suite=codename,
        ),
    )
    return PackagePlan(repositories, (*common, f"timescaledb-2-postgresql-{version}"))
