"""Package plans: the distribution's Apache edition, or Timescale's signed repository."""

from datalayer.spec import load_environment
from datalayer.timescaledb.packages import package_plan


def test_distribution_source_installs_debian_packages_without_repositories() -> None:
    plan = package_plan(load_environment("sandbox").timescaledb, "debian", "trixie")
    assert plan.repositories == ()
    assert "postgresql-17-timescaledb" in plan.packages
    assert "postgresql-17" in plan.packages


def test_timescale_source_adds_signed_pgdg_and_timescale_repositories() -> None:
    plan = package_plan(load_environment("prod").timescaledb, "ubuntu", "noble")
    lines = [repository.source_line for repository in plan.repositories]
    assert lines == [
        "deb [signed-by=/etc/apt/keyrings/pgdg.asc] "
        "https://apt.postgresql.org/pub/repos/apt noble-pgdg main",
        "deb [signed-by=/etc/apt/keyrings/timescaledb.asc] "
        "https://packagecloud.io/timescale/timescaledb/ubuntu/ noble main",
    ]
    assert "timescaledb-2-postgresql-17" in plan.packages
    assert "postgresql-17-timescaledb" not in plan.packages


def test_timescale_source_checks_each_repository_key_by_its_published_fingerprint() -> None:
    plan = package_plan(load_environment("prod").timescaledb, "debian", "trixie")
    keys = [(r.name, r.key_url, r.key_fingerprint) for r in plan.repositories]
    assert keys == [
        (
            "pgdg",
            "https://www.postgresql.org/media/keys/ACCC4CF8.asc",
            "B97B0AFCAA1A47F044F244A07FCC7D46ACCC4CF8",
        ),
        (
            "timescaledb",
            "https://packagecloud.io/timescale/timescaledb/gpgkey",
            "1005FB68604CE9B8F6879CF759F18EDF47F24417",
        ),
    ]
