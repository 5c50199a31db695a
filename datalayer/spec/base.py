"""The base every spec model shares: unknown keys are errors, values are immutable; and the
problems a model's own validator reports at the keys they concern."""

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

NOT_SET = "not_set"
"""Error type of a section or key the environment lacks, although another one needs it."""
REFUSED = "refused"
"""Error type of a value the environment's other sections refuse."""
SPEC_PROBLEMS = (NOT_SET, REFUSED)
"""The error types of the spec's own checks, whose lines ``datalayer.spec.load`` writes from
the key and reason given here (pydantic's own reasons it rewords and bounds)."""


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


def not_set(location: tuple[str, ...], reason: str) -> InitErrorDetails:
    """``location`` (keys from the validated model down) is missing, and ``reason`` says who
    needs it: written ``datalayer:KEY is not set: REASON``."""
    return InitErrorDetails(
        type=PydanticCustomError(NOT_SET, "{reason}", {"reason": reason}), loc=location, input=None
    )


def refused(location: tuple[str, ...], value: object, reason: str) -> InitErrorDetails:
    """``value``, written at ``location``, does not fit another section: ``reason`` says why,
    after the key and the value."""
    return InitErrorDetails(
        type=PydanticCustomError(REFUSED, "{reason}", {"reason": reason}), loc=location, input=value
    )


def report(model: BaseModel, problems: Sequence[InitErrorDetails]) -> None:
    """Raise every problem at once, each at its own key.

    A validator's ValueError would be one problem at the model's own key; a ValidationError
    raised in a validator keeps its line errors and their locations, which pydantic prefixes
    with the model's (pydantic-core v2.41.5, src/validators/function.rs:514, ``convert_err``:
    ``validation_error.into_val_error()``).
    """
    if problems:
        raise ValidationError.from_exception_data(type(model).__name__, list(problems))
