"""Each fact of the deploys reads what its command printed on a real host, as data.

One case per file under ``facts/<fact>/`` (the layout of pyinfra's own fact tests, see
``recorded.py``): ``arguments`` the fact was called with, ``output`` its command printed where
``recorded`` says, and ``fact`` what ``process()`` must make of it, in JSON's terms.
"""

import ast
import inspect
from pathlib import Path
from typing import Any

import pytest

from datalayer.paths import REPOSITORY_ROOT
from tests.unit.deploy.recorded import FACT_CASES, as_data, case_id, processed, read_case, resolve


def deploy_facts() -> set[str]:
    """Every fact class the ``deploy`` package defines (a class whose base is ``FactBase[...]``),
    by full name, read from the source: importing ``deploy.site`` would run a deploy."""
    names = set()
    for path in sorted((REPOSITORY_ROOT / "deploy").rglob("*.py")):
        module = ".".join(path.relative_to(REPOSITORY_ROOT).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                "FactBase" in ast.unparse(base) for base in node.bases
            ):
                names.add(f"{module}.{node.name}")
    return names


@pytest.mark.parametrize("path", FACT_CASES, ids=case_id)
def test_fact_reads_the_recorded_output(path: Path) -> None:
    case = read_case(path)
    assert as_data(processed(path.parent.name, case["output"])) == case["fact"]


@pytest.mark.parametrize("path", FACT_CASES, ids=case_id)
def test_case_arguments_are_the_facts_own(path: Path) -> None:
    # As pyinfra's FakeHost checks (tests/util.py:194-201): a case whose arguments the fact's
    # command no longer takes describes a fact that no longer exists.
    fact: Any = resolve(path.parent.name)()
    inspect.signature(fact.command).bind(**read_case(path).get("arguments", {}))


def test_every_fact_of_the_deploys_has_a_recorded_case() -> None:
    assert sorted(deploy_facts() - {path.parent.name for path in FACT_CASES}) == []
