"""TimescaleDB policies per hypertable and continuous aggregate, applied by the post-provision
hooks (``datalayer.hooks``).

The tables themselves come from ``sql/migrations``; the spec says how each is chunked, compressed,
aged out and rolled up. Compression, retention and continuous aggregates exist only in
TimescaleDB's Community edition: a policy marked ``optional`` is skipped with a warning on the
Apache edition instead of stopping the hooks.
"""

import re
from typing import Self

from pydantic import model_validator

from datalayer.spec.base import SpecModel
from datalayer.spec.types import Identifier, Interval, StrictBool, interval_seconds

_ORDER_BY = re.compile(r"^[a-z_][a-z0-9_]{0,62}( (ASC|DESC))?$")


class Compression(SpecModel):
    """Native columnar compression of older chunks (Community edition)."""

    segment_by: list[Identifier] = []
    """Columns whose equal values are stored together (``timescaledb.compress_segmentby``): the
    columns queries filter on, e.g. [asset_id, interval]."""
    order_by: list[str] = []
    """Order inside a segment (``timescaledb.compress_orderby``): 'column' or 'column DESC'."""
    compress_after: Interval
    """Compress chunks whose data is older than this, e.g. '30 days'."""
    optional: StrictBool = False
    """Skip with a warning, rather than stop, on an edition without compression."""

    @model_validator(mode="after")
    def _order_by_columns(self) -> Self:
        for entry in self.order_by:
            if not _ORDER_BY.fullmatch(entry):
                raise ValueError(f"order_by entry {entry!r} is not 'column' or 'column ASC|DESC'")
        return self


class Retention(SpecModel):
    """Dropping whole chunks once their data is older than ``drop_after`` (Community edition)."""

    drop_after: Interval
    """Drop chunks whose data is older than this, e.g. '2 years'."""
    optional: StrictBool = False
    """Skip with a warning, rather than stop, on an edition without retention policies."""


class Hypertable(SpecModel):
    """How one hypertable from the migrations is chunked, compressed and aged out."""

    chunk_interval: Interval
    """Time span of each chunk, e.g. '7 days'; a change applies to chunks created after it."""
    compression: Compression | None = None
    """Compression of older chunks; none by default."""
    retention: Retention | None = None
    """Retention of chunks; none (keep everything) by default."""

    @model_validator(mode="after")
    def _compress_before_drop(self) -> Self:
        if self.compression is not None and self.retention is not None:
            compress_after = self.compression.compress_after
            drop_after = self.retention.drop_after
            if interval_seconds(compress_after) >= interval_seconds(drop_after):
                raise ValueError(
                    f"compression.compress_after {compress_after!r} is not shorter than "
                    f"retention.drop_after {drop_after!r}: chunks would be dropped before they "
                    "are compressed"
                )
        return self


class ContinuousAggregate(SpecModel):
    """A continuous aggregate from ``sql/continuous_aggregates/<schema>.<view>.sql`` with its
    refresh policy (Community edition)."""

    start_offset: Interval | None = None
    """Oldest data a refresh recomputes, relative to now; none: all of it."""
    end_offset: Interval
    """Newest data a refresh leaves to real-time aggregation, relative to now, e.g. '1 hour'."""
    schedule_interval: Interval
    """How often the refresh runs, e.g. '1 hour'."""
    materialized_only: StrictBool = False
    """Readers see only what the last refresh materialized (true), or that plus the source rows
    newer than it, aggregated when queried (false: real-time aggregation, so today's bar is
    there between refreshes)."""
    materialize_history: StrictBool = True
    """When the view is created, materialize every row its hypertable already holds, window by
    window (the refresh policy only ever covers start_offset); false leaves history empty."""
    history_window: Interval = "30 days"
    """Span of each refresh that materializes history: bounds the memory, WAL and locks of one
    refresh; at least one bucket of the view and at least a day."""
    optional: StrictBool = False
    """Skip with a warning, rather than stop, on an edition without continuous aggregates."""

    @model_validator(mode="after")
    def _history_window(self) -> Self:
        if interval_seconds(self.history_window) < interval_seconds("1 day"):
            raise ValueError(
                f"history_window {self.history_window!r} is shorter than a day: each refresh "
                "must cover at least one bucket"
            )
        return self

    @model_validator(mode="after")
    def _window(self) -> Self:
        if self.start_offset is not None and interval_seconds(
            self.start_offset
        ) <= interval_seconds(self.end_offset):
            raise ValueError(
                f"start_offset {self.start_offset!r} must be longer than end_offset "
                f"{self.end_offset!r}: the refresh window would be empty"
            )
        return self
