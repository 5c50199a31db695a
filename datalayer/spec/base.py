"""The base every spec model shares: unknown keys are errors, values are immutable."""

from pydantic import BaseModel, ConfigDict


class SpecModel(BaseModel):
    """Strict, frozen model: a typo in a key is an error, not a silently ignored setting."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)
