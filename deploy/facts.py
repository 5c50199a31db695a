"""Facts every service deploy reads, each answering for many paths or units in one command.

pyinfra 3.10 caches no fact: every ``host.get_fact`` is one command on its own SSH channel
(``_get_fact``, ``pyinfra/api/facts.py:256-400``, which calls ``host.run_shell_command`` each
time, :322), and ``files.put`` reads two facts per file (``File``, then ``Sha1File``;
``pyinfra/operations/files.py:1131`` and ``_file_equal``, :857-869), ``systemd.service`` two per
unit. A deploy that changes nothing is then a few dozen round trips, most of its time; these
facts answer the same questions for a whole set at once.
"""

import hashlib
import shlex
from dataclasses import dataclass

from pyinfra.api.facts import FactBase


@dataclass(frozen=True)
class PathState:
    """One path as ``find -printf`` and ``sha256sum`` describe it.

    + kind: find's ``%y``: ``f`` regular file, ``d`` directory, ``l`` symbolic link...
    + user, group: the owner's names
    + mode: the permission bits (find's ``%m``), e.g. ``0o644``
    + sha256: the content's digest; None for anything but a regular file
    """

    kind: str
    user: str
    group: str
    mode: int
    sha256: str | None = None

    def holds(self, content: bytes) -> bool:
        """This is a regular file whose content is ``content``."""
        return self.sha256 == hashlib.sha256(content).hexdigest()


_DESCRIBE = r"-printf 'stat|%y|%u|%g|%m|%p\n' -type f -exec sha256sum {} +"


class PathStates(FactBase[dict[str, PathState]]):
    """Kind, owner, mode and (regular files) SHA-256 of each of ``paths`` that exists, and of
    everything below each directory of ``trees``; a path missing from the answer does not
    exist.

    Missing paths are left out before ``find`` runs, so any error it reports (a path it cannot
    read) fails the fact instead of passing for an absent file.
    """

    def command(self, paths: tuple[str, ...], trees: tuple[str, ...] = ()) -> str:
        below = "".join(
            f"; if [ -d {shlex.quote(tree)} ]; then find {shlex.quote(tree)} -mindepth 1 "
            f"{_DESCRIBE}; fi"
            for tree in trees
        )
        return (
            "set --; for path in "
            + " ".join(shlex.quote(path) for path in paths)
            + '; do if [ -e "$path" ] || [ -L "$path" ]; then set -- "$@" "$path"; fi; done; '
            f'if [ $# -gt 0 ]; then find "$@" -maxdepth 0 {_DESCRIBE}; fi' + below
        )

    @staticmethod
    def default() -> dict[str, PathState]:
        return {}

    def process(self, output: list[str]) -> dict[str, PathState]:
        states: dict[str, PathState] = {}
        digests: dict[str, str] = {}
        for line in output:
            if line.startswith("stat|"):
                _, kind, user, group, mode, path = line.split("|", 5)
                states[path] = PathState(kind, user, group, int(mode, 8))
            else:
                digest, path = line.split("  ", 1)
                digests[path] = digest
        return {
            path: PathState(state.kind, state.user, state.group, state.mode, digests.get(path))
            for path, state in states.items()
        }


@dataclass(frozen=True)
class UnitState:
    """What systemd says of one unit: ``ActiveState`` and ``UnitFileState``."""

    active: str
    unit_file: str

    @property
    def running(self) -> bool:
        return self.active == "active"

    @property
    def enabled(self) -> bool:
        # pyinfra's SystemdEnabled counts "static" as enabled too (pyinfra/facts/systemd.py).
        return self.unit_file in ("enabled", "static")


class UnitStates(FactBase[dict[str, UnitState]]):
    """``systemctl show`` of every unit in ``units`` in one command; a unit systemd does not
    know is ``inactive`` with an empty unit file state."""

    def requires_command(self, units: tuple[str, ...]) -> str:
        return "systemctl"

    def command(self, units: tuple[str, ...]) -> str:
        return shlex.join(
            ["systemctl", "show", "--property", "Id,ActiveState,UnitFileState", *units]
        )

    @staticmethod
    def default() -> dict[str, UnitState]:
        return {}

    def process(self, output: list[str]) -> dict[str, UnitState]:
        # Each unit's properties form a block; blocks are separated by an empty line.
        properties: list[dict[str, str]] = [{}]
        for line in output:
            if not line.strip():
                properties.append({})
                continue
            key, _, value = line.partition("=")
            properties[-1][key] = value
        return {
            block["Id"]: UnitState(block.get("ActiveState", ""), block.get("UnitFileState", ""))
            for block in properties
            if "Id" in block
        }
