"""WAL archiving and backups of the TimescaleDB cluster with pgBackRest, in two steps.

``repository`` comes before PostgreSQL's configuration: pgBackRest's files and the stanza exist
before the server restarts with archive_mode on, so its first archive attempt already succeeds.
``verify_and_schedule`` comes once the server runs: ``pgbackrest check`` proves that archiving
works, then systemd timers take the full and differential backups.
"""

from collections.abc import Callable

from pydantic import SecretStr
from pyinfra.api.exceptions import PyinfraError
from pyinfra.api.operation import OperationMeta
from pyinfra.context import state
from pyinfra.operations import systemd

from datalayer.spec import EnvironmentSpec
from datalayer.spec.backup import SftpRepository
from datalayer.timescaledb.backup.keys import RepositoryKeys
from datalayer.timescaledb.backup.layout import PGBACKREST_PATHS, archive_command, backup_units
from datalayer.timescaledb.backup.render import (
    render_backup_service,
    render_backup_timer,
    render_pgbackrest_conf,
    render_repository_keys,
)
from datalayer.timescaledb.backup.sftp import SftpAccess, render_known_hosts
from datalayer.timescaledb.layout import PostgresqlLayout
from deploy import operations
from deploy.backup_repository.facts import HOST_PUBLIC_KEYS, SshHostPublicKeys
from deploy.operations import WantedDirectory, WantedFile
from deploy.timescaledb import pgbackrest


def sftp_host_keys(repository: SftpRepository, access: SftpAccess) -> tuple[tuple[str, ...], str]:
    """The SFTP server's host keys to pin, and who vouched for them.

    A declared server's key is the spec's. The backup_repository host's keys are read from the
    host itself, over the SSH connection pyinfra holds to it: the members then trust exactly
    the host that pyinfra (and whoever checked its host key on the control machine) trusts, and
    no key is ever learnt from the network the members connect over, as ``ssh-keyscan`` or
    pgBackRest's ``accept-new`` would learn it. Read while the deploy is prepared: the host
    runs sshd already, or pyinfra could not have connected to it.
    """
    if access.server.inventory_host is None:
        assert repository.host_key is not None  # the spec requires it with a declared host
        return (repository.host_key,), "the spec (timescaledb.backup.repository.host_key)"
    name = access.server.inventory_host
    repository_host = state.inventory.get_host(name)
    # pyinfra connects only to the hosts --limit leaves in (pyinfra/api/connect.py:19-25).
    if not repository_host.connected:
        raise PyinfraError(
            f"the backup_repository host {name} is not connected in this run (left out by "
            "--limit, or unreachable): its host keys are pinned from the host itself"
        )
    keys = repository_host.get_fact(SshHostPublicKeys)
    if not keys:
        raise PyinfraError(f"the backup_repository host {name} has no {HOST_PUBLIC_KEYS}")
    return keys, f"{HOST_PUBLIC_KEYS} of {name}, read over pyinfra's SSH connection"


def repository(
    environment: EnvironmentSpec,
    layout: PostgresqlLayout,
    keys: RepositoryKeys | None,
    sftp: SftpAccess | None,
) -> tuple[OperationMeta, ...]:
    """pgBackRest's configuration, the repository directory and the stanza.

    + environment, layout, keys, sftp: as ``repository_files`` takes them

    Returns the operations that change the repository (configuration, keys, stanza): whether
    they did is what ``verify_and_schedule`` needs to know.
    """
    backup = environment.timescaledb.backup
    files = repository_files(environment, layout, keys, sftp)
    stanza = pgbackrest.stanza(
        name=f"Create the pgBackRest stanza {backup.stanza} if missing",
        stanza=backup.stanza,
    )
    return (*files, stanza)


