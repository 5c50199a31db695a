"""Malformed inputs as data: the cases of ``tests/unit/spec/data/bad_input/*.yaml`` and their setup.

Each case changes one thing of a valid starting point (the sandbox environment, its secrets, an
inventory of ``db-1`` in ``timescaledb`` and ``cache-1`` in ``redis``) and names the substring
of the one line every entry point must refuse it with. The format is in that directory's
README.md; a file of cases another part of the code refuses is added there, not here.
"""

import copy
import functools
import os
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from datalayer.paths import REPOSITORY_ROOT
from datalayer.secrets import secret_variables
from datalayer.spec import load_environment
from datalayer.spec.load import STACKS_VARIABLE

CASES_DIRECTORY = Path(__file__).parent / "data" / "bad_input"
ENVIRONMENT = "sandbox"
STACK_FILE = f"Pulumi.{ENVIRONMENT}.yaml"
DEFAULT_HOSTS: dict[str, dict[str, Any]] = {
    "db-1": {"groups": ["timescaledb"], "data": {"env": ENVIRONMENT}},
    "cache-1": {"groups": ["redis"], "data": {"env": ENVIRONMENT}},
}
CONTAINERS_SECTION = {
    "engine": "local",
    "tls_ca_file": "/etc/ssl/certs/ca-certificates.crt",
    "redis": {"memory": "512MB", "cpus": 1},
}
"""What the sandbox's stack file lacks to be run as a Pulumi stack (it describes droplets)."""

_KEYS = {
    "id",
    "key",
    "stack",
    "stack_file",
    "hosts",
    "secrets",
    "secret_files",
    "expect",
    "absent",
    "cli",
}


@dataclass(frozen=True)
class Case:
    """One malformed input and the line it must be refused with."""

    id: str
    expect: str
    source: str
    stack: dict[str, Any] = field(default_factory=dict)
    stack_file: str | bytes | None = None
    hosts: dict[str, dict[str, Any]] | None = None
    secrets: dict[str, str | None] = field(default_factory=dict)
    secret_files: dict[str, int] = field(default_factory=dict)
    absent: tuple[str, ...] = ()
    cli: bool = False
    key: str | None = None
    """The spec key the case gives a malformed value, as the README's table names it; unset:
    the keys its ``stack`` patch names (tests/unit/spec/test_bad_input_keys.py)."""

    @property
    def reads_only_the_stack(self) -> bool:
        """Whether the Pulumi program can be given it: a change of config values only (the
        Pulumi CLI parses the stack file itself, and takes secrets from the stack, not the
        environment)."""
        return self.stack_file is None and not (self.hosts or self.secrets or self.secret_files)

    @property
    def needs_no_inventory(self) -> bool:
        """Whether the hooks CLI, which has no inventory, can be given it."""
        return self.hosts is None


def _case(entry: Mapping[str, Any], source: str) -> Case:
    unknown = set(entry) - _KEYS
    assert not unknown, f"{source}: case {entry.get('id')!r} has unknown keys {sorted(unknown)}"
    return Case(
        id=str(entry["id"]),
        expect=str(entry["expect"]),
        source=source,
        stack=dict(entry.get("stack") or {}),
        stack_file=entry.get("stack_file"),
        hosts=entry.get("hosts"),
        secrets=dict(entry.get("secrets") or {}),
        secret_files={
            name: int(str(mode), 8) for name, mode in (entry.get("secret_files") or {}).items()
        },
        absent=tuple(entry.get("absent") or ()),
        cli=bool(entry.get("cli", False)),
        key=entry.get("key"),
    )


@functools.cache
def load_cases() -> tuple[Case, ...]:
    """Every case of every file, in file order; ids must be unique across files."""
    cases = [
        _case(entry, path.name)
        for path in sorted(CASES_DIRECTORY.glob("*.yaml"))
        for entry in yaml.safe_load(path.read_text()) or []
    ]
    ids = [case.id for case in cases]
    assert len(ids) == len(set(ids)), (
        f"duplicate case ids: {sorted(i for i in ids if ids.count(i) > 1)}"
    )
    return tuple(cases)


MONITORING_SECTION = "datalayer:monitoring"


