"""Operations every service deploy uses: many files, units or packages judged by one fact.

Each replaces a run of pyinfra's own per-file or per-unit operations (``files.put``,
``files.directory``, ``systemd.service``, ``apt.packages``) that would read two or three facts
per item (``deploy.facts``): a deploy that changes nothing asks the host once per set instead.
"""

import shlex
from collections.abc import Collection, Generator, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatch
from io import BytesIO

from pyinfra import logger
from pyinfra.api.command import FileUploadCommand, PyinfraCommand, StringCommand
from pyinfra.api.operation import operation
from pyinfra.context import host, state
from pyinfra.facts.apt import noninteractive_apt
from pyinfra.facts.deb import DebPackages
from pyinfra.facts.files import FileContents
from pyinfra.operations.util import files as file_utils
from pyinfra.operations.util.files import generate_color_diff

from deploy.facts import PathState, PathStates, UnitStates


@dataclass(frozen=True)
class WantedDirectory:
    """A directory with its owner and permission bits (e.g. ``0o755``)."""

    path: str
    mode: int
    user: str = "root"
    group: str = "root"


@dataclass(frozen=True)
class WantedFile:
    """A regular file's whole content, owner and permission bits (e.g. ``0o644``)."""

    path: str
    content: bytes
    mode: int
    user: str = "root"
    group: str = "root"


def _owner_and_mode(
    path: str, wanted: WantedDirectory | WantedFile, found: PathState | None
) -> Generator[StringCommand, None, None]:
    if found is None or (found.user, found.group) != (wanted.user, wanted.group):
        yield file_utils.chown(path, wanted.user, wanted.group)
    if found is None or found.mode != wanted.mode:
        yield file_utils.chmod(path, f"{wanted.mode:o}")


def file_commands(
    wanted: WantedFile, found: PathState | None, *, show_diff: bool = True
) -> Generator[PyinfraCommand, None, None]:
    """What makes ``wanted`` true of a path that ``PathStates`` found as ``found`` (None:
    missing): the upload when the SHA-256 differs, then the owner and mode when they differ.
    With ``--diff``, a changed file's diff is shown as ``files.put`` shows it
    (``pyinfra/operations/files.py:1155-1166, 1197-1214``), reading the file only then; a file
    that holds a secret (``show_diff=False``) is only named."""
    if found is None or not found.holds(wanted.content):
        if state.config.DIFF and not show_diff:
            host.log(f"Will write {wanted.path} (not shown: it holds a secret)", logger.info)
        elif state.config.DIFF:
            current = [] if found is None else host.get_fact(FileContents, path=wanted.path)
            host.log(f"Will {'create' if found is None else 'modify'} {wanted.path}", logger.info)
            for line in generate_color_diff(
                [line + "\n" for line in current or []],
                wanted.content.decode().splitlines(keepends=True),
            ):
                logger.info("  %s", line)
            logger.info("")
        if found is None and not wanted.mode & 0o077:
            # SFTP creates a new file 0644 (sftp-server's umask) and its mode is set only after
            # the upload; an empty file made private first keeps its mode when the upload
            # truncates and fills it (tests/unit/deploy/test_private_files.py says where).
            yield StringCommand(
                "sh", "-c", shlex.quote(f"umask 077 && : > {shlex.quote(wanted.path)}")
            )
        yield FileUploadCommand(
            BytesIO(wanted.content),
            wanted.path,
            remote_temp_filename=host.get_temp_filename(wanted.path),
        )
        found = None  # a replaced file: set its owner and mode again
    yield from _owner_and_mode(wanted.path, wanted, found)


def current_text(wanted: WantedFile, found: PathState | None) -> str | None:
    """The text on the host of the file ``PathStates`` found as ``found`` (None: missing),
    read only when its SHA-256 says it differs from ``wanted``: a no-op deploy reads no
    configuration file back."""
    if found is None:
        return None
    if found.holds(wanted.content):
        return wanted.content.decode()
    lines = host.get_fact(FileContents, path=wanted.path)
    return None if lines is None else "\n".join(lines) + "\n"


@operation()
def files_in_place(
    files: Sequence[WantedFile],
    directories: Sequence[WantedDirectory] = (),
    remove_others_under: str | None = None,
    keep: Sequence[str] = (),
) -> Generator[PyinfraCommand, None, None]:
    """Make ``directories`` and ``files`` exist with their owner, mode and content.

    + files: each file's content, owner and mode; its directory must exist or be listed
    + directories: created if missing (parents first: list them in that order), their owner
      and mode set
    + remove_others_under: a directory whose regular files not in ``files`` are removed, as
      ``files.sync(delete=True)`` removes them (a module dropped from an uploaded folder
      leaves the host too)
    + keep: ``fnmatch`` patterns of paths there that are never removed (byte-code caches)

    One fact (``PathStates``) answers for every path: a file is uploaded only when its
    SHA-256 differs, an owner or mode only set when it differs. Will not remove a directory.
    """
    paths = (*(directory.path for directory in directories), *(file.path for file in files))
    trees = () if remove_others_under is None else (remove_others_under,)
    found = host.get_fact(PathStates, paths=paths, trees=trees)
    commands: list[PyinfraCommand] = []
    for directory in directories:
        if directory.path not in found:
            commands.append(StringCommand("mkdir", "-p", directory.path))
        commands.extend(_owner_and_mode(directory.path, directory, found.get(directory.path)))
    for wanted in files:
        commands.extend(file_commands(wanted, found.get(wanted.path)))
    wanted_paths = {file.path for file in files}
    for tree in trees:
        commands.extend(
            StringCommand("rm", "-f", path)
            for path, state in sorted(found.items())
            if path.startswith(f"{tree}/")
            and state.kind == "f"
            and path not in wanted_paths
            and not any(fnmatch(path, pattern) for pattern in keep)
        )
    if not commands:
        host.noop(f"{len(files)} files and {len(directories)} directories in place")
    yield from commands


