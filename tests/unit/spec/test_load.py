"""How a stack file is read: every checked-in one reads cleanly, and a YAML alias bomb is refused
at once, in a line of its own size rather than the expansion's."""

import itertools
import time
from pathlib import Path

import pytest
import yaml

from datalayer.paths import REPOSITORY_ROOT
from datalayer.spec import SpecError, load_environment
from datalayer.spec.load import known_environments, read_stack_document


@pytest.mark.parametrize("name", known_environments(REPOSITORY_ROOT))
def test_checked_in_stack_file_reads_as_yaml_does(name: str) -> None:
    path = REPOSITORY_ROOT / f"Pulumi.{name}.yaml"
    assert read_stack_document(path) == yaml.safe_load(path.read_text())


def _alias_bomb() -> str:
    """Nine levels of nine aliases each: 430 bytes that expand to 9^9 (387 million) values."""
    levels = "abcdefghi"
    lines = ["x-anchors:", "  a: &a [" + ",".join(['"lol"'] * 9) + "]"]
    lines += [
        f"  {current}: &{current} [" + ",".join([f"*{previous}"] * 9) + "]"
        for previous, current in itertools.pairwise(levels)
    ]
    lines += ["config:", "  datalayer:timescaledb:", "    listen_addresses: *i"]
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_quickly_in_a_short_line(tmp_path: Path) -> None:
    bomb = _alias_bomb()
    assert 400 <= len(bomb.encode()) <= 500
    (tmp_path / "Pulumi.bomb.yaml").write_text(bomb)
    started = time.monotonic()
    with pytest.raises(SpecError) as refused:
        load_environment("bomb", tmp_path)
    assert time.monotonic() - started < 0.5
    assert str(refused.value) == (
        "Pulumi.bomb.yaml: YAML aliases expand to more than 10000 values; "
        "write the values out instead"
    )


def test_a_few_aliases_are_still_read(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.aliases.yaml"
    path.write_text("x: &memory 1GB\nconfig:\n  a: *memory\n  b: *memory\n")
    assert read_stack_document(path)["config"] == {"a": "1GB", "b": "1GB"}
