"""Each operation of the deploys yields the recorded commands for what a host answered, as data.

One case per file under ``operations/<operation>/`` (the layout of pyinfra's own operation
tests, see ``recorded.py``): the operation's ``arguments``, the ``facts`` the host answers
(recorded outputs, read by the facts themselves), and the ``commands`` it must yield, or the
``noop`` it must report.
"""

from pathlib import Path
from typing import Any, get_type_hints

import pytest
from pydantic import SecretStr

from tests.unit.deploy.recorded import (
    OPERATION_CASES,
    RecordedHost,
    case_id,
    command_data,
    on,
    read_case,
    resolve,
)


def typed_arguments(function: Any, arguments: dict[str, Any]) -> dict[str, Any]:
    """The case's JSON arguments as the operation takes them: secrets (alone or by name) as
    SecretStr, and objects with a ``from_json`` (the InfluxDB setup plan) read by it."""
    hints = get_type_hints(function)
    typed: dict[str, Any] = {}
    for name, value in arguments.items():
        hint = hints.get(name)
        if hint is SecretStr:
            typed[name] = SecretStr(value)
        elif hint == dict[str, SecretStr]:
            typed[name] = {key: SecretStr(secret) for key, secret in value.items()}
        elif hint is not None and hasattr(hint, "from_json"):
            typed[name] = hint.from_json(value)
        else:
            typed[name] = value
    return typed


@pytest.mark.parametrize("path", OPERATION_CASES, ids=case_id)
def test_operation_yields_the_recorded_commands(path: Path) -> None:
    case = read_case(path)
    operation = resolve(path.parent.name)._inner
    host = RecordedHost(case.get("facts", []))
    with on(host):
        commands = [
            command_data(command)
            for command in operation(**typed_arguments(operation, case.get("arguments", {})))
        ]
    assert {"commands": commands, "noop": host.noop_description} == {
        "commands": case["commands"],
        "noop": case.get("noop"),
    }
