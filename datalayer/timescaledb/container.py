"""TimescaleDB as a container: Timescale's community image, running the rendered configuration.

The image (the official postgres image's entrypoint and Timescale's init scripts) initialises an
empty data volume on its first start: initdb, the superuser's password from
``POSTGRES_PASSWORD_FILE``, the application database (``POSTGRES_DB``) with the timescaledb
extension. Its timescaledb-tune step is skipped (``NO_TS_TUNE``): the tuning is in the rendered
postgresql.conf, and ``-c config_file=`` makes that file the one in force, not the one initdb
left in the data directory (``hba_file`` likewise for pg_hba.conf). Roles, schema and policies
are the post-provision hooks' job, as on droplets.
"""

import shlex
from dataclasses import dataclass
from urllib.parse import quote

from datalayer.containers import (
    SECRETS_DIRECTORY,
    ContainerFile,
    DataVolume,
    SecretFile,
    ServiceContainer,
    TimescaleDbService,
    secret_value,
    tls_directories,
)
from datalayer.spec.timescaledb import HbaRule, TimescaleDb
from datalayer.timescaledb.config import render_pg_hba_conf, render_postgresql_conf
from datalayer.timescaledb.layout import (
    PostgresqlLayout,
    container_layout,
    container_volume_directory,
)

SUPERUSER = "postgres"
SUPERUSER_PASSWORD_FILE = f"{SECRETS_DIRECTORY}/postgres-password"
HOOKS_DATABASE = "postgres"
"""The database the post-provision hooks connect to first (the application database may not
exist yet when they run)."""


def hooks_network(timescaledb: TimescaleDbService) -> str:
    """Where the post-provision hooks connect from: the stack's ``hooks_network``, else the
    Docker network's subnet (the hooks run on the Docker host itself)."""
    network = timescaledb.container.hooks_network or timescaledb.containers.network.subnet
    return str(network)


def container_spec(timescaledb: TimescaleDbService) -> TimescaleDb:
    """The TimescaleDB spec as the container runs it.

    Two differences from the droplet, both forced by the container: the server listens on every
    address of its own network namespace (the spec's listen addresses are the droplet's; here
    the published port decides what the Docker host exposes), and a first rule admits the
    superuser from :func:`hooks_network` with scram-sha-256, since the hooks reach the server
    through the published port rather than over the droplet's Unix socket.
    """
    spec = timescaledb.section
    hooks = HbaRule.model_validate(
        {
            "type": "host",
            "database": "all",
            "user": SUPERUSER,
            "address": hooks_network(timescaledb),
            "method": "scram-sha-256",
            "comment": "The post-provision hooks log in as the superuser via the published port.",
        }
    )
    return spec.model_copy(update={"listen_addresses": ["*"], "hba": [hooks, *spec.hba]})


def timescaledb_container(timescaledb: TimescaleDbService) -> ServiceContainer:
    """TimescaleDB's container in ``timescaledb``'s stack."""
    spec = container_spec(timescaledb)
    layout = container_layout(spec)
    secret = timescaledb.container.superuser_password_secret
    archive = layout.wal_archive_directory
    assert archive is not None  # the container layout always archives to a volume
    return ServiceContainer(
        service="timescaledb",
        image=timescaledb.container.image_for(spec.version),
        command=_command(layout, archive),
        environment_variables=(
            ("PGDATA", layout.data_directory),
            ("POSTGRES_PASSWORD_FILE", SUPERUSER_PASSWORD_FILE),
            ("POSTGRES_DB", spec.database),
            ("NO_TS_TUNE", "true"),
            ("TIMESCALEDB_TELEMETRY", spec.telemetry_level),
        ),
        files=_files(spec, layout, timescaledb.environment_name),
        # Read by the entrypoint as root, before it steps down to postgres.
        secret_files=(SecretFile(SUPERUSER_PASSWORD_FILE, (secret,), secret_value(secret)),),
        volumes=(
            DataVolume("data", container_volume_directory(spec)),
            DataVolume("wal-archive", archive),
        ),
        port=spec.port,
        published_port=timescaledb.published_port,
        publish_address=timescaledb.containers.publish_address,
        healthcheck=_healthcheck(spec),
        memory_bytes=spec.resources.memory,
        cpus=float(spec.resources.cpus),
        # A fast shutdown writes a checkpoint of up to shared_buffers; killing it instead means
        # crash recovery on the next start.
        stop_grace_seconds=120,
        start_period_seconds=120,
        read_only_mounts=tls_directories(spec.tls.cert_file, spec.tls.key_file, spec.tls.ca_file),
        shm_bytes=timescaledb.container.shm_size,
    )


