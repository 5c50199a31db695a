"""Print the Markdown table of every spec key, its default and meaning, from the models.

    python -m datalayer.spec.reference

The README embeds this output between markers; a unit test fails when they drift apart.
"""

from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from datalayer.spec.environment import EnvironmentSpec
from datalayer.spec.load import PROJECT_NAMESPACE

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


def _variant(model: type[BaseModel]) -> str:
    """How a union's variant is told apart in the file: its ``type`` value, else its name."""
    field = model.model_fields.get("type")
    if field is not None and get_origin(field.annotation) is Literal:
        return str(get_args(field.annotation)[0])
    return model.__name__


def _rows(model: type[BaseModel], prefix: str, variant: str = "") -> list[str]:
    rows = []
    for name, field in model.model_fields.items():
        if model is EnvironmentSpec and name == "name":
            continue
        key = f"{prefix}{name}"
        origin = get_origin(field.annotation)
        suffix = "[]" if origin is list else ".<name>" if origin is dict else ""
        description = " ".join((field.description or "").split())
        qualifier = f" ({variant})" if variant else ""
        rows.append(f"| `{key}{suffix}`{qualifier} | {_default(field)} | {description} |")
        nested = _nested_models(field.annotation)
        for model_ in nested:
            # The variants of a union (a repository's posix or s3) share keys such as type and
            # path with different defaults: each variant's rows say which one they belong to.
            rows += _rows(model_, f"{key}{suffix}.", _variant(model_) if len(nested) > 1 else "")
    return rows


def reference_table() -> str:
    """The whole table, headed by the namespace the keys live in."""
    header = [
        f"Keys live under `{PROJECT_NAMESPACE}:` in the `config:` section of `Pulumi.<env>.yaml`.",
        "",
        "| key | default | meaning |",
        "| --- | --- | --- |",
    ]
    return "\n".join(header + _rows(EnvironmentSpec, "")) + "\n"


if __name__ == "__main__":
    print(reference_table(), end="")
