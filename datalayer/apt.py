"""Signed apt repositories and the packages a host installs from them, as plain data.

Each service's package plan (``datalayer/timescaledb/packages.py``,
``datalayer/influxdb/packages.py``) is built from these records, so that the choice of
repositories, which these machines cannot reach, is data a unit test can check; the deploys hand
it to ``deploy.apt.install``.
"""

import re
from dataclasses import dataclass

KEYRING_DIRECTORY = "/etc/apt/keyrings"

# A full OpenPGP v4 fingerprint as ``gpg --with-colons`` prints it: 40 upper-case hex digits.
_FINGERPRINT = re.compile(r"[0-9A-F]{40}")


@dataclass(frozen=True)
class AptRepository:
    """A signed apt source: its key is fetched to a keyring that only this source trusts, and
    only once the key has the fingerprint its publisher announced.

    + name: the keyring's and the source list's file name
    + key_url: where the publisher serves the signing key
    + key_fingerprint: the key's full fingerprint, as the publisher announces it
    + uri, suite, component: the ``deb`` line's fields
    """

    name: str
    key_url: str
    key_fingerprint: str
    uri: str
    suite: str
    component: str = "main"

    def __post_init__(self) -> None:
        # Short key ids can be forged in minutes; only the full fingerprint identifies a key.
        if not _FINGERPRINT.fullmatch(self.key_fingerprint):
            raise ValueError(
                f"apt repository {self.name}: key_fingerprint {self.key_fingerprint!r} is not "
                "a full fingerprint (40 upper-case hex digits)"
            )

    @property
    def keyring(self) -> str:
        # apt reads ASCII-armoured keys when the file name ends in .asc: no gpg --dearmor needed.
        return f"{KEYRING_DIRECTORY}/{self.name}.asc"

    @property
    def source_line(self) -> str:
        return f"deb [signed-by={self.keyring}] {self.uri} {self.suite} {self.component}"


@dataclass(frozen=True)
class PackagePlan:
    """The signed repositories to add, then the packages to install from them (or from the
    distribution when there are none)."""

    repositories: tuple[AptRepository, ...]
    packages: tuple[str, ...]
