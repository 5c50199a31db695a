"""What the Dpkg fact makes of dpkg's state: recorded on the sandbox image (Debian 13, dpkg
1.22.22), by killing dpkg the moment apt had unpacked pgbackrest during the TimescaleDB packages'
install, then running the fact's command. Lines of fully installed packages (``ii ``) left out.
"""

from deploy.dpkg import Dpkg, DpkgStatus

INTERRUPTED = [
    "lock ",
    "journal 65",
    "package it |libc-bin",
    "package iU |libpq5:amd64",
    "package iU |pgbackrest",
    "package iHR|postgresql-client-17",
    "package iU |postgresql-common",
    "package ii |dpkg",
]


def test_interrupted_install_has_packages_to_configure_and_to_reinstall() -> None:
    assert Dpkg().process(INTERRUPTED) == DpkgStatus(
        lock_holder=None,
        journal_entries=65,
        unconfigured=("libc-bin", "libpq5:amd64", "pgbackrest", "postgresql-common"),
        reinstall=("postgresql-client-17",),
    )


def test_finished_install_is_consistent() -> None:
    assert Dpkg().process(["lock ", "journal 0", "package ii |dpkg"]).consistent


def test_lock_holder_is_named() -> None:
    # lslocks' PID and COMMAND, as the fact prints them for a process holding the lock.
    status = Dpkg().process(["lock 15 apt-get", "journal 0"])
    assert status.lock_holder == "15 apt-get"
    assert status.consistent
