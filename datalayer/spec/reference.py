"""Print the Markdown table of every spec key, its default and meaning, from the models.

    python -m datalayer.spec.reference

The README embeds this output between markers; a unit test fails when they drift apart.
"""

from types import UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from datalayer.spec.environment import EnvironmentSpec
from datalayer.spec.load import PROJECT_NAMESPACE

BEGIN_MARKER = "<!-- spec-reference:begin -->"
END_MARKER = "<!-- spec-reference:end -->"


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds directly, in a list, as a mapping's values, or optionally."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) is dict:
        return _nested_model(get_args(annotation)[1])
    if get_origin(annotation) in (list, Union, UnionType):
        for argument in get_args(annotation):
            model = _nested_model(argument)
            if model is not None:
                return model
    return None


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


def _rows(model: type[BaseModel], prefix: str) -> list[str]:
    rows = []
    for name, field in model.model_fields.items():
        if model is EnvironmentSpec and name == "name":
            continue
        key = f"{prefix}{name}"
        nested = _nested_model(field.annotation)
        origin = get_origin(field.annotation)
        suffix = "[]" if origin is list else ".<name>" if origin is dict else ""
        description = " ".join((field.description or "").split())
        rows.append(f"| `{key}{suffix}` | {_default(field)} | {description} |")
        if nested is not None:
            rows += _rows(nested, f"{key}{suffix}.")
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
