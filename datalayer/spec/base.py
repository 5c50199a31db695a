"""The base every spec model shares: unknown keys are errors, values are immutable."""

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict


@dataclass(frozen=True)
class Constraint:
    """What a value must be, in words, beside the validator that enforces it: carried in a
    type's ``Annotated`` metadata (pydantic ignores it) for the README's reference table
    (:mod:`datalayer.spec.reference`), so the table states each key's constraints from the
    model itself."""

    text: str


class SpecModel(BaseModel):
    """Strict, frozen model: a typo in a key is an error, not a silently ignored setting."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)
