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
from datalayer.spec.environment import EnvironmentSpec
from datalayer.spec.errors import SpecError

PROJECT_NAMESPACE = "datalayer"
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
    document = yaml.safe_load(path.read_text()) or {}
    if not isinstance(document, dict):
        raise SpecError(f"{path.name}: expected a mapping at the top level")
    return parse_environment(name, document.get("config") or {}, source=path.name)


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
    """One line per problem: file, dotted key, offending value, reason."""
    lines = []
    for problem in error.errors():
        location = _written_location(problem["loc"], document, missing=problem["type"] == "missing")
        key = f"{PROJECT_NAMESPACE}:{location}" if location else PROJECT_NAMESPACE
        reason = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":
            reason = "unknown key (a typo?)"
        value = problem.get("input")
        shown = "" if problem["type"] == "missing" or isinstance(value, dict) else f" {value!r}"
        lines.append(f"{source}: {key}:{shown} {reason}")
    return "\n".join(lines)
