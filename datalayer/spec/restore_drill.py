"""A restore drill on a schedule: the latest backup restored onto a scratch host, and checked."""

from datalayer.spec.backup import CalendarEvent
from datalayer.spec.base import SpecModel
from datalayer.spec.types import Port

DEFAULT_DRILL_PORT = 5433
"""The restored copy's port when no drill is declared (``python -m datalayer.restore drill``
alone): beside the 5432 of the cluster Debian's package creates on the scratch host."""


class RestoreDrill(SpecModel):
    """The restore drill run by a systemd timer on a declared host, which
    must not be a member of the source: its last success is a metric with an alert when stale."""

    host: str
    """Inventory host the drill restores onto (the scratch host)."""
    schedule: CalendarEvent = "Sat *-*-* 04:00:00"
    """systemd calendar event of the drill's timer."""
    port: Port = DEFAULT_DRILL_PORT
    """Port of the restored copy on the scratch host, which listens on localhost only."""
