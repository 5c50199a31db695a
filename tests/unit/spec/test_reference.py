"""The README's spec table is the one the models generate."""

import pytest

from datalayer.paths import REPOSITORY_ROOT
from datalayer.spec.reference import BEGIN_MARKER, END_MARKER, reference_table


def test_readme_spec_table_is_current() -> None:
    readme = (REPOSITORY_ROOT / "README.md").read_text()
    embedded = readme[readme.index(BEGIN_MARKER) + len(BEGIN_MARKER) : readme.index(END_MARKER)]
    assert embedded.strip() == reference_table().strip(), "run: python -m datalayer.spec.reference"


def _value_rows() -> list[tuple[str, str]]:
    """(key, constraints) of every row that holds a value rather than a section of keys."""
    lines = reference_table().splitlines()
    header = next(line for line in lines if line.startswith("| key |"))
    column = [cell.strip() for cell in header.strip("|").split("|")].index("constraints")
    rows = [line.split(" | ") for line in lines if line.startswith("| `")]
    keys = [row[0].removeprefix("| ") for row in rows]
    names = [key.split("`")[1] for key in keys]
    return [
        (key, row[column])
        for index, (key, row) in enumerate(zip(keys, rows, strict=True))
        if not (index + 1 < len(names) and names[index + 1].startswith(names[index] + "."))
    ]


@pytest.mark.parametrize(("key", "constraints"), _value_rows())
def test_every_key_states_its_constraints(key: str, constraints: str) -> None:
    assert constraints.strip(), f"{key}: give its type a Constraint or a bound"


@pytest.mark.parametrize(
    ("key", "constraint"),
    [
        ("`timescaledb.port`", "pg_settings: integer 1 .. 65535"),
        ("`timescaledb.max_connections`", "pg_settings: integer 1 .. 262143"),
        ("`timescaledb.backup.repository.path` (posix)", "no system directory"),
        ("`redis.maxmemory`", "a size with a unit"),
        ("`timescaledb.resources.storage`", "one of `ssd`, `hdd`, `network`"),
        ("`redis.port`", ">= 1, <= 65535"),
    ],
)
def test_constraints_come_from_the_models(key: str, constraint: str) -> None:
    assert constraint in dict(_value_rows())[key]
