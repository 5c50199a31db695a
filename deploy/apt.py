"""Signed apt repositories on a host: each key checked by fingerprint before apt trusts it.

pyinfra's own ``apt.key`` (3.10, ``pyinfra/operations/apt.py:91-186``, delegating to
``gpg.key``) downloads a key from a URL and installs it without comparing its fingerprint with
anything, so the key step here is an operation of its own; the keyring directory and the source
list are pyinfra's ``files.directory`` and ``apt.repo``, the packages
``deploy.operations.packages_installed`` (which updates apt's index only before an install).
"""

import shlex
from collections.abc import Generator

from pyinfra.api.facts import FactBase
from pyinfra.api.operation import operation
from pyinfra.context import host
from pyinfra.operations import apt, files

from datalayer.apt import KEYRING_DIRECTORY, PackagePlan
from deploy.operations import packages_installed

# The primary keys' fingerprints of a key file: in ``--with-colons`` output a key's ``fpr``
# record follows its ``pub`` record, and each subkey's follows its ``sub`` (gnupg's doc/DETAILS).
_PRIMARY_FINGERPRINTS = 'awk -F: \'$1 == "fpr" && primary { print $10 } { primary = $1 == "pub" }\''


class KeyFingerprints(FactBase[list[str]]):
    """Fingerprints of the primary OpenPGP keys in a keyring file; empty when there is none."""

    def command(self, path: str) -> str:
        quoted = shlex.quote(path)
        return (
            f"if [ -f {quoted} ]; then gpg --show-keys --with-colons {quoted} "
            f"| {_PRIMARY_FINGERPRINTS}; fi"
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

    The key is fetched beside the keyring, and only the key with the pinned fingerprint is taken
    out of the download (in a throwaway GnuPG home) and moved into place, after ``gpg`` shows it
    holds exactly that key: a substituted key never reaches apt, and neither does any other key
    published in the same file. A keyring that holds exactly the key is left alone.

    **Example:**

    .. code:: python

        signing_key(
            name="Install InfluxData's repository signing key",
            url="https://repos.influxdata.com/influxdata-archive.key",
            keyring="/etc/apt/keyrings/influxdata.asc",
            fingerprint="24C975CBA61A024EE1B631787C3D57159FC2F927",
        )
    """
    if host.get_fact(KeyFingerprints, path=keyring) == [fingerprint]:
        host.noop(f"{keyring} holds key {fingerprint}")
        return
    download = shlex.quote(f"{keyring}.download")
    pinned = shlex.quote(f"{keyring}.pinned")
    yield f"curl --fail --silent --show-error --location --output {download} {shlex.quote(url)}"
    yield (
        'home=$(mktemp -d) && gpg --batch --quiet --homedir "$home" --import '
        f'{download} && gpg --batch --homedir "$home" --armor --export {fingerprint} '
        f'> {pinned}; status=$?; gpgconf --homedir "$home" --kill all; rm -rf "$home"; '
        "exit $status"
    )
    # test decides the step's status: anything but exactly the pinned key, no trust.
    yield (
        f'test "$(gpg --show-keys --with-colons {pinned} | {_PRIMARY_FINGERPRINTS})" '
        f"= {fingerprint}"
    )
    yield f"install -m 644 {pinned} {shlex.quote(keyring)}"
    yield f"rm {download} {pinned}"


def install(plan: PackagePlan) -> None:
    """Add ``plan``'s signed repositories, each key checked first, then install its packages.

    With no repositories (the distribution's own packages), only the packages are installed.
    """
    if plan.repositories:
        packages_installed(
            name="Install curl and gpg to fetch and check the repository signing keys",
            packages=["ca-certificates", "curl", "gpg"],
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
    packages_installed(name=f"Install {', '.join(plan.packages)}", packages=plan.packages)
