"""Monitoring: exporters on every host, Prometheus with alert rules, and restore drills.

Declared as ``monitoring``; absent, the hosts run no exporter and no Prometheus, exactly as before.
Present, every TimescaleDB, Redis and InfluxDB host of the inventory exposes its metrics to the
hosts of the inventory's ``prometheus`` group, which scrape them by group and evaluate the rules.
What needs the inventory (that the groups exist, that a drill target is no member of the source)
is judged with it, before any host is contacted (``deploy/preflight.py``).
"""

from datalayer.spec.alerts import Alerts
from datalayer.spec.base import SpecModel
from datalayer.spec.exporters import Exporters
from datalayer.spec.prometheus import Prometheus
from datalayer.spec.restore_drill import RestoreDrill


class Monitoring(SpecModel):
    """What watches the data layer, and what proves its backups restore."""

    exporters: Exporters = Exporters()
    """The exporters on the service hosts, and the identities they connect as."""
    prometheus: Prometheus = Prometheus()
    """Prometheus on the hosts of the inventory's ``prometheus`` group."""
    alerts: Alerts = Alerts()
    """Thresholds and ``for:`` delays of the alert rules; production defaults."""
    restore_drill: RestoreDrill | None = None
    """A scheduled restore drill; unset, drills run only when a user starts one."""
