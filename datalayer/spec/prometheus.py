"""Prometheus on the hosts of the inventory's ``prometheus`` group."""

from datalayer.spec.base import SpecModel
from datalayer.spec.types import Port, PrometheusDuration


class Prometheus(SpecModel):
    """Debian's Prometheus, scraping every host of the inventory by group; its targets are
    rendered from the inventory and the spec, so there is no second list of hosts to keep."""

    port: Port = 9090
    """Port of Prometheus's web UI and API."""
    scrape_interval: PrometheusDuration = "15s"
    """How often every target is scraped (``global.scrape_interval``)."""
    evaluation_interval: PrometheusDuration = "15s"
    """How often the alert rules are evaluated (``global.evaluation_interval``)."""
    retention: PrometheusDuration = "15d"
    """How long samples are kept (``--storage.tsdb.retention.time``)."""
