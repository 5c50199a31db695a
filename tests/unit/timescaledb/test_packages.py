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
