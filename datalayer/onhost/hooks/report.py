"""What the hooks say about each item, and the one error they stop with."""

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum


class Status(Enum):
    """An item's outcome; in check mode, CREATED and CHANGED mean "would be"."""

    CREATED = "created"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Outcome:
    """One line of the hooks' report: ``changed role app: connection_limit 20 -> 30``."""

    status: Status
    kind: str
    name: str
    detail: str = ""
    check: bool = False

    @property
    def drift(self) -> bool:
        """Whether the item was (or, in check mode, would be) created or changed."""
        return self.status in (Status.CREATED, Status.CHANGED)

    def line(self) -> str:
        status = self.status.value
        if self.check and self.drift:
            status = f"would be {status}"
        return f"{status} {self.kind} {self.name}" + (f": {self.detail}" if self.detail else "")


Report = Callable[[Outcome], None]
"""Where outcomes go as they happen (printed by the command line, collected by tests)."""


class HookError(Exception):
    """The hooks cannot go on; the message names the item, the value and what to do."""
