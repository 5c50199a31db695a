"""The droplet image: Debian 13 with systemd, sshd and the deploys' packages pre-downloaded.

No container registry is reachable from the machines this runs on, so the base is made locally:
``debootstrap`` writes a root file system that ``docker import`` turns into an image, and
``droplet.Dockerfile`` adds the sandbox's layer on top. Both images are tagged with a hash of what
they are built from, so a build happens once per change of its inputs: editing the Dockerfile
rebuilds only the top layer, not the debootstrap.
"""

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from datalayer.sandbox.commands import SandboxError, Stopwatch, probe, progress, run
from datalayer.sandbox.engine import ensure_commands

SUITE = "trixie"
MIRROR = "http://deb.debian.org/debian"
VARIANT = "minbase"
# What a droplet has before any deploy: an init, a way in, and what pyinfra's facts call.
BASE_PACKAGES = (
    "systemd",
    "systemd-sysv",
    "dbus",
    "openssh-server",
    "python3",
    "sudo",
    "ca-certificates",
    "gnupg",
    "curl",
    "iproute2",
    "procps",
    "lsb-release",
)
DOCKERFILE = Path(__file__).with_name("droplet.Dockerfile")
BASE_REPOSITORY = "datalayer-droplet-base"
IMAGE_REPOSITORY = "datalayer-droplet"
# debootstrap takes about a minute and the Dockerfile's downloads another; these catch a hang.
DEBOOTSTRAP_TIMEOUT = 1800.0
BUILD_TIMEOUT = 1800.0


def base_tag() -> str:
    """The debootstrapped image's tag: a hash of the suite, mirror, variant and packages."""
    inputs = {"suite": SUITE, "mirror": MIRROR, "variant": VARIANT, "packages": BASE_PACKAGES}
    return f"{BASE_REPOSITORY}:{_digest(json.dumps(inputs, sort_keys=True).encode())}"


def image_tag() -> str:
    """The droplet image's tag: a hash of its base's tag and the Dockerfile."""
    inputs = base_tag().encode() + b"\0" + DOCKERFILE.read_bytes()
    return f"{IMAGE_REPOSITORY}:{_digest(inputs)}"


def ensure_image(*, rebuild: bool = False) -> str:
    """The droplet image's tag, after building whatever part of it is missing.

    + rebuild: build both images again, without Docker's layer cache (e.g. to take new packages
      from Debian), even when images with these tags exist
    """
    tag = image_tag()
    if not rebuild and _image_exists(tag):
        return tag
    stopwatch = Stopwatch()
    base = base_tag()
    if rebuild or not _image_exists(base):
        _build_base(base)
    progress(f"building {tag} from {DOCKERFILE.name}: pre-downloading the deploys' packages")
    build = ["docker", "build", "--tag", tag, "--build-arg", f"BASE={base}"]
    if rebuild:
        build.append("--no-cache")
    run([*build, "-"], input=DOCKERFILE.read_text(), timeout=BUILD_TIMEOUT)
    progress(f"image {tag} ready in {stopwatch.seconds():.0f} s")
    return tag


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def _image_exists(tag: str) -> bool:
    return probe(["docker", "image", "inspect", "--format", "{{.Id}}", tag]).returncode == 0


def _build_base(tag: str) -> None:
    """debootstrap a root file system into a temporary directory and import it as ``tag``."""
    ensure_commands(("debootstrap",))
    if os.geteuid() != 0:
        raise SandboxError("debootstrap needs root to build the droplet base image: run as root")
    workspace = Path(tempfile.mkdtemp(prefix="datalayer-sandbox-rootfs-"))
    try:
        rootfs = workspace / "rootfs"
        stopwatch = Stopwatch()
        progress(f"debootstrap {SUITE} ({VARIANT} + {len(BASE_PACKAGES)} packages), about a minute")
        run(
            [
                "debootstrap",
                f"--variant={VARIANT}",
                f"--include={','.join(BASE_PACKAGES)}",
                SUITE,
                str(rootfs),
                MIRROR,
            ],
            timeout=DEBOOTSTRAP_TIMEOUT,
        )
        # The .deb files debootstrap installed from would only weigh down every droplet.
        for package in (rootfs / "var/cache/apt/archives").glob("*.deb"):
            package.unlink()
        progress(f"debootstrap done in {stopwatch.seconds():.0f} s; importing it as {tag}")
        _import(rootfs, tag, workspace / "tar.stderr")
    finally:
        _remove_tree(workspace)


def _import(rootfs: Path, tag: str, tar_errors: Path) -> None:
    """``tar -C rootfs -c . | docker import - tag``, each side's failure reported."""
    with tar_errors.open("w+") as errors:
        tar = subprocess.Popen(
            ["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE, stderr=errors
        )
        assert tar.stdout is not None  # stdout=PIPE guarantees it; this tells mypy
        try:
            run(["docker", "import", "-", tag], stdin=tar.stdout, timeout=600)
        finally:
            tar.stdout.close()
            tar.wait()
        if tar.returncode != 0:
            errors.seek(0)
            raise SandboxError(
                f"tar of {rootfs} failed with exit code {tar.returncode}:\n{errors.read()}"
            )


def _remove_tree(directory: Path) -> None:
    """Delete ``directory``, first unmounting what is mounted below it.

    debootstrap mounts /proc and /sys inside the root file system while it installs and leaves them
    mounted if it fails; deleting through them would reach into the machine's own.
    """
    prefix = f"{directory.resolve()}/"
    mount_points = [
        line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()
    ]
    for mount_point in sorted((m for m in mount_points if m.startswith(prefix)), reverse=True):
        run(["umount", mount_point])
    shutil.rmtree(directory)
