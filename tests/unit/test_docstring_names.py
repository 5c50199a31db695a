"""Every dotted name of this project's packages that prose mentions exists.

Docstrings, comments and the Markdown files name functions, classes and modules as
``datalayer.hooks.build.fingerprint``; a rename or a removal leaves such a name pointing
nowhere, and a reader looks for what is not there. Each mention (one test case per file, line
and name) must resolve: the longest prefix that is a module is found (without running it, so
that scripts such as ``deploy.site`` count), and the rest are attributes of it, or fields
annotated on a class (pydantic models and dataclasses keep fields off the class itself).
"""

import ast
import importlib
import importlib.util
import io
import re
import tokenize
from pathlib import Path
from typing import Any

import pytest

from datalayer.onhost.hooks.migrations import AGGREGATE_LEDGER_TABLE, LEDGER_SCHEMA, LEDGER_TABLE

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("datalayer", "deploy", "infra")
NAME = re.compile(rf"(?<![\w./-])(?:{'|'.join(PACKAGES)})(?:\.[A-Za-z_]\w*)+")
"""A dotted name that starts with one of the packages, not inside a path or another name."""
SQL_TABLES = {f"{LEDGER_SCHEMA}.{table}" for table in (LEDGER_TABLE, AGGREGATE_LEDGER_TABLE)}
"""The hooks' ledgers in the database: a schema named like the package, not Python names."""
QUOTED = re.compile(r"``[^`]+``|`[^`]+`")


def _sources() -> list[Path]:
    """The repository's Python and Markdown files, without hidden or built directories."""
    return sorted(
        path
        for pattern in ("*.py", "*.md")
        for path in REPOSITORY_ROOT.rglob(pattern)
        if not any(
            part.startswith(".") or part.endswith(".egg-info") or part == "build"
            for part in path.relative_to(REPOSITORY_ROOT).parts
        )
    )


def _prose(path: Path) -> list[tuple[int, str]]:
    """(first line, text) of each docstring and comment of a Python file; of each line of a
    Markdown file."""
    text = path.read_text()
    if path.suffix == ".md":
        return list(enumerate(text.splitlines(), start=1))
    strings = [
        (node.lineno, node.value.value)
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    ]
    comments = [
        (token.start[0], token.string)
        for token in tokenize.generate_tokens(io.StringIO(text).readline)
        if token.type == tokenize.COMMENT
    ]
    return strings + comments


def _mentions() -> list[Any]:
    """One case per mention, named ``file:line:name``."""
    mentions = []
    for path in _sources():
        for first, prose in _prose(path):
            text = QUOTED.sub(_unwrapped, prose)
            for found in NAME.finditer(text):
                name, line = found.group(), first + text.count("\n", 0, found.start())
                if name not in SQL_TABLES:
                    where = f"{path.relative_to(REPOSITORY_ROOT)}:{line}"
                    mentions.append(pytest.param(name, id=f"{where}:{name}"))
    return mentions


def _unwrapped(quoted: re.Match[str]) -> str:
    """Quoted text without the line break and indentation a long name is wrapped with after
    one of its dots."""
    return re.sub(r"(?<=\.)\s+(?=\w)", "", quoted.group())


def _is_module(name: str) -> bool:
    """Whether ``name`` is a module, found without running it; False also where a parent is
    not a package (``datalayer.spec.load.SpecError``)."""
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def _resolves(name: str) -> bool:
    """Whether ``name`` is a module, or a module's attribute (or a class's field) path."""
    parts = name.split(".")
    count = max(count for count in range(1, len(parts) + 1) if _is_module(".".join(parts[:count])))
    found: object = importlib.import_module(".".join(parts[:count])) if count < len(parts) else None
    for position, attribute in enumerate(parts[count:], start=count + 1):
        if hasattr(found, attribute):
            found = getattr(found, attribute)
        elif isinstance(found, type) and any(
            attribute in getattr(klass, "__annotations__", {}) for klass in found.__mro__
        ):
            # A field without a class attribute: nothing further can be looked up on it.
            return position == len(parts)
        else:
            return False
    return True


@pytest.mark.parametrize("name", _mentions())
def test_mentioned_name_exists(name: str) -> None:
    assert _resolves(name), f"{name} names nothing: no such module, function, class or field"
