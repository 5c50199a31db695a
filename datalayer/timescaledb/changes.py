"""Decide how to bring a running server onto new configuration files with least disruption.

PostgreSQL says which settings need a restart (``pg_settings.context = 'postmaster'``) and whether
one is already owed (``pending_restart``). A changed pg_hba.conf or any other changed setting only
    A setting the running server does not list takes its context from the catalogue; one unknown
    to both (only a file written by something else can hold it) is treated as needing a restart.
    A restart or a reload the server still owes for files already in place counts like a change.
"""

import re
from dataclasses import dataclass, field
from enum import StrEnum

from datalayer.timescaledb import catalogue

_SETTING_LINE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*=?\s*(.*?)\s*$")


class Action(StrEnum):
    """What the server needs after the files are written."""

    NONE = "none"
    RELOAD = "reload"
    RESTART = "restart"


@dataclass(frozen=True)
class RunningServer:
    """What the running server reports about its configuration.

    + contexts: each setting's ``pg_settings.context``
    + pending_restart: settings whose value in the files only a restart applies
    + load_owed: the files were written after the server last loaded them
    + file_errors: ``file:line: error`` for what the server finds wrong in the managed files
    """

    contexts: dict[str, str]
    pending_restart: frozenset[str] = field(default_factory=frozenset)
    load_owed: bool = False
    file_errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    """The action and why: the settings whose change forces it."""

    action: Action
    changed_settings: tuple[str, ...]
    restart_settings: tuple[str, ...]
    hba_changed: bool
    load_owed: bool = False

    def describe(self) -> str:
        """One line for the deploy's output."""
        if self.action is Action.RESTART:
            reasons = ", ".join(self.restart_settings) or "the server is not running"
            return f"restart PostgreSQL ({reasons})"
        if self.action is Action.RELOAD:
            what = [*self.changed_settings, *(["pg_hba.conf"] if self.hba_changed else [])]
            if self.load_owed:
                what.append("the files were written after PostgreSQL last loaded them")
            return f"reload PostgreSQL ({', '.join(what)})"
        return "configuration unchanged, no reload or restart"


def parse_settings(text: str) -> dict[str, str]:
    """Settings of a postgresql.conf text, last one winning as in PostgreSQL; quotes removed."""
    settings: dict[str, str] = {}
    for raw_line in text.splitlines():
        line = _strip_comment(raw_line)
        match = _SETTING_LINE.match(line)
        if not match or not match.group(2):
            continue
        value = match.group(2)
        if len(value) >= 2 and value[0] == value[-1] == "'":
            value = value[1:-1].replace("''", "'")
        settings[match.group(1).lower()] = value
    return settings


def _strip_comment(line: str) -> str:
    in_quotes = False
    for index, character in enumerate(line):
        if character == "'":
            in_quotes = not in_quotes
        elif character == "#" and not in_quotes:
            return line[:index]
    return line


def decide(
    current_conf: str | None,
    wanted_conf: str,
    current_hba: str | None,
    wanted_hba: str,
    server: RunningServer | None,
    version: int,
) -> Decision:
    """The least disruptive action that puts ``wanted_*`` in force on PostgreSQL ``version``.

    A setting the running server does not list takes its context from the catalogue; one unknown
    to both (only a file written by something else can hold it) is treated as needing a restart.
    A restart or a reload the server still owes for files already in place counts like a change.
    """
    current = parse_settings(current_conf or "")
    wanted = parse_settings(wanted_conf)
    changed = tuple(
        sorted(
            name for name in current.keys() | wanted.keys() if current.get(name) != wanted.get(name)
        )
    )
    hba_changed = (current_hba or "") != wanted_hba
    if server is None:
        return Decision(Action.RESTART, changed, (), hba_changed)
    restart = tuple(name for name in changed if _context(server, version, name) == "postmaster")
    restart = tuple(sorted(set(restart) | server.pending_restart))
    if restart:
        return Decision(Action.RESTART, changed, restart, hba_changed)
    if changed or hba_changed or server.load_owed:
        return Decision(Action.RELOAD, changed, (), hba_changed, server.load_owed)
    return Decision(Action.NONE, (), (), False)


def _context(server: RunningServer, version: int, name: str) -> str:
    """When a change of ``name`` takes effect: the running server's word, else the catalogue's."""
    if name in server.contexts:
        return server.contexts[name]
    known = catalogue.lookup(version, name)
    return "postmaster" if known is None else known.context
