"""Running the sandbox's external commands (docker, debootstrap, ssh, apt-get) and reporting.

Every command runs from an argument list, never through a shell, and a failure carries the
command and what it printed: a half-built sandbox must say why, not look fine.
"""

import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import IO

# How much of a failed command's output an error quotes: enough for apt's or debootstrap's reason.
_ERROR_OUTPUT_LINES = 40


class SandboxError(RuntimeError):
    """The sandbox could not do what was asked; the message says which command failed and why."""


def run(
    command: Sequence[str],
    *,
    input: str | None = None,
    stdin: IO[bytes] | None = None,
    timeout: float = 120,
    env: dict[str, str] | None = None,
) -> str:
    """Run ``command`` and return its standard output; raise ``SandboxError`` if it fails.

    + input: text written to the command's standard input
    + stdin: a stream the command reads instead (e.g. another process's output)
    + timeout: seconds before the command is killed and reported as hanging
    + env: the complete environment of the command (default: this process's)
    """
    try:
        completed = subprocess.run(
            list(command),
            input=input,
            stdin=stdin,
            capture_output=True,
            text=True,
            check=True,
            timeout=timeout,
            env=env,
        )
    except subprocess.CalledProcessError as error:
        raise SandboxError(
            f"{shlex.join(command)} failed with exit code {error.returncode}:\n"
            + tail(error.stderr or error.stdout)
        ) from error
    except subprocess.TimeoutExpired as error:
        raise SandboxError(f"{shlex.join(command)} did not finish in {timeout:.0f} s") from error
    return completed.stdout


def probe(command: Sequence[str], *, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """Run a command whose failure is an answer, not an error (is the engine up? does SSH log in?).

    The caller decides from ``returncode`` and quotes ``stderr`` when it gives up. A probe that
    hangs answers like timeout(1) does (exit code 124), a missing program like a shell does (127).
    """
    try:
        return subprocess.run(
            list(command), capture_output=True, text=True, check=False, timeout=timeout
        )
    except FileNotFoundError:
        return subprocess.CompletedProcess(list(command), 127, "", f"{command[0]}: not found")
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(
            list(command), 124, "", f"{shlex.join(command)} did not answer in {timeout:.0f} s"
        )


def tail(output: str) -> str:
    """The last lines of a command's output, where tools print their reason for failing."""
    lines = output.strip().splitlines()
    return "\n".join(lines[-_ERROR_OUTPUT_LINES:])


def progress(message: str) -> None:
    """One progress line on stderr, so that standard output stays parseable."""
    print(f"sandbox: {message}", file=sys.stderr, flush=True)


class Stopwatch:
    """Seconds since creation, for progress lines and the timings users ask about."""

    def __init__(self) -> None:
        self._start = time.monotonic()

    def seconds(self) -> float:
        return time.monotonic() - self._start
