"""The backup repository deploy: an SFTP-only OpenSSH server keeping the pgBackRest repository.

Run by ``deploy/site.py`` on the inventory's ``backup_repository`` group, before the database
hosts, whose stanza is created in the repository this makes; callable from any other pyinfra
deploy as ``backup_repository(environment, members_public_key)``.

The inventory's part is judged here too, before pyinfra connects (``deploy/preflight.py``): which
host serves a repository that declares none, and that it is a host of its own.
"""

from pyinfra.api.deploy import deploy
from pyinfra.api.host import Host
from pyinfra.context import host
from pyinfra.operations import server, systemd

from datalayer.backup_repository import (
    REPOSITORY_HOST_LAYOUT,
    render_authorized_keys,
    render_limits,
    render_sshd_config,
    repository_directories,
)
from datalayer.spec import EnvironmentSpec, SpecError
from datalayer.spec.backup import BACKUP_REPOSITORY_GROUP, SftpRepository
from datalayer.timescaledb.backup.sftp import SftpServer
from deploy import dpkg, operations
from deploy.operations import WantedDirectory, WantedFile


def repository_section(environment: EnvironmentSpec, host_name: str) -> SftpRepository:
    """The SFTP repository ``host_name`` serves: its environment's, when that one names no host
    of its own; anything else is a :class:`SpecError`, raised before any change."""
    repository = environment.timescaledb.backup.repository
    if repository.type != "sftp" or repository.host is not None:
        served = repository.type if repository.type != "sftp" else f"sftp on {repository.host}"
        raise SpecError(
            f"inventory: host {host_name} is in the {BACKUP_REPOSITORY_GROUP} group, but "
            f"Pulumi.{environment.name}.yaml's timescaledb.backup.repository is {served!r}: "
            "a backup_repository host serves an sftp repository that declares no host"
        )
    return repository


def members_sftp_server(environment: EnvironmentSpec, member: Host) -> SftpServer | None:
    """Where ``member`` reaches its environment's SFTP repository; None for any other kind.

    A repository that declares its host is reached there, its key pinned by the spec. One that
    declares none is the one host of the inventory's backup_repository group, of the same
    environment and in no other role, at its ``private_address``.
    """
    repository = environment.timescaledb.backup.repository
    if repository.type != "sftp":
        return None
    if repository.host is not None:
        return SftpServer(address=repository.host, inventory_host=None)
    found = member.inventory.get_group(BACKUP_REPOSITORY_GROUP, default=[])
    if len(found) != 1:
        raise SpecError(
            f"inventory: Pulumi.{environment.name}.yaml's timescaledb.backup.repository is sftp "
            f"without a host, so the {BACKUP_REPOSITORY_GROUP} group needs exactly one host "
            f"(found {len(found)}); or declare repository.host"
        )
    (repository_host,) = found
    if "timescaledb" in repository_host.groups:
        raise SpecError(
            f"inventory: host {repository_host.name} is in {BACKUP_REPOSITORY_GROUP} and "
            "timescaledb: the repository must outlive every member, so it needs a host of its own"
        )
    if repository_host.data.get("env") != environment.name:
        raise SpecError(
            f"inventory: {BACKUP_REPOSITORY_GROUP} host {repository_host.name} has env "
            f"{repository_host.data.get('env')!r}, not {environment.name!r}: it serves the "
            "repository of its own environment"
        )
    address = repository_host.data.get("private_address")
    if not isinstance(address, str) or not address:
        raise SpecError(
            f"inventory: {BACKUP_REPOSITORY_GROUP} host {repository_host.name} has no "
            "'private_address' data: the address the members reach it at (e.g. '10.110.0.30')"
        )
    return SftpServer(address=address, inventory_host=repository_host.name)


def judge_backup_inventory(environment: EnvironmentSpec, host: Host) -> None:
    """The inventory's part of the backup repository for ``host``, as the deploy judges it:
    every entry point that reads an inventory (the deploy, ``datalayer.verify``) refuses the
    same inventory with the same line."""
    if "timescaledb" in host.groups:
        members_sftp_server(environment, host)
    if BACKUP_REPOSITORY_GROUP in host.groups:
        repository_section(environment, host.name)


@deploy("Backup repository")
def backup_repository(environment: EnvironmentSpec, members_public_key: str) -> None:
    """Make this host the environment's SFTP repository: OpenSSH, an SFTP-only user chrooted
    above the repository directory, and the members' public key as its one way in.

    + environment: the validated environment spec, whose repository is sftp without a host
    + members_public_key: the public key of the members' private key secret
      (``datalayer.secrets.read_ssh_private_key``), read before the deploy starts

    Will not change sshd's own configuration: the drop-in applies to the SFTP user only, and
    sshd reloads (never restarts: open sessions stay) after ``sshd -t`` accepts the whole.
    """
    repository = repository_section(environment, host.name)
    layout = REPOSITORY_HOST_LAYOUT
    dpkg.finish_interrupted_install(
        name="Finish an interrupted package install, waiting for a running apt or dpkg",
    )
    operations.packages_installed(
        name=f"Install {', '.join(layout.packages)}", packages=list(layout.packages)
    )
    server.group(
        name=f"Create the SFTP user's group {repository.user}", group=repository.user, system=True
    )
    # The chroot is root's, so the user's home is no directory it could write to.
    server.user(
        name=f"Create the SFTP user {repository.user}, without a shell",
        user=repository.user,
        group=repository.user,
        system=True,
        home=layout.chroot_directory,
        shell=layout.nologin_shell,
        create_home=False,
        ensure_home=False,
    )
    directories = [
        WantedDirectory(layout.chroot_directory, mode=0o755),
        *(
            WantedDirectory(path, mode=0o750, user=repository.user, group=repository.user)
            for path in repository_directories(repository)
        ),
    ]
    # Read at each login: sshd needs no reload for them.
    operations.files_in_place(
        name=f"Install the members' key and the SFTP user's open-files limit, creating the "
        f"repository {directories[-1].path} if missing",
        files=[
            WantedFile(
                layout.authorized_keys_file,
                render_authorized_keys(members_public_key, environment.name).encode(),
                mode=0o644,
            ),
            WantedFile(
                layout.limits_file, render_limits(repository, environment.name).encode(), mode=0o644
            ),
        ],
        directories=directories,
    )
    configuration = operations.files_in_place(
        name=f"Install {layout.sshd_config_file}",
        files=[
            WantedFile(
                layout.sshd_config_file,
                render_sshd_config(repository, environment.name).encode(),
                mode=0o644,
            )
        ],
    )
    server.shell(
        name="Check sshd's configuration with the drop-in (sshd -t)",
        commands=["sshd -t"],
        _if=configuration.did_change,
    )
    systemd.service(
        name=f"Reload {layout.service} for the changed drop-in",
        service=layout.service,
        reloaded=True,
        _if=configuration.did_change,
    )
    operations.units_enabled_and_running(
        name=f"Enable and start {layout.service}", units=[layout.service]
    )
