"""What every host-side step shares: its plan as JSON, its command line, its exit status.

A step (the hooks' ``datalayer.onhost.hooks.remote``, ``datalayer.onhost.influxdb_setup``) is
given a plan built from the spec on the control machine and uploaded as a file, holding no
secret; the secrets it needs come on stdin. Both run alike:

    python3 -m STEP check PLAN_FILE [OPTIONS]            what differs, one line each; no change
    python3 -m STEP apply PLAN_FILE [OPTIONS] < SECRETS  converge; one line per item

and exit with :data:`EXIT_DRIFT` when ``check`` finds something to do, so that the deploy's
fact tells drift from failure by the status alone.
"""

import argparse
import dataclasses
import json
import types
import typing
from typing import Any, TypeVar

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
"""Bad input: arguments, a plan or stdin that cannot be read (argparse's own status too)."""
EXIT_DRIFT = 3
"""``check`` found something to create or change."""

CHECK = "check"
APPLY = "apply"


# A TypeVar, not typing.Self: a host's python3 may be older than 3.11.
PlanType = TypeVar("PlanType", bound="JsonPlan")


class JsonPlan:
    """A plan (a frozen dataclass of text, numbers, tuples, dictionaries, optional values and
    other such dataclasses) written as JSON and read back: the one form a plan has in a file, on
    stdin and in a fingerprint."""

    def to_json(self) -> str:
        """The plan as JSON text (stable key order, so equal plans give equal text)."""
        assert dataclasses.is_dataclass(self)
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls: type[PlanType], text: str) -> PlanType:
        """The plan that :meth:`to_json` wrote."""
        plan: PlanType = _read(cls, json.loads(text))
        return plan


def _read(kind: Any, value: Any) -> Any:
    """``value`` as JSON read it, made the ``kind`` a plan's field declares."""
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        hints = typing.get_type_hints(kind)
        return kind(
            **{
                field.name: _read(hints[field.name], value[field.name])
                for field in dataclasses.fields(kind)
            }
        )
    origin = typing.get_origin(kind)
    if origin is tuple:
        (item, _) = typing.get_args(kind)  # tuple[X, ...]
        return tuple(_read(item, element) for element in value)
    if origin in (types.UnionType, typing.Union):  # X | None
        (present,) = [choice for choice in typing.get_args(kind) if choice is not type(None)]
        return None if value is None else _read(present, value)
    return value  # text, numbers, booleans and dict[str, str] are as JSON reads them


def arguments(prog: str, description: str) -> argparse.ArgumentParser:
    """A step's command line: its mode and its plan file; a step adds its own options."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("mode", choices=(CHECK, APPLY))
    parser.add_argument("plan", help="the plan JSON the deploy uploaded (no secrets)")
    return parser