@functools.cache
def _sandbox_document() -> dict[str, Any]:
    """The sandbox's stack document without its ``monitoring`` section: monitoring requires
    every host's private_address, which most cases' inventories leave out as beside their
    point; the cases about monitoring declare it themselves (any key under it declares it)."""
    document = yaml.safe_load((REPOSITORY_ROOT / STACK_FILE).read_text())
    assert isinstance(document, dict)
    document["config"].pop(MONITORING_SECTION, None)
    return document


@functools.cache
def default_secrets() -> dict[str, str]:
    """A valid value for every secret the sandbox environment names."""
    names = secret_variables(load_environment(ENVIRONMENT, REPOSITORY_ROOT))
    return {name: f"Valid-{name.lower().replace('_', '-')}-0123" for name in names}


def _set(node: Any, parts: list[str], value: Any) -> None:
    """Set ``value`` at ``parts`` under ``node``; a key that holds a dot (``market_data.candles``)
    is matched whole when it exists."""
    for length in range(len(parts), 0, -1):
        key = ".".join(parts[:length])
        if isinstance(node, dict) and key in node:
            break
    else:
        key, length = parts[0], 1
    rest = parts[length:]
    if isinstance(node, list):
        index = int(key)
        if not rest:
            node[index] = value
        else:
            _set(node[index], rest, value)
        return
    if not rest:
        node[key] = value
        return
    if not isinstance(node.get(key), dict | list):
        node[key] = {}
    _set(node[key], rest, value)


def patched_document(case: Case) -> dict[str, Any]:
    """The sandbox's stack document with the case's ``stack`` patch applied."""
    document = copy.deepcopy(_sandbox_document())
    config = document["config"]
    for dotted, value in case.stack.items():
        config_key, _, path = dotted.partition(".")
        # A copy: a value the case file shares between cases (a YAML alias) stays as written.
        value = copy.deepcopy(value)
        if not path:
            config[config_key] = value
        else:
            config.setdefault(config_key, {})
            _set(config[config_key], path.split("."), value)
    return document


def pulumi_document(case: Case) -> dict[str, Any]:
    """The patched document, with what a Pulumi stack needs besides (a containers section)."""
    document = patched_document(case)
    document["config"].setdefault("datalayer:containers", CONTAINERS_SECTION)
    return document


@dataclass(frozen=True)
class Prepared:
    """A case laid out on disk: the stack directory, the environment, the inventory's hosts."""

    directory: Path
    environ: dict[str, str]
    hosts: dict[str, dict[str, Any]]

    def inventory_file(self, ssh_port: int) -> Path:
        """A pyinfra inventory of the case's hosts, each reached at 127.0.0.1:``ssh_port``."""
        groups: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        for name, host in self.hosts.items():
            data = {
                "ssh_hostname": "127.0.0.1",
                "ssh_port": ssh_port,
                "ssh_user": "root",
                "ssh_connect_retries": 0,
                **host["data"],
            }
            for group in host["groups"]:
                groups.setdefault(group, []).append((name, data))
        path = self.directory / "inventory.py"
        path.write_text("".join(f"{group} = {hosts!r}\n" for group, hosts in groups.items()))
        return path


def prepare(case: Case, directory: Path) -> Prepared:
    """Write the case's stack file and secret files under ``directory``; the environment to run
    with (this process's, minus every secret and stack directory it may have, plus the case's)."""
    stack_path = directory / STACK_FILE
    if isinstance(case.stack_file, bytes):
        stack_path.write_bytes(case.stack_file)
    elif isinstance(case.stack_file, str):
        stack_path.write_text(case.stack_file)
    else:
        stack_path.write_text(yaml.safe_dump(patched_document(case)))
    secrets: dict[str, str | None] = {**default_secrets(), **case.secrets}
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DATALAYER_") and key != STACKS_VARIABLE
    }
    environ[STACKS_VARIABLE] = str(directory)
    for name, value in secrets.items():
        if value is None:
            continue
        if name in case.secret_files:
            secret_file = directory / f"{name.lower()}.secret"
            secret_file.write_text(value + "\n")
            secret_file.chmod(case.secret_files[name])
            environ[f"{name}_FILE"] = str(secret_file)
        else:
            environ[name] = value
    hosts = copy.deepcopy(case.hosts if case.hosts is not None else DEFAULT_HOSTS)
    return Prepared(directory, environ, hosts)


class Listener:
    """A TCP port on 127.0.0.1 that accepts, counts and closes every connection."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.socket.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.accepted += 1
            connection.close()
