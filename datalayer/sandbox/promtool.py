"""promtool from Debian 13's prometheus package, in a container, for CI's rule checks and tests.

The rules must pass the promtool that will load them on a host (2.53, Debian 13's), not
whatever a CI machine might have: so promtool runs in a small image made from the droplet image
with the ``prometheus`` package installed, tagged by a hash of its base and this file's steps,
and built once (about 15 s; the droplet image's own build comes first when it is missing).
"""

import hashlib
import subprocess
from collections.abc import Sequence
from pathlib import Path

from datalayer.sandbox.commands import SandboxError, probe, progress, run
from datalayer.sandbox.image import ensure_image

REPOSITORY = "datalayer-promtool"
DOCKERFILE = """\
ARG BASE
FROM ${BASE}
RUN apt-get update \\
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus \\
    && promtool --version
"""
BUILD_TIMEOUT = 600.0
RUN_TIMEOUT = 300.0
MOUNT = "/rules"


def promtool_image() -> str:
    """The promtool image's tag, after building it (and the droplet image) if missing."""
    base = ensure_image()
    digest = hashlib.sha256(f"{base}\0{DOCKERFILE}".encode()).hexdigest()[:12]
    tag = f"{REPOSITORY}:{digest}"
    if probe(["docker", "image", "inspect", "--format", "{{.Id}}", tag]).returncode != 0:
        progress(f"building {tag}: Debian 13's prometheus package, for promtool")
        run(
            ["docker", "build", "--tag", tag, "--build-arg", f"BASE={base}", "-"],
            input=DOCKERFILE,
            timeout=BUILD_TIMEOUT,
        )
    return tag


def run_promtool(
    image: str, directory: Path, arguments: Sequence[str]
) -> subprocess.CompletedProcess[str]:
    """``promtool ARGUMENTS`` in ``image``, with ``directory`` mounted read-only as its working
    directory (so file arguments are relative to it); its exit status is the caller's answer."""
    command = [
        "docker", "run", "--rm", "--network", "none",
        "--volume", f"{directory.resolve()}:{MOUNT}:ro", "--workdir", MOUNT,
        image, "promtool", *arguments,
    ]  # fmt: skip
    try:
        return subprocess.run(
            command, capture_output=True, text=True, check=False, timeout=RUN_TIMEOUT
        )
    except subprocess.TimeoutExpired as error:
        raise SandboxError(
            f"promtool {' '.join(arguments)}: no answer in {RUN_TIMEOUT:.0f} s"
        ) from error