def _command(layout: PostgresqlLayout, archive: str) -> tuple[str, ...]:
    """The image's entrypoint, running postgres with the rendered configuration files.

    The entrypoint execs any command that is not postgres: this one, as root, hands the fresh
    WAL archive volume (root-owned when Docker creates it) to postgres, then runs the entrypoint
    as usual. No secret is in it.
    """
    return (
        "sh",
        "-c",
        f"mkdir -p {archive} && chown postgres:postgres {archive} && chmod 700 {archive} "
        '&& exec docker-entrypoint.sh "$@"',
        "docker-entrypoint.sh",
        "postgres",
        *_settings(config_file=layout.postgresql_conf, hba_file=layout.pg_hba_conf),
    )


def _files(
    spec: TimescaleDb, layout: PostgresqlLayout, environment_name: str
) -> tuple[ContainerFile, ...]:
    """postgresql.conf and pg_hba.conf, rendered as for a droplet."""
    return (
        ContainerFile(
            layout.postgresql_conf, render_postgresql_conf(spec, layout, environment_name)
        ),
        ContainerFile(layout.pg_hba_conf, render_pg_hba_conf(spec, environment_name)),
    )


def _healthcheck(spec: TimescaleDb) -> tuple[str, ...]:
    """pg_isready, which needs no password: it only asks whether the server accepts
    connections. Over TCP, because the image's first-start server listens on the Unix socket
    only."""
    return (
        "CMD",
        "pg_isready",
        "--host=127.0.0.1",
        f"--port={spec.port}",
        f"--username={SUPERUSER}",
        f"--dbname={HOOKS_DATABASE}",
    )


def _settings(**settings: str) -> tuple[str, ...]:
    """``-c name=value`` for each setting, as the postgres command line takes them."""
    return tuple(part for name, value in settings.items() for part in ("-c", f"{name}={value}"))


@dataclass(frozen=True)
class HooksRun:
    """How the post-provision hooks are run against the container, from the machine that runs
    pulumi up: a command line without any secret, and the environment variables that carry
    them, each mapped to the spec's name of the secret it holds."""

    command: str
    secret_variables: tuple[tuple[str, str], ...]


def hooks_run(timescaledb: TimescaleDbService, python: str) -> HooksRun:
    """``python -m datalayer.hooks apply`` against the published port; the superuser's password
    in libpq's ``PGPASSWORD``, role passwords in the variables the spec names."""
    spec = timescaledb.section
    address = timescaledb.containers.publish_address
    check = timescaledb.certificate_check
    name = check.server_name if check is not None else address
    # With both, libpq connects to hostaddr and checks the certificate against host, which it
    # does not look up then (libpq docs, "Parameter Key Words", hostaddr).
    dsn = {"host": name} if name == address else {"host": name, "hostaddr": address}
    dsn |= {"port": str(timescaledb.published_port), "dbname": HOOKS_DATABASE, "user": SUPERUSER}
    if check is not None:
        # verify-full: the chain to sslrootcert, and the certificate names host (a DNS name, or
        # an IP address in its subjectAltName since libpq 14); verify-ca would take any
        # certificate the CA signed (libpq docs, "SSL Support", "SSL Mode Descriptions").
        dsn |= {"sslmode": "verify-full", "sslrootcert": check.ca_file}
    command = shlex.join(
        [
            python, "-m", "datalayer.hooks", "apply", "--env", timescaledb.environment_name,
            "--dsn", " ".join(f"{key}={value}" for key, value in dsn.items()),
        ]
    )  # fmt: skip
    variables = [("PGPASSWORD", timescaledb.container.superuser_password_secret)]
    variables += [(role.password_secret, role.password_secret) for role in spec.roles]
    return HooksRun(command, tuple(variables))


def connection_url(timescaledb: TimescaleDbService, role: str, password: str) -> str:
    """The URL a client of the Docker host uses to log in as ``role`` to the application
    database; TLS is required when the server serves it."""
    spec = timescaledb.section
    sslmode = "require" if spec.tls.enabled else "disable"
    return (
        f"postgresql://{quote(role, safe='')}:{quote(password, safe='')}"
        f"@{timescaledb.containers.publish_address}:{timescaledb.published_port}"
        f"/{spec.database}?sslmode={sslmode}"
    )
