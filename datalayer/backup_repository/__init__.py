"""The backup repository host: an SFTP-only server keeping an environment's pgBackRest repository.

A cluster's members all archive into one repository that must outlive each of them, so it lives
on a host of its own, the one host of the inventory's ``backup_repository`` group. OpenSSH serves
it: the SFTP user may do nothing but SFTP (``ForceCommand internal-sftp``), inside a chroot
whose only writable directory is the repository, and logs in only with the members' key. Paths
and files are decided here, pure functions of the spec, for the deploy to install.
"""

from dataclasses import dataclass
from pathlib import PurePosixPath

from datalayer.render import render
from datalayer.spec.backup import SftpRepository


@dataclass(frozen=True)
class RepositoryHostLayout:
    """Where the repository host keeps the repository and the SFTP user's sshd settings."""

    chroot_directory: str = "/srv/backup-repository"
    """The SFTP user's root (sshd's ChrootDirectory): owned by root and not writable by the
    user, as sshd requires of it and each of its parents; the repository is below it."""
    sshd_config_file: str = "/etc/ssh/sshd_config.d/backup-repository.conf"
    """Read by Debian's sshd_config, whose first line includes /etc/ssh/sshd_config.d/*.conf."""
    authorized_keys_file: str = "/etc/ssh/backup-repository-authorized-keys"
    """The members' public key, root's file: the SFTP user can neither read nor change it."""
    limits_file: str = "/etc/security/limits.d/backup-repository.conf"
    """The SFTP user's open-files limit, read by pam_limits (Debian's /etc/pam.d/sshd: session
    required pam_limits.so) when each session starts: no sshd restart."""
    service: str = "ssh"
    """Debian's sshd unit."""
    packages: tuple[str, ...] = ("openssh-server",)
    nologin_shell: str = "/usr/sbin/nologin"


REPOSITORY_HOST_LAYOUT = RepositoryHostLayout()


def repository_directories(repository: SftpRepository) -> tuple[str, ...]:
    """The directories from the chroot's first level down to the repository, parents first:
    the SFTP user owns each (the chroot itself stays root's)."""
    parts = PurePosixPath(repository.path).relative_to("/").parts
    root = PurePosixPath(REPOSITORY_HOST_LAYOUT.chroot_directory)
    return tuple(str(root.joinpath(*parts[: depth + 1])) for depth in range(len(parts)))


def render_sshd_config(repository: SftpRepository, environment_name: str) -> str:
    """The sshd drop-in that confines the SFTP user to SFTP in its chroot."""
    return render(
        "backup_repository/sshd_config.conf.j2",
        environment_name=environment_name,
        layout=REPOSITORY_HOST_LAYOUT,
        repository=repository,
    )


def render_limits(repository: SftpRepository, environment_name: str) -> str:
    """The SFTP user's pam_limits entry: open files up to the hard limit."""
    return render(
        "backup_repository/limits.conf.j2",
        environment_name=environment_name,
        layout=REPOSITORY_HOST_LAYOUT,
        repository=repository,
    )


def render_authorized_keys(public_key: str, environment_name: str) -> str:
    """The SFTP user's one authorized key: the members' public key, restricted."""
    return render(
        "backup_repository/authorized_keys.j2",
        environment_name=environment_name,
        layout=REPOSITORY_HOST_LAYOUT,
        public_key=public_key,
    )
