"""Read an environment from the ``config:`` section of ``Pulumi.<env>.yaml``.

Pulumi stores a project's configuration under ``<project>:<key>``; this loader takes the keys of
this project's namespace and validates them as one :class:`EnvironmentSpec`. Keys of other
namespaces (``docker:host``, provider settings) belong to Pulumi and are left alone.
"""

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from datalayer.paths import REPOSITORY_ROOT
from datalayer.spec.base import NOT_SET, SPEC_PROBLEMS
from datalayer.spec.environment import EnvironmentSpec
from datalayer.spec.errors import (
    MASK,
    MOST_SHOWN,
    PROJECT_NAMESPACE,
    SpecError,
    is_secret_key,
    not_set_line,
    shortened,
    shown,
)

_STACK_FILE_PREFIX = "Pulumi."
_STACK_FILE_SUFFIX = ".yaml"
STACKS_VARIABLE = "DATALAYER_STACKS"


def stacks_directory() -> Path:
    """Where the stack files are: the repository, or ``$DATALAYER_STACKS`` to rehearse a changed
    copy of an environment (the tests do) without editing the checked-in file."""
    return Path(os.environ.get(STACKS_VARIABLE) or REPOSITORY_ROOT)


def known_environments(root: Path | None = None) -> list[str]:
    """Names of the environments that have a stack file in ``root``."""
    root = root or stacks_directory()
    return sorted(
        path.name[len(_STACK_FILE_PREFIX) : -len(_STACK_FILE_SUFFIX)]
        for path in root.glob(f"{_STACK_FILE_PREFIX}*{_STACK_FILE_SUFFIX}")
        if path.name != "Pulumi.yaml"
    )


def stack_file(name: str, root: Path | None = None) -> Path:
    """The stack file of environment ``name``; an unknown name is a :class:`SpecError`."""
    root = root or stacks_directory()
    path = root / f"{_STACK_FILE_PREFIX}{name}{_STACK_FILE_SUFFIX}"
    if not path.is_file():
        known = ", ".join(known_environments(root)) or "none"
        raise SpecError(f"env: unknown environment {name!r} (known: {known}); no {path.name}")
    return path


def load_environment(name: str, root: Path | None = None) -> EnvironmentSpec:
    """Load and validate environment ``name`` from its stack file."""
    path = stack_file(name, root)
    document = read_stack_document(path)
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise SpecError(
            f"{path.name}: config: must be a mapping of keys (datalayer:...), "
            f"not a {type(config).__name__}"
        )
    return parse_environment(name, config, source=path.name)


MOST_NODES = 10_000
"""The most YAML nodes a stack file may expand to, aliases counted at each use. The largest
stack file here has a few hundred; a "billion laughs" file of 450 bytes expands to 10^9."""


def read_stack_document(path: Path) -> dict[str, Any]:
    """The YAML document of a stack file, as a mapping; anything else is one-line SpecError.

    PyYAML's own errors span several lines (the problem, the context, a caret under the text);
    each is turned into ``FILE: line L, column C: YAML syntax error: PROBLEM``. Aliases are
    resolved only while the document stays under :data:`MOST_NODES` nodes, so an alias bomb is
    refused before anything is built from it (or repeated in an error line), and a key written
    twice is refused rather than silently overwritten by the second.
    """
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise SpecError(
            f"{path.name}: line {line}: not UTF-8 text (byte {raw[error.start]:#04x}); "
            "save the file as UTF-8"
        ) from None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return {}
        _check_nodes(node, path.name)
        document = loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = " ".join(str(error.problem or error.context or "").split())
        raise SpecError(f"{path.name}: {where}YAML syntax error: {problem}") from None
    except RecursionError:
        # PyYAML composes and constructs nested collections recursively.
        raise SpecError(
            f"{path.name}: YAML nests collections deeper than can be read; flatten it"
        ) from None
    except yaml.YAMLError as error:
        problem = " ".join(str(error).split())
        raise SpecError(f"{path.name}: YAML syntax error: {shortened(problem)}") from None
    finally:
        loader.dispose()
    if not isinstance(document, dict):
        raise SpecError(
            f"{path.name}: must be a mapping (config: ...) at the top level, "
            f"not a {type(document).__name__}"
        )
    return document


