"""Changing one value of a stack file changes the resources that value belongs to, and no other:
the graph is a function of the spec, with no setting in two places."""

from typing import Any

import pytest

from tests.unit.infra.conftest import stack_document
from tests.unit.infra.harness import StackRun, run_stack, unwrap


def changed(before: StackRun, after: StackRun) -> set[str]:
    """Names of the resources whose inputs differ between two runs (or that only one has)."""
    old, new = before.by_name(), after.by_name()
    return {
        name
        for name in old.keys() | new.keys()
        if name not in old
        or name not in new
        or unwrap(old[name].inputs) != unwrap(new[name].inputs)
    }


def with_value(document: dict[str, Any], key: str, path: list[str | int], value: Any) -> None:
    section = document["config"][key]
    for part in path[:-1]:
        section = section[part]
    section[path[-1]] = value


@pytest.fixture(scope="module")
def unchanged() -> StackRun:
    return run_stack("dev", stack_document("dev"))


@pytest.mark.parametrize(
    ("key", "path", "value", "resources"),
    [
        ("datalayer:redis", ["maxmemory"], "128mb", {"redis-container"}),
        ("datalayer:timescaledb", ["max_connections"], 150, {"timescaledb-container"}),
        ("datalayer:timescaledb", ["resources", "memory"], "4GB", {"timescaledb-container"}),
        (
            "datalayer:timescaledb",
            ["hba", 0, "address"],
            "172.20.0.0/16",
            {"timescaledb-container"},
        ),
        ("datalayer:timescaledb", ["roles", 1, "connection_limit"], 5, {"timescaledb-hooks"}),
        ("datalayer:influxdb", ["retention"], "52w", {"influxdb-container", "influxdb-setup"}),
        ("datalayer:containers", ["influxdb", "memory"], "2GB", {"influxdb-container"}),
        (
            "datalayer:containers",
            ["redis", "image"],
            "redis:8.0.3",
            {"redis-image", "redis-container"},
        ),
        (
            "datalayer:containers",
            ["timescaledb"],
            {"published_port": 15432},
            {"timescaledb-container", "timescaledb-hooks"},
        ),
        (
            "datalayer:containers",
            ["network"],
            {"subnet": "172.29.0.0/24"},
            {"network-network", "timescaledb-container"},
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_a_changed_value_changes_only_its_resources(
    unchanged: StackRun, key: str, path: list[str | int], value: Any, resources: set[str]
) -> None:
    document = stack_document("dev")
    with_value(document, key, path, value)
    assert changed(unchanged, run_stack("dev", document)) == resources


def test_the_same_stack_file_gives_the_same_graph(unchanged: StackRun) -> None:
    assert changed(unchanged, run_stack("dev", stack_document("dev"))) == set()


def test_volume_and_network_names_do_not_depend_on_settings(unchanged: StackRun) -> None:
    document = stack_document("dev")
    with_value(document, "datalayer:timescaledb", ["version"], 18)
    after = run_stack("dev", document)
    names = ("timescaledb-data", "redis-data", "influxdb-data", "influxdb-config")
    assert {name: after.named(name).inputs for name in names} == {
        name: unchanged.named(name).inputs for name in names
    }
