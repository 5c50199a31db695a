"""Prometheus on the hosts of the inventory's ``prometheus`` group."""

from typing import Annotated, Literal, get_args

from pydantic import Field

from datalayer.spec.base import Constraint, SpecModel
from datalayer.spec.types import Port, PrometheusDuration

ScrapeGroup = Literal["timescaledb", "redis", "influxdb", "etcd", "backup_repository", "prometheus"]
"""The inventory's groups whose hosts run an exporter (node_exporter on every one of them)."""


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
    scrape_groups: (
        Annotated[
            tuple[ScrapeGroup, ...],
            Field(min_length=1),
            Constraint(f"one or more of {', '.join(get_args(ScrapeGroup))}"),
        ]
        | None
    ) = None
    """The inventory groups whose hosts are scraped; unset, every one of these the inventory
    has. Each one listed must be a group of the inventory, with hosts of the environment."""
