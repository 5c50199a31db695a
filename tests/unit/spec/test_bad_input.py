"""Every malformed input of ``tests/unit/spec/data/bad_input/`` is refused in one line, naming the
key, before any host is contacted, by every entry point that reads it.

Two layers, to stay fast on CI's two cores:

- every case, in this process: the deploy's preflight over a pyinfra inventory of the case's
  hosts (the function pyinfra runs through ``group_data/all.py`` while it loads the inventory),
  the verify command's judgement of the same inventory, the hooks CLI's ``main`` (its server a
  listening socket that counts connections) and the Pulumi program under mocks (nothing may be
  registered but the stack itself);
- the cases marked ``cli: true``, one of each kind, through the real processes: ``pyinfra --dry
  INVENTORY deploy/site.py``, ``python -m datalayer.verify`` and ``python -m datalayer.hooks``,
  their hosts a listening socket on 127.0.0.1 that must see no connection (about a second each).
"""

import importlib
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pyinfra.api.inventory import Inventory

from datalayer.paths import REPOSITORY_ROOT
from datalayer.secrets import SecretError
from datalayer.spec import SpecError
from tests.unit.infra.harness import refusal
from tests.unit.spec.bad_input import (
    ENVIRONMENT,
    Case,
    Listener,
    Prepared,
    load_cases,
    prepare,
    pulumi_document,
)

MOST_CHARACTERS = 300
"""An error line's bound: file, key, a value shortened to 80 characters, and the reason."""

preflight = importlib.import_module("deploy.preflight")
verify = importlib.import_module("datalayer.verify")
hooks_cli = importlib.import_module("datalayer.hooks.__main__")


def cases(*, cli: bool = False, stack_only: bool = False, inventory: bool = True) -> list[Any]:
    return [
        pytest.param(case, id=case.id)
        for case in load_cases()
        if (case.cli or not cli)
        and (case.reads_only_the_stack or not stack_only)
        and (case.needs_no_inventory or inventory)
    ]


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    served = Listener()
    yield served
    served.socket.close()


@pytest.fixture
def prepared(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Prepared:
    """The case on disk, and this process's environment set to the case's."""
    laid_out = prepare(case, tmp_path)
    for key in list(os.environ):
        monkeypatch.delenv(key)
    for key, value in laid_out.environ.items():
        monkeypatch.setenv(key, value)
    return laid_out


def inventory_of(prepared: Prepared) -> Inventory:
    """The case's hosts as pyinfra holds an inventory file's groups and host data."""
    groups: dict[str, tuple[list[tuple[str, dict[str, Any]]], dict[str, Any]]] = {}
    for name, host in prepared.hosts.items():
        for group in host["groups"]:
            groups.setdefault(group, ([], {}))[0].append((name, dict(host["data"])))
    return Inventory((list(prepared.hosts), {}), **groups)  # type: ignore[no-untyped-call]


def assert_refused_in_one_line(case: Case, output: str) -> None:
    """``output`` holds the case's line exactly once, that line is short, and no secret shows."""
    lines = [line for line in output.splitlines() if case.expect in line]
    assert len(lines) == 1, output[:2000]
    assert len(lines[0]) <= MOST_CHARACTERS, lines[0][:2000]
    for text in case.absent:
        assert text not in output


@pytest.mark.parametrize("case", cases())
def test_deploy_preflight_refuses(case: Case, prepared: Prepared) -> None:
    with pytest.raises((SpecError, SecretError)) as refused:
        preflight.judge_inventory(inventory_of(prepared))
    message = str(refused.value)
    assert message.count("\n") == 0, message[:2000]
    assert_refused_in_one_line(case, message)


@pytest.mark.parametrize("case", cases())
def test_verify_refuses(case: Case, prepared: Prepared) -> None:
    with pytest.raises((SpecError, SecretError)) as refused:
        verify.targets(inventory_of(prepared))
    message = str(refused.value)
    assert message.count("\n") == 0, message[:2000]
    assert_refused_in_one_line(case, message)


@pytest.mark.parametrize("case", cases(inventory=False))
def test_hooks_cli_refuses_before_connecting(
    case: Case, prepared: Prepared, listener: Listener, capsys: pytest.CaptureFixture[str]
) -> None:
    before = listener.accepted
    dsn = f"host=127.0.0.1 port={listener.port} user=postgres connect_timeout=2"
    status = hooks_cli.main(["check", "--env", ENVIRONMENT, "--dsn", dsn])
    captured = capsys.readouterr()
    assert status == 2
    assert listener.accepted == before
    assert captured.err.count("\n") == 1
    assert_refused_in_one_line(case, captured.err + captured.out)


@pytest.mark.parametrize("case", cases(stack_only=True))
def test_pulumi_program_refuses_before_any_resource(case: Case) -> None:
    refused = refusal(ENVIRONMENT, pulumi_document(case))
    assert isinstance(refused.error, pulumi.RunError), refused.error
    assert refused.registered == []
    assert_refused_in_one_line(case, str(refused.error))


def _run(command: list[str], prepared: Prepared) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=REPOSITORY_ROOT,
        env=prepared.environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("case", cases(cli=True))
def test_pyinfra_refuses_before_connecting(
    case: Case, prepared: Prepared, listener: Listener
) -> None:
    before = listener.accepted
    inventory = prepared.inventory_file(listener.port)
    pyinfra = str(Path(sys.executable).with_name("pyinfra"))
    completed = _run([pyinfra, "--dry", str(inventory), "deploy/site.py"], prepared)
    output = completed.stdout + completed.stderr
    assert completed.returncode != 0, output
    assert listener.accepted == before, output
    assert "--> Connecting to hosts" not in output
    assert "Traceback" not in output
    assert_refused_in_one_line(case, output)


@pytest.mark.parametrize("case", cases(cli=True))
def test_verify_cli_refuses_before_connecting(
    case: Case, prepared: Prepared, listener: Listener, tmp_path: Path
) -> None:
    before = listener.accepted
    inventory = prepared.inventory_file(listener.port)
    command = [sys.executable, "-m", "datalayer.verify", str(inventory)]
    completed = _run([*command, "--junit-directory", str(tmp_path / "reports")], prepared)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 2, output
    assert listener.accepted == before, output
    assert "Traceback" not in output
    assert_refused_in_one_line(case, output)


@pytest.mark.parametrize("case", cases(cli=True, inventory=False))
def test_hooks_process_refuses_before_connecting(
    case: Case, prepared: Prepared, listener: Listener
) -> None:
    before = listener.accepted
    dsn = f"host=127.0.0.1 port={listener.port} user=postgres connect_timeout=2"
    command = [sys.executable, "-m", "datalayer.hooks", "check", "--env", ENVIRONMENT]
    completed = _run([*command, "--dsn", dsn], prepared)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 2, output
    assert listener.accepted == before, output
    assert_refused_in_one_line(case, output)


def _closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on: a host that cannot be reached."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.parametrize(
    "case", [case for case in cases(cli=True) if case.id == "list-under-config"]
)
def test_pyinfra_reports_bad_input_even_when_every_host_is_unreachable(
    case: Case, prepared: Prepared
) -> None:
    inventory = prepared.inventory_file(_closed_port())
    pyinfra = str(Path(sys.executable).with_name("pyinfra"))
    completed = _run([pyinfra, "--dry", str(inventory), "deploy/site.py"], prepared)
    output = completed.stdout + completed.stderr
    assert completed.returncode != 0
    assert "No hosts remaining" not in output
    assert "Could not connect" not in output
    assert_refused_in_one_line(case, output)