def _check_nodes(root: yaml.Node, source: str) -> None:
    """Refuse a document that expands to more than :data:`MOST_NODES` nodes, or that writes a
    key twice in one mapping. Each distinct node is visited once (sizes are memoized), so even
    a bomb costs time linear in the file's size."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        sizes[id(node)] = MOST_NODES + 1  # a node that contains itself expands without end
        total = 1
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in seen:
                        mark = key.start_mark
                        raise SpecError(
                            f"{source}: line {mark.line + 1}, column {mark.column + 1}: "
                            f"key {shortened(repr(key.value))} appears twice"
                        )
                    seen.add(key.value)
                total += size(key) + size(value)
                if total > MOST_NODES:
                    break
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                total += size(item)
                if total > MOST_NODES:
                    break
        sizes[id(node)] = total
        return total

    if size(root) > MOST_NODES:
        raise SpecError(
            f"{source}: YAML aliases expand to more than {MOST_NODES} values; "
            "write the values out instead"
        )


def parse_environment(name: str, config: dict[str, Any], *, source: str) -> EnvironmentSpec:
    """Validate a Pulumi ``config:`` mapping (``datalayer:<key>`` entries) as an environment.

    Also the entry point of the Pulumi program, which hands over the same mapping it read.
    """
    prefix = f"{PROJECT_NAMESPACE}:"
    fields = {key[len(prefix) :]: value for key, value in config.items() if key.startswith(prefix)}
    try:
        return EnvironmentSpec.model_validate({"name": name, **fields})
    except ValidationError as error:
        raise SpecError(_describe(error, source, {"name": name, **fields})) from None


def _written_location(location: tuple[int | str, ...], document: Any, *, missing: bool) -> str:
    """The dotted key as the file writes it.

    Pydantic also puts the tag of a discriminated union in the location (``repository.s3.bucket``
    for ``repository: {type: s3}``). A tag is a part that is not a key of the document at that
    point, which otherwise only the missing key of a ``missing`` error is; it is left out:
    ``repository.bucket``.
    """
    parts = []
    node = document
    for index, part in enumerate(location):
        names_missing_key = missing and index == len(location) - 1
        is_tag = isinstance(node, dict) and isinstance(part, str) and part not in node
        if is_tag and not names_missing_key:
            continue
        parts.append(str(part))
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            node = None
    return ".".join(parts)


def _describe(error: ValidationError, source: str, document: dict[str, Any]) -> str:
    """One line per problem: file, dotted key, offending value, reason.

    The value is shortened, and never shown under a secret-named key (``'***'``): neither where
    the line names it nor where pydantic's reason repeats it.
    """
    lines = []
    for problem in error.errors():
        own = problem["type"] in SPEC_PROBLEMS
        if own:
            # The spec's own checks name the key as the file writes it, or would write it.
            location = ".".join(str(part) for part in problem["loc"])
        else:
            location = _written_location(
                problem["loc"], document, missing=problem["type"] == "missing"
            )
        if problem["type"] == NOT_SET:
            lines.append(not_set_line(source, location, problem["msg"]))
            continue
        key = f"{PROJECT_NAMESPACE}:{location}" if location else PROJECT_NAMESPACE
        reason = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":
            reason = "unknown key (a typo?)"
        value = problem.get("input")
        secret = any(is_secret_key(part) for part in problem["loc"])
        if secret and isinstance(value, str) and value:
            reason = reason.replace(value, MASK)
        if problem["type"] == "missing" or isinstance(value, dict):
            value_text = ""
        elif secret:
            value_text = f" {MASK!r}"
        else:
            value_text = f" {shown(value)}"
        if not own:
            # Pydantic's reason may quote the value again: bound it like the value, with room
            # for words. The spec's own reasons quote only values of bounded length.
            reason = shortened(reason, 2 * MOST_SHOWN)
        lines.append(f"{source}: {key}:{value_text} {reason}")
    return "\n".join(lines)
