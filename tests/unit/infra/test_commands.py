"""The stacks' local commands (the post-provision hooks, InfluxDB's setup step): where they run,
and that whatever re-runs them is an update of the command, never a replacement.

pulumi/pulumi-command v1.2.1: ``triggers`` is the only input marked replaceOnChanges
(provider/pkg/provider/common/inputs.go:10; the Python SDK adds ``replace_on_changes=
["triggers[*]"]``, pulumi_command/local/command.py:807); every other changed input is an update
(pulumi-go-provider v1.3.0 infer/resource.go:1132-1152), which keeps the previous stdout
(local/commandController.go:74). A command without ``dir`` runs in the provider's working
directory (local/commandOutputs.go:73-80), the program's directory.
"""

import os
from typing import Any

import pytest

from datalayer.paths import REPOSITORY_ROOT
from infra.program import PYTHON
from tests.unit.infra.conftest import stack_document
from tests.unit.infra.harness import MAIN, StackRun, command, run_stack, unwrap

COMMANDS = ["timescaledb-hooks", "influxdb-setup"]
REPLACE_ON_CHANGES = {"triggers"}
"""pulumi-command's inputs whose change replaces a command (common/inputs.go:10)."""


@pytest.mark.parametrize("name", COMMANDS)
def test_commands_run_in_the_repository_root_from_the_program_directory(
    stack: StackRun, name: str
) -> None:
    """Pulumi runs the provider in the program's directory (``main: infra/``): ``dir`` is taken
    from there, and written relative so that it is the same on every machine."""
    directory = command(stack, name)["dir"]
    assert os.path.normpath(MAIN.parent / directory) == str(REPOSITORY_ROOT)
    assert not os.path.isabs(directory)


@pytest.mark.parametrize("name", COMMANDS)
def test_commands_name_the_interpreter_of_the_repositorys_virtualenv(
    stack: StackRun, name: str
) -> None:
    inputs = command(stack, name)
    interpreter = os.path.normpath(MAIN.parent / inputs["dir"] / PYTHON)
    assert inputs["create"].split()[0] == PYTHON
    assert interpreter == str(REPOSITORY_ROOT / ".venv" / "bin" / "python")


def changed_inputs(before: StackRun, after: StackRun, name: str) -> set[str]:
    """The inputs of command ``name`` that differ between two runs."""
    old, new = unwrap(command(before, name)), unwrap(command(after, name))
    return {key for key in old.keys() | new.keys() if old.get(key) != new.get(key)}


def with_retention(document: dict[str, Any]) -> None:
    document["config"]["datalayer:influxdb"]["retention"] = "52w"


def with_connection_limit(document: dict[str, Any]) -> None:
    document["config"]["datalayer:timescaledb"]["roles"][1]["connection_limit"] = 5


@pytest.mark.parametrize(
    ("name", "change"),
    [("influxdb-setup", with_retention), ("timescaledb-hooks", with_connection_limit)],
    ids=["setup-plan", "hooks-fingerprint"],
)
def test_a_changed_spec_reruns_the_command_as_an_update(name: str, change: Any) -> None:
    document = stack_document("dev")
    before = run_stack("dev", document)
    change(document)
    changed = changed_inputs(before, run_stack("dev", document), name)
    assert changed and not changed & REPLACE_ON_CHANGES


def test_a_changed_password_reruns_the_hooks_as_an_update() -> None:
    """The passwords are in the command's environment: their change alone is an update (the
    setup step's secrets are in its stdin, never were in a trigger, and re-run it likewise)."""
    before = run_stack("dev", secrets={"DATALAYER_READER_PASSWORD": "Reader-Password-One-0123"})
    after = run_stack("dev", secrets={"DATALAYER_READER_PASSWORD": "Reader-Password-Two-4567"})
    changed = changed_inputs(before, after, "timescaledb-hooks")
    assert changed and not changed & REPLACE_ON_CHANGES
