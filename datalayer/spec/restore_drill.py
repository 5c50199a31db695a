"""A restore drill on a schedule: the latest backup restored onto a scratch host, and checked."""

from datalayer.spec.backup import CalendarEvent
from datalayer.spec.base import SpecModel


class RestoreDrill(SpecModel):
    """The restore drill run by a systemd timer on a declared host, which
    must not be a member of the source: its last success is a metric with an alert when stale."""

    host: str
    """Inventory host the drill restores onto (the scratch host)."""
    schedule: CalendarEvent = "Sat *-*-* 04:00:00"
    """systemd calendar event of the drill's timer."""
