"""Which packages ``packages_installed`` counts as installed, judged on pyinfra's DebPackages
parse of ``dpkg -l`` lines recorded on a deployed sandbox droplet (Debian 13)."""

import pytest
from pyinfra.facts.deb import DebPackages

from deploy.operations import is_installed

RECORDED = [
    "ii  pgbackrest      2.55.1-1        amd64        Reliable PostgreSQL Backup & Restore",
    "ii  postgresql-17   17.12-0+deb13u1 amd64        The World's Most Advanced Open Source "
    "Relational Database",
    "ii  python3-psycopg 3.2.6-1         all          PostgreSQL database adapter for Python 3",
]


@pytest.mark.parametrize(
    ("package", "installed"),
    [
        ("postgresql-17", True),
        ("pgbackrest=2.55.1-1", True),
        ("pgbackrest=2.54-1", False),
        ("redis-server", False),
        ("redis-server=8.0.2-1", False),
    ],
    ids=["name", "pinned-at-its-version", "pinned-at-another-version", "absent", "absent-pinned"],
)
def test_a_package_is_installed_by_name_or_at_its_pinned_version(
    package: str, installed: bool
) -> None:
    # pyinfra 3.10's DebPackages.process carries no annotations.
    parsed: dict[str, list[str]] = DebPackages().process(RECORDED)  # type: ignore[no-untyped-call]
    assert is_installed(package, parsed) is installed
