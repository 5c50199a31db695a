"""InfluxDB 2 as a container: the official influxdb:2 image, running the rendered config.toml.

On its first start on an empty volume, the image's entrypoint onboards InfluxDB (org, bucket,
retention, operator user and token) from ``DOCKER_INFLUXDB_INIT_*`` variables, reading the
password and token from files (``*_FILE``), before the server listens on its real port. Later
starts skip that, so the stack then runs the droplets' setup step (``converge``) from the machine
that runs pulumi up: retention changes and the scoped app and reader tokens
(``datalayer.influxdb.container_setup``).
"""

from dataclasses import replace

from datalayer.containers import (
    SECRETS_DIRECTORY,
    ContainerFile,
    DataVolume,
    InfluxDbService,
    SecretFile,
    ServiceContainer,
    secret_value,
    tls_directories,
)
from datalayer.influxdb.build import setup_plan
from datalayer.influxdb.config import render_influxdb_config
from datalayer.influxdb.layout import CONTAINER_LAYOUT
from datalayer.onhost.influxdb_setup import Plan
from datalayer.spec.influxdb import InfluxDb

ADMIN_PASSWORD_FILE = f"{SECRETS_DIRECTORY}/influxdb-admin-password"
ADMIN_TOKEN_FILE = f"{SECRETS_DIRECTORY}/influxdb-admin-token"
INFLUXDB_UID = 1000
"""The influxdb user of the official image: its entrypoint reads the ``*_FILE`` inputs both as
root and, after stepping down, as this user."""
DATA_DIRECTORY = "/var/lib/influxdb2"
CLI_CONFIG_DIRECTORY = "/etc/influxdb2"
"""Where the image's onboarding writes the influx CLI's configuration; persisted with the data,
because onboarding runs only once."""
TOKENS_OUTPUT = "stack output influxdb_tokens"
"""Where the stacks keep the scoped tokens: a secret stack output, by role."""


def container_spec(spec: InfluxDb) -> InfluxDb:
    """The InfluxDB spec as the container runs it: the API on every address of its own network
    namespace. The spec's bind address is the droplet's; here the published port decides what
    the Docker host exposes."""
    return spec.model_copy(update={"http_bind_address": "*"})


def influxdb_container(influxdb: InfluxDbService) -> ServiceContainer:
    """InfluxDB's container in ``influxdb``'s stack."""
    spec = container_spec(influxdb.section)
    layout = CONTAINER_LAYOUT
    scheme = "https" if spec.tls.enabled else "http"
    ping = ("CMD", "influx", "ping", "--host", f"{scheme}://127.0.0.1:{spec.http_port}")
    return ServiceContainer(
        service="influxdb",
        image=influxdb.container.image_for(spec.version),
        command=("influxd",),
        environment_variables=(
            ("INFLUXD_CONFIG_PATH", layout.config_path),
            ("DOCKER_INFLUXDB_INIT_MODE", "setup"),
            ("DOCKER_INFLUXDB_INIT_USERNAME", spec.admin_username),
            ("DOCKER_INFLUXDB_INIT_PASSWORD_FILE", ADMIN_PASSWORD_FILE),
            ("DOCKER_INFLUXDB_INIT_ADMIN_TOKEN_FILE", ADMIN_TOKEN_FILE),
            ("DOCKER_INFLUXDB_INIT_ORG", spec.org),
            ("DOCKER_INFLUXDB_INIT_BUCKET", spec.bucket),
            ("DOCKER_INFLUXDB_INIT_RETENTION", spec.retention),
        ),
        files=(
            ContainerFile(
                layout.config_path, render_influxdb_config(spec, influxdb.environment_name, layout)
            ),
        ),
        secret_files=(
            SecretFile(
                ADMIN_PASSWORD_FILE,
                (spec.admin_password_secret,),
                secret_value(spec.admin_password_secret),
                owner=INFLUXDB_UID,
            ),
            SecretFile(
                ADMIN_TOKEN_FILE,
                (spec.admin_token_secret,),
                secret_value(spec.admin_token_secret),
                owner=INFLUXDB_UID,
            ),
        ),
        volumes=(DataVolume("data", DATA_DIRECTORY), DataVolume("config", CLI_CONFIG_DIRECTORY)),
        port=spec.http_port,
        published_port=influxdb.published_port,
        publish_address=influxdb.containers.publish_address,
        # The server's own certificate need not name 127.0.0.1: the check is of the server, not
        # of the certificate.
        healthcheck=(*ping, "--skip-verify") if spec.tls.enabled else ping,
        memory_bytes=influxdb.container.memory,
        cpus=influxdb.container.cpus,
        stop_grace_seconds=60,
        start_period_seconds=120,
        read_only_mounts=tls_directories(spec.tls.cert_file, spec.tls.key_file),
    )


def container_setup_plan(influxdb: InfluxDbService) -> Plan:
    """The setup step's plan against the container: the droplets' plan, with the API reached at
    the published address and port, and the certificate checked against the stack's CA file and
    for the stack's server name."""
    spec = container_spec(influxdb.section)
    check = influxdb.certificate_check
    scheme = "https" if spec.tls.enabled else "http"
    address = influxdb.containers.publish_address
    plan = setup_plan(spec)
    return replace(
        plan,
        url=f"{scheme}://{address}:{influxdb.published_port}",
        ca_file=check.ca_file if check is not None else None,
        # A CA bundle may sign certificates for any host: the name is checked too.
        server_name=check.server_name if check is not None else None,
        # The stack's state keeps the tokens, not files: the setup step's lines name the output.
        tokens=tuple(replace(token, file=f"{TOKENS_OUTPUT}.{token.role}") for token in plan.tokens),
    )
