"""Every key of the spec has a malformed case in ``tests/unit/spec/data/bad_input/``.

The keys are those of the README's reference table (:func:`datalayer.spec.reference.spec_keys`,
the walk that prints it): each key a value is written under, and each mapping whose entries'
names are values too (``timescaledb.hypertables.<name>``). A case covers the key it names with
``key:``, or else each key its ``stack`` patch sets, written back in the table's form
(``datalayer:timescaledb.hba.0.address`` is ``timescaledb.hba[].address``; a patch of a whole
list covers its items' key). A patch that could be either variant of a union
(``repository.path``: posix or s3) covers neither: such a case says which with ``key:``.

No key is exempt: every one can be given a malformed value (a wrong type at least, and even
free text such as ``hba[].comment`` refuses line breaks and control characters).
"""

import functools
import re

import pytest

from datalayer.spec.errors import PROJECT_NAMESPACE
from datalayer.spec.reference import SpecKey, spec_keys
from tests.unit.spec.bad_input import CASES_DIRECTORY, Case, load_cases

_NAME = r"\.[^.]+(?:\.[^.]+)?"
"""The name of a mapping's entry, as a patch writes it: one part, or two (``schema.table``,
``timescaledb.telemetry_level``)."""


def _takes_a_value(spec_key: SpecKey) -> bool:
    return not spec_key.holds_models or spec_key.key.endswith(".<name>")


KEYS = [spec_key.label for spec_key in spec_keys() if _takes_a_value(spec_key)]


def _patch_pattern(spec_key: SpecKey) -> re.Pattern[str]:
    """The dotted patch paths that set ``spec_key``: a list's index, a mapping's name."""
    text = re.escape(spec_key.key).replace(r"\[\]", r"(?:\.[0-9]+)?").replace(r"\.<name>", _NAME)
    return re.compile(text)


@functools.cache
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((spec_key.label, _patch_pattern(spec_key)) for spec_key in spec_keys())


def covered_keys(case: Case) -> set[str]:
    """The spec keys ``case`` gives a malformed value."""
    if case.key is not None:
        return {case.key}
    covered = set()
    for dotted in case.stack:
        path = dotted.removeprefix(f"{PROJECT_NAMESPACE}:")
        labels = [label for label, pattern in _patterns() if pattern.fullmatch(path)]
        if len(labels) == 1:
            covered.add(labels[0])
    return covered


@functools.cache
def _all_covered() -> frozenset[str]:
    return frozenset(key for case in load_cases() for key in covered_keys(case))


@pytest.mark.parametrize("key", KEYS)
def test_spec_key_has_a_malformed_case(key: str) -> None:
    assert key in _all_covered(), f"no case in {CASES_DIRECTORY} gives {key} a bad value"


@pytest.mark.parametrize(
    "case", [pytest.param(case, id=case.id) for case in load_cases() if case.key is not None]
)
def test_case_key_is_a_key_of_the_spec(case: Case) -> None:
    assert case.key in KEYS
