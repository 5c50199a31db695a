"""Thresholds and delays of the alert rules (``templates/prometheus/``)."""

from datalayer.spec.base import SpecModel
from datalayer.spec.types import PrometheusDuration


class Alerts(SpecModel):
    """Each rule's threshold and ``for:`` delay, with production defaults; the sandbox sets
    short ones so that a test sees an alert fire within two minutes."""

    long_transaction: PrometheusDuration = "5m"
    """A transaction open longer than this fires PostgresLongTransaction: it holds back vacuum
    and the compression policy, and its locks can stall ingest."""
