"""Redis's command table, as data: ACL rules in the spec are checked against it.

``command_table.json`` is what the redis-server that Debian 13 ships (5:8.0.2-3+deb13u3) answered
in a throwaway container::

    apt-get install redis-server
    redis-cli --json COMMAND    # every command and, nested, its subcommands: flags, ACL categories
    redis-cli --json ACL CAT

kept per command (lower-cased; a subcommand as ``container|subcommand``) as its flags and the ACL
categories that include it. The upper-case V* commands Redis lists are the built-in vectorset
module's; they belong to no category but @all. Refresh the file (same commands) when the
droplets move to another Redis release.
"""

import json
from dataclasses import dataclass
from pathlib import Path

_TABLE = json.loads((Path(__file__).resolve().parent / "command_table.json").read_text())

REDIS_VERSION: str = _TABLE["redis_version"]
"""The redis-server release the table was read from."""


@dataclass(frozen=True)
class Command:
    """One row of ``COMMAND``: what the command is (flags) and which categories grant it."""

    flags: frozenset[str]
    categories: frozenset[str]

    @property
    def writes(self) -> bool:
        """Whether Redis flags it as changing data (``write``)."""
        return "write" in self.flags


COMMAND_TABLE = {
    name: Command(frozenset(row["flags"]), frozenset(row["categories"]))
    for name, row in _TABLE["commands"].items()
}
"""Every command and ``container|subcommand`` an ACL rule can name."""

ACL_CATEGORIES = frozenset(_TABLE["categories"])
"""``ACL CAT``: the categories an ACL rule can name as ``+@category`` or ``-@category``."""

COMMANDS = frozenset(COMMAND_TABLE)
"""``COMMAND``: every command and ``container|subcommand`` an ACL rule can name."""


def granted_by(rule: str) -> frozenset[str]:
    """The commands a ``+rule`` grants: ``@all`` every one, ``@category`` those the category
    includes, a command itself and all its subcommands, a subcommand itself."""
    if rule == "@all":
        return COMMANDS
    if rule.startswith("@"):
        return frozenset(name for name, row in COMMAND_TABLE.items() if rule[1:] in row.categories)
    return frozenset(name for name in COMMANDS if name == rule or name.startswith(rule + "|"))


def write_commands_granted_by(rule: str) -> list[str]:
    """The commands Redis flags ``write`` that ``+rule`` would grant, sorted."""
    return sorted(name for name in granted_by(rule) if COMMAND_TABLE[name].writes)
