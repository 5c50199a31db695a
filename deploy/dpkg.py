"""Finish what an interrupted package install left on a host, before anything reads its state.

A deploy killed while apt installs (a dropped SSH link, a reboot) leaves dpkg with packages
unpacked but not configured (no postgres user yet, no cluster), sometimes one half-installed, and
a journal apt refuses to work over ("dpkg was interrupted, you must manually run 'dpkg
--configure -a'", apt 3.0.3 apt-pkg/deb/debsystem.cc:151-166). pyinfra does not wait for dpkg's
lock either: it runs plain ``apt-get`` (pyinfra 3.10 facts/apt.py:233 ``noninteractive_apt``),
whose ``DPkg::Lock::Timeout`` is 0 (apt 3.0.3 debsystem.cc:130; only ``apt`` waits,
apt-private/private-cmndline.cc:514-517). So every service deploy starts with
:func:`finish_interrupted_install`: it waits for a dpkg still running, then repairs what it left.
"""

from collections.abc import Generator
from dataclasses import dataclass

from pyinfra.api.facts import FactBase
from pyinfra.api.operation import operation
from pyinfra.context import host
from pyinfra.facts.apt import noninteractive_apt

LOCK_FILE = "/var/lib/dpkg/lock-frontend"
"""apt holds this lock for its whole run and dpkg takes it first (dpkg 1.22.21
lib/dpkg/dbmodify.c:280-290): whoever holds it is still changing packages."""

LOCK_WAIT_SECONDS = 600
"""How long a deploy waits for another apt or dpkg to finish before it stops."""

UPDATES_DIRECTORY = "/var/lib/dpkg/updates"
"""dpkg's journal; an entry left here is what makes apt refuse to run (debsystem.cc:227)."""


@dataclass(frozen=True)
class DpkgStatus:
    """What dpkg's database says, read once no other apt or dpkg holds its lock.

    + lock_holder: ``PID COMMAND`` of the process still holding the lock after the wait, or None
    + journal_entries: entries of dpkg's journal not yet folded into the status file
    + unconfigured: packages unpacked, half-configured or awaiting triggers: ``dpkg --configure -a``
      finishes them
    + reinstall: packages half-installed or marked reinstall-required: only a reinstall
      (``apt-get install -f``) finishes them
    """

    lock_holder: str | None
    journal_entries: int
    unconfigured: tuple[str, ...]
    reinstall: tuple[str, ...]

    @property
    def consistent(self) -> bool:
        return not (self.journal_entries or self.unconfigured or self.reinstall)


def _lock_holder() -> str:
    """Shell: ``PID COMMAND`` of the process holding dpkg's frontend lock, empty when free."""
    return (
        "lslocks --noheadings --raw --output PID,COMMAND,PATH "
        f"| awk '$3 == \"{LOCK_FILE}\" {{print $1, $2; exit}}'"
    )


class Dpkg(FactBase[DpkgStatus]):
    """dpkg's lock, journal and unfinished packages.

    Package states are ``dpkg-query``'s ``db:Status-Abbrev``: want, status, error flag. A status
    of H (half-installed), U (unpacked), F (half-configured), W (triggers-awaited) or t
    (triggers-pending), or the R (reinstall-required) flag, is unfinished work (dpkg 1.22.21
    src/main/enquiry.c:89-131, the states ``dpkg --audit`` reports).
    """

    def command(self) -> str:
        return (
            f'echo "lock $({_lock_holder()})"; '
            f"echo \"journal $(ls {UPDATES_DIRECTORY} | grep -c '^[0-9]*$')\"; "
            "dpkg-query --show --showformat '${db:Status-Abbrev}|${binary:Package}\\n' "
            "| sed 's/^/package /'"
        )

    @staticmethod
    def default() -> DpkgStatus:
        return DpkgStatus(None, 0, (), ())

    def process(self, output: list[str]) -> DpkgStatus:
        holder: str | None = None
        journal = 0
        unconfigured: list[str] = []
        reinstall: list[str] = []
        for line in output:
            kind, _, value = line.partition(" ")
            if kind == "lock":
                holder = value.strip() or None
            elif kind == "journal":
                journal = int(value)
            elif kind == "package":
                abbreviation, _, package = value.partition("|")
                status, flag = abbreviation[1:2], abbreviation[2:3]
                if status == "H" or flag == "R":
                    reinstall.append(package)
                elif status in ("U", "F", "W", "t"):
                    unconfigured.append(package)
        return DpkgStatus(holder, journal, tuple(unconfigured), tuple(reinstall))


@operation()
def finish_interrupted_install() -> Generator[str, None, None]:
    """Wait for another apt or dpkg to finish, then complete what an interrupted one left.

    The journal and unpacked or half-configured packages: ``dpkg --configure -a``; packages left
    half-installed (their unpack was cut): ``apt-get install -f``, which reinstalls them and
    configures what still waits on them. A consistent dpkg is a noop.

    Stops with one line when another apt or dpkg still holds the lock after
    ``LOCK_WAIT_SECONDS``: that process must finish or be stopped by hand first.
    """
    status = host.get_fact(Dpkg)
    if status.lock_holder is not None:
        yield (
            f'waited=0; while [ -n "$({_lock_holder()})" ]; do '
            f"if [ $waited -ge {LOCK_WAIT_SECONDS} ]; then "
            f'echo "dpkg is still locked by process $({_lock_holder()}) after '
            f'{LOCK_WAIT_SECONDS} s: let it finish (or stop it), then deploy again" >&2; '
            "exit 1; fi; "
            "sleep 2; waited=$((waited + 2)); done"
        )
        # pyinfra runs each command as the operation yields it: this reads dpkg once it is free.
        status = host.get_fact(Dpkg)
    if status.consistent:
        host.noop("dpkg is consistent: no interrupted install to finish")
        return
    if status.journal_entries or (status.unconfigured and not status.reinstall):
        # Also folds the journal into the status file, after which apt runs again.
        yield "DEBIAN_FRONTEND=noninteractive dpkg --force-confdef --force-confold --configure -a"
    if status.reinstall:
        yield noninteractive_apt("install -f")
