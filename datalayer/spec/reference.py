"""Print the Markdown table of every spec key, its default, constraints and meaning, from the
models: the constraints come from each field's metadata (bounds, lengths, Literal and enum values,
the :class:`~datalayer.spec.base.Constraint` its type carries beside the validator).

    python -m datalayer.spec.reference

The README embeds this output between markers; a unit test fails when they drift apart.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from datalayer.spec.base import Constraint
from datalayer.spec.environment import EnvironmentSpec
from datalayer.spec.errors import PROJECT_NAMESPACE

BEGIN_MARKER = "<!-- spec-reference:begin -->"
END_MARKER = "<!-- spec-reference:end -->"


def _nested_models(annotation: Any) -> list[type[BaseModel]]:
    """The models a field holds directly, in a list, as a mapping's values, optionally, or as one
    of a union's variants (each variant of ``timescaledb.backup.repository``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if get_origin(annotation) is Annotated:
        return _nested_models(get_args(annotation)[0])
    if get_origin(annotation) is dict:
        return _nested_models(get_args(annotation)[1])
    if get_origin(annotation) in (list, Union, UnionType):
        return [model for argument in get_args(annotation) for model in _nested_models(argument)]
    return []


def _default(field: Any) -> str:
    if field.default is PydanticUndefined and field.default_factory is None:
        return "required"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        return "see below"
    if value in ([], {}):
        return "empty"
    if value is None:
        return "unset"
    return f"`{getattr(value, 'value', value)}`"


_PLAIN_TYPES = {int: "integer", bool: "true or false", float: "number", str: "text"}


def _metadata_constraints(metadata: list[Any] | tuple[Any, ...]) -> list[str]:
    """Bounds and lengths (annotated_types, as Field(ge=...) records them) and Constraints."""
    words = [item.text for item in metadata if isinstance(item, Constraint)]
    bounds = []
    for item in metadata:
        if isinstance(item, annotated_types.Ge):
            bounds.append(f">= {item.ge}")
        elif isinstance(item, annotated_types.Gt):
            bounds.append(f"> {item.gt}")
        elif isinstance(item, annotated_types.Le):
            bounds.append(f"<= {item.le}")
        elif isinstance(item, annotated_types.Lt):
            bounds.append(f"< {item.lt}")
        elif isinstance(item, annotated_types.MinLen) and item.min_length:
            bounds.append(f"at least {item.min_length}")
        elif isinstance(item, annotated_types.MaxLen):
            bounds.append(f"at most {item.max_length}")
        elif getattr(item, "pattern", None) and not words:
            bounds.append(f"matches `{item.pattern}`")
    return [*words, ", ".join(bounds)] if bounds else words


def _type_constraints(annotation: Any) -> list[str]:
    """What a type admits, in words: a Constraint it carries, else its Literal or enum values,
    else the plain type; through lists, mappings (their values) and unions."""
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *metadata = get_args(annotation)
        words = _metadata_constraints(metadata)
        carried = any(isinstance(item, Constraint) for item in metadata)
        return words if carried else words + _type_constraints(base)
    if origin is Literal:
        return ["one of " + ", ".join(f"`{value}`" for value in get_args(annotation))]
    if origin in (Union, UnionType):
        variants = [
            " ".join(_type_constraints(argument))
            for argument in get_args(annotation)
            if argument is not NoneType
        ]
        return [" or ".join(variant for variant in variants if variant)]
    if origin is list:
        return _type_constraints(get_args(annotation)[0])
    if origin is dict:
        return _type_constraints(get_args(annotation)[1])
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return ["one of " + ", ".join(f"`{member.value}`" for member in annotation)]
    return [_PLAIN_TYPES.get(annotation, "")] if isinstance(annotation, type) else []


def _constraints(field: FieldInfo) -> str:
    """A field's constraints: its own metadata first; its type's when that carries no
    Constraint of its own (a mapping of settings says more than its value types)."""
    words = _metadata_constraints(field.metadata)
    if not any(isinstance(item, Constraint) for item in field.metadata):
        words += _type_constraints(field.annotation)
    return "; ".join(dict.fromkeys(word for word in words if word))


def _variant(model: type[BaseModel]) -> str:
    """How a union's variant is told apart in the file: its ``type`` value, else its name."""
    field = model.model_fields.get("type")
    if field is not None and get_origin(field.annotation) is Literal:
        return str(get_args(field.annotation)[0])
    return model.__name__


@dataclass(frozen=True)
class SpecKey:
    """One key of the spec as the table names it: dotted, ``[]`` after a list, ``.<name>`` after
    a mapping, and the union variant it belongs to (``s3``), if any."""

    key: str
    variant: str
    field: FieldInfo

    @property
    def label(self) -> str:
        """The key with its variant, as the table's first column writes it (without backticks)."""
        return f"{self.key} ({self.variant})" if self.variant else self.key

    @property
    def holds_models(self) -> bool:
        """Whether the key holds models whose own keys follow it in the table."""
        return bool(_nested_models(self.field.annotation))


def spec_keys(model: type[BaseModel] = EnvironmentSpec, prefix: str = "") -> Iterator[SpecKey]:
    """Every key of ``model`` and of the models it holds, in the table's order."""
    for name, field in model.model_fields.items():
        if model is EnvironmentSpec and name == "name":
            continue
        origin = get_origin(field.annotation)
        suffix = "[]" if origin is list else ".<name>" if origin is dict else ""
        key = f"{prefix}{name}{suffix}"
        yield SpecKey(key, "", field)
        nested = _nested_models(field.annotation)
        for model_ in nested:
            # The variants of a union (a repository's posix or s3) share keys such as type and
            # path with different defaults: each variant's keys say which one they belong to.
            variant = _variant(model_) if len(nested) > 1 else ""
            for inner in spec_keys(model_, f"{key}."):
                yield inner if inner.variant else SpecKey(inner.key, variant, inner.field)


def _row(spec_key: SpecKey) -> str:
    field = spec_key.field
    description = " ".join((field.description or "").split())
    qualifier = f" ({spec_key.variant})" if spec_key.variant else ""
    constraints = _constraints(field) if not spec_key.holds_models else ""
    return f"| `{spec_key.key}`{qualifier} | {_default(field)} | {constraints} | {description} |"


def reference_table() -> str:
    """The whole table, headed by the namespace the keys live in."""
    header = [
        f"Keys live under `{PROJECT_NAMESPACE}:` in the `config:` section of `Pulumi.<env>.yaml`.",
        "",
        "| key | default | constraints | meaning |",
        "| --- | --- | --- | --- |",
    ]
    return "\n".join(header + [_row(spec_key) for spec_key in spec_keys()]) + "\n"


if __name__ == "__main__":
    print(reference_table(), end="")
