"""What the members need to reach an SFTP repository: its address and its pinned host keys.

The address comes from the spec (``repository.host``) or from the inventory (the
``backup_repository`` host's ``private_address``), judged before the deploy connects; the host
keys from the spec (``repository.host_key``) or, read by the deploy, from that host itself.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from datalayer.render import render
from datalayer.secrets import SshKeyPair
from datalayer.timescaledb.backup.layout import PGBACKREST_PATHS

DEFAULT_SSH_PORT = 22


@dataclass(frozen=True)
class SftpServer:
    """Where the members reach the SFTP repository, and where its host keys come from."""

    address: str
    """The address pgBackRest connects to (repo1-sftp-host)."""
    inventory_host: str | None
    """The inventory's backup_repository host whose host keys the deploy reads over its own
    SSH connection; None when the spec declares the server and pins its key."""


@dataclass(frozen=True)
class SftpAccess:
    """What a member's deploy needs for an SFTP repository, judged before it connects."""

    key_pair: SshKeyPair
    server: SftpServer


def known_hosts_pattern(address: str, port: int) -> str:
    """The host field of a known_hosts line, as OpenSSH writes it (sshd(8), SSH_KNOWN_HOSTS
    FILE FORMAT): the bare address on port 22, ``[address]:port`` on any other."""
    return address if port == DEFAULT_SSH_PORT else f"[{address}]:{port}"


def render_known_hosts(
    address: str, port: int, host_keys: Sequence[str], source: str, environment_name: str
) -> str:
    """The members' known hosts file: one line per host key of the SFTP server.

    + address, port: where pgBackRest connects (the line's host field)
    + host_keys: ``TYPE BASE64`` of each key the server may present; pgBackRest asks libssh2
      for any entry of the host with the same key (src/storage/sftp/storage.c:1366-1373 of
      release/2.55.0, ``libssh2_knownhost_checkp`` without a key type), so listing every key
      the server has keeps a match whichever one the handshake picks
    + source: who vouched for the keys, for the file's header
    """
    return render(
        "timescaledb/pgbackrest-known-hosts.j2",
        environment_name=environment_name,
        paths=PGBACKREST_PATHS,
        pattern=known_hosts_pattern(address, port),
        host_keys=sorted(host_keys),
        source=source,
    )