def repository_files(
    environment: EnvironmentSpec,
    layout: PostgresqlLayout,
    keys: RepositoryKeys | None,
    sftp: SftpAccess | None,
) -> tuple[OperationMeta, ...]:
    """pgBackRest's configuration and the repository's keys (and directory, when posix): all
    a host needs to read the stanza, as a restore drill's scratch host does, which must never
    create one.

    + environment: the validated environment spec
    + layout: the cluster's paths (pgBackRest's stanza points at its data directory)
    + keys: the S3 repository's keys (``repository_keys``), None for any other repository
    + sftp: an SFTP repository's key pair and server, None for any other repository

    Returns the operations that install the configuration and the keys. Nothing here reads
    this host while the deploy is prepared: a host whose package install was cut has no
    postgres user to read it as until ``deploy.dpkg.finish_interrupted_install`` has run. (An
    SFTP repository's host keys are read then, as root, from the repository host:
    ``sftp_host_keys``.) Moving off an SFTP repository removes the private key; its public key
    and known hosts file stay, harmless.
    """
    backup = environment.timescaledb.backup
    paths = PGBACKREST_PATHS
    repository_spec = backup.repository
    pgbackrest_conf = render_pgbackrest_conf(
        environment.timescaledb, layout, environment.name, None if sftp is None else sftp.server
    )
    keys_file = None if keys is None else render_repository_keys(backup, keys, environment.name)

    directories = [
        WantedDirectory(paths.config_directory, mode=0o755),
        WantedDirectory(paths.include_directory, mode=0o750, group="postgres"),
    ]
    files = [WantedFile(paths.config_file, pgbackrest_conf.encode(), mode=0o640, group="postgres")]
    if repository_spec.type == "posix":
        directories.append(
            WantedDirectory(repository_spec.path, mode=0o750, user="postgres", group="postgres")
        )
    if repository_spec.type == "sftp":
        assert sftp is not None  # judged with the spec before the deploy
        host_keys, source = sftp_host_keys(repository_spec, sftp)
        known_hosts = render_known_hosts(
            sftp.server.address, repository_spec.port, host_keys, source, environment.name
        )
        directories.append(WantedDirectory(paths.sftp_directory, mode=0o750, group="postgres"))
        files += [
            WantedFile(
                paths.sftp_public_key_file,
                f"{sftp.key_pair.public_key}\n".encode(),
                mode=0o640,
                group="postgres",
            ),
            WantedFile(
                paths.sftp_known_hosts_file, known_hosts.encode(), mode=0o640, group="postgres"
            ),
        ]
    configuration = operations.files_in_place(
        name=f"Install {', '.join(file.path for file in files)}, creating "
        + ", ".join(directory.path for directory in directories)
        + " if missing",
        files=files,
        directories=directories,
    )
    keys_installed = pgbackrest.secret_file(
        name=(
            "Remove the keys of an earlier S3 repository, if any"
            if keys_file is None
            else f"Install the S3 repository keys in {paths.keys_file}"
        ),
        path=paths.keys_file,
        content=None if keys_file is None else SecretStr(keys_file),
        owner=pgbackrest.S3_KEYS_FILE_OWNER,
        what="repository keys",
    )
    private_key_installed = pgbackrest.secret_file(
        name=(
            "Remove the SSH key of an earlier SFTP repository, if any"
            if sftp is None
            else f"Install the SFTP repository's SSH key in {paths.sftp_private_key_file}"
        ),
        path=paths.sftp_private_key_file,
        content=None if sftp is None else sftp.key_pair.private_key,
        owner=pgbackrest.SFTP_PRIVATE_KEY_OWNER,
        what="SSH private key",
    )
    if sftp is not None:
        pgbackrest.repository_answers(
            name=f"Wait until the SFTP repository at {sftp.server.address} answers",
            stanza=backup.stanza,
            _if=lambda: configuration.did_change() or private_key_installed.did_change(),
        )
    return configuration, keys_installed, private_key_installed


def verify_and_schedule(
    environment: EnvironmentSpec,
    layout: PostgresqlLayout,
    repository_operations: tuple[OperationMeta, ...],
    archiving: Callable[[], bool] | None = None,
) -> None:
    """Check that the running server archives, then schedule the backups.

    + environment: the validated environment spec
    + layout: the cluster's paths and service
    + repository_operations: what ``repository`` returned
    + archiving: asked when the check would run, whether this server archives now; None for a
      single host, which always does. A cluster's replica archives nothing (archive_mode=on
      archives on the leader only) and ``pgbackrest check`` refuses a standby.
    """
    spec = environment.timescaledb
    backup = spec.backup
    pgbackrest.check(
        name=f"Check that PostgreSQL archives to stanza {backup.stanza} (pgbackrest check)",
        stanza=backup.stanza,
        version=layout.version,
        cluster=layout.cluster,
        archive_command=archive_command(backup),
        repository_operations=repository_operations,
        _if=archiving or (lambda: True),
    )
    units = backup_units(backup)
    unit_files = operations.files_in_place(
        name="Install the backup units: "
        + ", ".join(f"{unit.service}, {unit.timer} ({unit.schedule})" for unit in units),
        files=[
            WantedFile(f"{PGBACKREST_PATHS.unit_directory}/{name}", content.encode(), mode=0o644)
            for unit in units
            for name, content in (
                (unit.service, render_backup_service(spec, layout, unit, environment.name)),
                (unit.timer, render_backup_timer(backup, unit, environment.name)),
            )
        ],
    )
    systemd.daemon_reload(
        name="Reload systemd for the changed backup units",
        _if=unit_files.did_change,
    )
    # daemon-reload alone puts a changed OnCalendar= in force: no timer restart is needed.
    operations.units_enabled_and_running(
        name=f"Enable and start {', '.join(unit.timer for unit in units)}",
        units=[unit.timer for unit in units],
    )