def unit_id(unit: str) -> str:
    """The name systemd reports for ``unit``: a name without a type suffix is a service."""
    return unit if "." in unit else f"{unit}.service"


@operation()
def units_enabled_and_running(units: Sequence[str]) -> Generator[str, None, None]:
    """Enable and start each of ``units`` that is not already, judged by one ``systemctl show``.

    + units: systemd unit names; one without a type suffix is a service

    Will not restart or reload a running unit: what changed in its configuration is the
    configuring operation's decision.
    """
    states = host.get_fact(UnitStates, units=tuple(units))
    commands = []
    for unit in units:
        state = states.get(unit_id(unit))
        if state is None or not state.enabled:
            commands.append(f"systemctl enable {unit}")
        if state is None or not state.running:
            commands.append(f"systemctl start {unit}")
    if not commands:
        host.noop(f"{', '.join(units)} enabled and running")
    yield from commands


def is_installed(package: str, installed: Mapping[str, Collection[str]]) -> bool:
    """``package`` (``NAME`` or ``NAME=VERSION``) is among ``installed`` (``DebPackages``:
    each name's installed versions), at that version when pinned: pyinfra's own rule
    (``_has_package``, ``pyinfra/operations/util/packaging.py:103-119``)."""
    name, _, version = package.partition("=")
    return name in installed and (not version or version in installed[name])


@operation()
def packages_installed(packages: Sequence[str]) -> Generator[str, None, None]:
    """Install those of ``packages`` that are not installed, without recommended packages.

    + packages: Debian package names, each optionally pinned as ``NAME=VERSION``

    One fact (pyinfra's ``DebPackages``, ``dpkg -l``) decides. apt's index is updated only
    before an install: pyinfra's ``apt.packages(update=True, cache_time=...)`` reads two more
    facts every run and runs ``apt-get update`` whenever the index is older than
    ``cache_time`` (``pyinfra/operations/apt.py:491-516``), so a redeploy an hour later
    would not be a no-op. Will not upgrade or remove a package.
    """
    installed = host.get_fact(DebPackages)
    missing = [package for package in packages if not is_installed(package, installed)]
    if not missing:
        host.noop(f"{', '.join(packages)} installed")
        return
    yield noninteractive_apt("update")
    yield noninteractive_apt(f"install --no-install-recommends {shlex.join(missing)}")


@operation()
def checked_file_installed(
    wanted: WantedFile, check: str, checker: str
) -> Generator[PyinfraCommand, None, None]:
    """Install ``wanted`` only once its own program accepts it: a candidate beside the file in
    force is judged, then moved into place (a rename: the file in place is always whole).

    + wanted: the file, its owner and mode
    + check: the command that judges the candidate, ``{candidate}`` standing for its path
      (e.g. ``haproxy -c -f {candidate}``)
    + checker: who judges, for the one line a refusal stops the deploy with

    Its content is never shown, not even by ``--diff``: Patroni's configuration holds
    passwords. Will not touch the file in force when the candidate is refused.
    """
    found = host.get_fact(PathStates, paths=(wanted.path,)).get(wanted.path)
    if found is not None and found.holds(wanted.content):
        commands = list(_owner_and_mode(wanted.path, wanted, found))
        if not commands:
            host.noop(f"{wanted.path} in place")
        yield from commands
        return
    candidate = f"{wanted.path}.candidate"
    yield FileUploadCommand(
        BytesIO(wanted.content), candidate, remote_temp_filename=host.get_temp_filename(candidate)
    )
    judged = check.format(candidate=shlex.quote(candidate))
    yield StringCommand(
        f"chown {wanted.user}:{wanted.group} {candidate} && chmod {wanted.mode:o} {candidate} && "
        f"if refusal=$({judged} 2>&1); then mv -f {candidate} {wanted.path}; "
        f"else rm -f {candidate}; "
        f'echo "{wanted.path}: not installed, {checker} refuses it: $refusal" | tr "\\n" " " '
        ">&2; exit 1; fi",
        "#",
        f"{checker} accepts the new {wanted.path}: move it into place",
    )
