"""Facts and operations as data, without a host, the way pyinfra's own tests hold them.

pyinfra keeps one JSON file per case: ``tests/facts/<module>.<Fact>/<case>.json`` gives a fact's
command output and what ``process()`` makes of it, ``tests/operations/<module>.<operation>/
<case>.json`` the facts a host answers and the commands the operation yields, or its noop
description (pyinfra v3.0b0-20-ged67e748: tests/test_facts.py:25-80, tests/test_operations.py:
88-150, and the host that answers them, ``FakeHost`` in tests/util.py:158-215). Here the folders
are named by the full dotted name (``deploy.dpkg.Dpkg``), and each case says in ``recorded``
where its output was recorded: a real host or a real server's source, never invented.
"""

import dataclasses
import enum
import json
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import import_module
from pathlib import Path
from typing import Any

from pyinfra.api.command import StringCommand
from pyinfra.api.config import Config
from pyinfra.api.facts import FactBase
from pyinfra.api.state import State
from pyinfra.context import ctx_host, ctx_state

DATA = Path(__file__).parent
FACT_CASES = sorted((DATA / "facts").glob("*/*.json"))
OPERATION_CASES = sorted((DATA / "operations").glob("*/*.json"))


def case_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def read_case(path: Path) -> dict[str, Any]:
    case: dict[str, Any] = json.loads(path.read_text())
    return case


def resolve(dotted: str) -> Any:
    """The object a dotted name such as ``deploy.dpkg.Dpkg`` names."""
    module, _, name = dotted.rpartition(".")
    return getattr(import_module(module), name)


def as_data(value: Any) -> Any:
    """``value`` in JSON's terms: dataclasses as objects, tuples as lists, sets sorted."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name: as_data(getattr(value, field.name)) for field in dataclasses.fields(value)
        }
    if isinstance(value, enum.Enum):
        return as_data(value.value)
    if isinstance(value, dict):
        return {key: as_data(item) for key, item in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted(as_data(item) for item in value)
    if isinstance(value, (list, tuple)):
        return [as_data(item) for item in value]
    return value


def processed(fact_name: str, output: list[str]) -> Any:
    """What the fact ``fact_name`` answers when its command printed ``output``: as pyinfra
    does (3.10, pyinfra/api/facts.py:347-353), its ``default()`` when nothing was printed,
    else what ``process()`` makes of the lines."""
    fact: FactBase[Any] = resolve(fact_name)()
    return fact.process(output) if output else fact.default()


def command_data(command: Any) -> Any:
    """A yielded command as pyinfra's tests write it (tests/test_operations.py:19-60): its text,
    or [text, masked text] when they differ; with its connector arguments (``_stdin``...), an
    object holding them and the text under ``command``."""
    if isinstance(command, str):
        command = StringCommand(command.strip())
    if not isinstance(command, StringCommand):
        raise TypeError(f"no data form for {command!r}")
    raw, masked = command.get_raw_value(), command.get_masked_value()
    text: Any = raw if raw == masked else [raw, masked]
    if command.connector_arguments:
        return {**{key: as_data(value) for key, value in command.connector_arguments.items()},
                "command": text}  # fmt: skip
    return text


def _expanded(record: dict[str, Any]) -> dict[str, Any]:
    """A record that names a fact case (``{"case": "deploy.dpkg.Dpkg/finished_install"}``) as
    that case's fact, arguments (unless the record gives its own) and output, so that one
    recording serves both kinds of test."""
    if "case" not in record:
        return record
    fact, _, name = record["case"].partition("/")
    case = read_case(DATA / "facts" / fact / f"{name}.json")
    arguments = record.get("arguments", case.get("arguments", {}))
    return {"fact": fact, "arguments": arguments, "output": case["output"]}


class RecordedHost:
    """A host that answers each fact from a case's ``facts`` list, and keeps its noop.

    An answer is given by its fact's full name and arguments (pyinfra's connector arguments,
    such as ``_stdin``, left out) and is either the ``output`` the fact's command printed, read
    by the fact's own ``process()``, or, for pyinfra's own facts, whose parsers pyinfra tests,
    the ``value``. A fact asked again is answered by its next record, the last one repeated.
    A record may instead name a fact case (``case``), whose recorded output it reuses. An
    unrecorded question fails the test: the case then does not say what the host holds.
    """

    def __init__(self, facts: list[dict[str, Any]]) -> None:
        self.facts = [_expanded(record) for record in facts]
        self.used: dict[int, int] = {}
        self.noop_description: str | None = None

    def get_fact(self, fact: type[FactBase[Any]], **arguments: Any) -> Any:
        name = f"{fact.__module__}.{fact.__name__}"
        wanted = as_data({key: value for key, value in arguments.items() if key[0] != "_"})
        records = [
            index
            for index, record in enumerate(self.facts)
            if record["fact"] == name and record.get("arguments", {}) == wanted
        ]
        if not records:
            raise KeyError(f"the case records no answer of {name} with {wanted}")
        asked = sum(self.used.get(index, 0) for index in records)
        index = records[min(asked, len(records) - 1)]
        self.used[index] = self.used.get(index, 0) + 1
        record = self.facts[index]
        if "output" in record:
            return processed(name, record["output"])
        return record["value"]

    def noop(self, description: str) -> None:
        self.noop_description = description

    def get_temp_filename(self, path: str) -> str:
        """The temporary file an upload names (pyinfra's own asks the host for its temp dir)."""
        return f"/tmp/pyinfra-{path.rsplit('/', 1)[-1]}"


@contextmanager
def on(host: RecordedHost) -> Iterator[None]:
    """Make ``host`` the one pyinfra's ``host`` stands for, as pyinfra's tests do, in a state
    with pyinfra's default configuration (operations that upload read ``--diff`` from it)."""
    state = State()
    state.config = Config()  # type: ignore[no-untyped-call]
    with ctx_state.use(state), ctx_host.use(host):
        yield
