"""The cluster's layout carries its version and name as fields; its display name comes from them."""

from collections.abc import Callable
from typing import Any

import pytest

from datalayer.spec import parse_environment
from datalayer.spec.timescaledb import TimescaleDb
from datalayer.timescaledb.layout import PostgresqlLayout, container_layout, debian_layout


@pytest.mark.parametrize("layout_of", [debian_layout, container_layout])
def test_layout_names_its_cluster_by_version_and_name(
    timescaledb_config: dict[str, Any], layout_of: Callable[[TimescaleDb], PostgresqlLayout]
) -> None:
    timescaledb_config.update(version=16, debian_cluster="ledger")
    spec = parse_environment("test", {"datalayer:timescaledb": timescaledb_config}, source="t")
    layout = layout_of(spec.timescaledb)
    assert (layout.version, layout.cluster, layout.cluster_name) == (16, "ledger", "16/ledger")
