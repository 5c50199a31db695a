"""Signed apt repositories on a host: each key checked by fingerprint before apt trusts it.

pyinfra's own ``apt.key`` (3.10, ``pyinfra/operations/apt.py:91-186``, delegating to
``gpg.key``) downloads a key from a URL and installs it without comparing its fingerprint with
anything, so the key step here is an operation of its own; the keyring directory, the source
list and the packages are pyinfra's ``files.directory``, ``apt.repo`` and ``apt.packages``.
"""

import shlex
from collections.abc import Generator

from pyinfra.api.facts import FactBase
from pyinfra.api.operation import operation
from pyinfra.context import host
from pyinfra.operations import apt, files

from datalayer.apt import KEYRING_DIRECTORY, PackagePlan


class KeyFingerprints(FactBase[list[str]]):
    """Fingerprints of the OpenPGP keys in a keyring file; empty when the file does not exist."""

    def command(self, path: str) -> str:
        quoted = shlex.quote(path)
        return (
            f"if [ -f {quoted} ]; then gpg --show-keys --with-colons {quoted} "
            "| sed -n 's/^fpr:*\\([0-9A-F]*\\):$/\\1/p'; fi"
        )

    @staticmethod
    def default() -> list[str]:
        return []

    def process(self, output: list[str]) -> list[str]:
        return [line.strip() for line in output if line.strip()]


@operation()
def signing_key(url: str, keyring: str, fingerprint: str) -> Generator[str, None, None]:
    """Install a repository signing key, trusted only if it has the published fingerprint.

    + url: where the key is published
    + keyring: the file apt's ``signed-by`` names (ASCII-armoured, ``.asc``)
    + fingerprint: the key's full fingerprint, as its publisher announces it

    The key is fetched beside the keyring and moved into place only after ``gpg`` shows the
    fingerprint, so a substituted key never reaches apt. Will not replace a keyring that already
    holds the key.

    **Example:**

    .. code:: python

        signing_key(
            name="Install InfluxData's repository signing key",
            url="https://repos.influxdata.com/influxdata-archive.key",
            keyring="/etc/apt/keyrings/influxdata.asc",
            fingerprint="24C975CBA61A024EE1B631787C3D57159FC2F927",
        )
    """
    if fingerprint in host.get_fact(KeyFingerprints, path=keyring):
        host.noop(f"{keyring} holds key {fingerprint}")
        return
    partial = shlex.quote(f"{keyring}.download")
    yield f"curl --fail --silent --show-error --location --output {partial} {shlex.quote(url)}"
    # grep decides the pipeline's status: no matching fingerprint line, no trust.
    yield f"gpg --show-keys --with-colons {partial} | grep -q '^fpr:*{fingerprint}:$'"
    yield f"install -m 644 {partial} {shlex.quote(keyring)}"
    yield f"rm {partial}"


def install(plan: PackagePlan) -> None:
    """Add ``plan``'s signed repositories, each key checked first, then install its packages.

    With no repositories (the distribution's own packages), only the packages are installed.
    """
    if plan.repositories:
        apt.packages(
            name="Install curl and gpg to fetch and check the repository signing keys",
            packages=["ca-certificates", "curl", "gpg"],
            cache_time=3600,
            no_recommends=True,
        )
        files.directory(
            name=f"Create {KEYRING_DIRECTORY} for repository signing keys",
            path=KEYRING_DIRECTORY,
            mode="755",
        )
    for repository in plan.repositories:
        signing_key(
            name=f"Install the {repository.name} repository signing key, checked by fingerprint",
            url=repository.key_url,
            keyring=repository.keyring,
            fingerprint=repository.key_fingerprint,
        )
        apt.repo(
            name=f"Add the {repository.name} apt repository",
            src=repository.source_line,
            filename=repository.name,
        )
    apt.packages(
        name=f"Install {', '.join(plan.packages)}",
        packages=list(plan.packages),
        update=True,
        cache_time=3600,
        no_recommends=True,
    )
