"""What the backup repository host's SSH server presents: its public host keys."""

from pyinfra.api.facts import FactBase

HOST_PUBLIC_KEYS = "/etc/ssh/ssh_host_*_key.pub"
"""Where OpenSSH's sshd keeps them (sshd(8), FILES; Debian's postinst generates them)."""


class SshHostPublicKeys(FactBase[tuple[str, ...]]):
    """Each public host key of the host's sshd as ``TYPE BASE64``, without its comment; empty
    when it has none."""

    def command(self) -> str:
        return f"cat {HOST_PUBLIC_KEYS} 2> /dev/null || true"

    @staticmethod
    def default() -> tuple[str, ...]:
        return ()

    def process(self, output: list[str]) -> tuple[str, ...]:
        return tuple(" ".join(line.split()[:2]) for line in output if line.strip())
