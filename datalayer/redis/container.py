"""Redis as a container: the official image, running the rendered redis.conf and users.acl.

The image has no ``*_FILE`` variable for a password, and needs none: users.acl holds SHA-256
hashes of the passwords only, the ``default`` user is off, and the health check logs in as the
``admin`` ACL user with a password file only root in the container may read.
"""

from collections.abc import Mapping
from urllib.parse import quote

from pydantic import SecretStr

from datalayer.containers import (
    SECRETS_DIRECTORY,
    ContainerFile,
    DataVolume,
    RedisService,
    SecretFile,
    ServiceContainer,
    secret_value,
    tls_directories,
)
from datalayer.redis.config import render_redis_conf, render_users_acl
from datalayer.redis.layout import CONTAINER_LAYOUT
from datalayer.redis.passwords import ADMIN_USER, user_secrets
from datalayer.spec.redis import Redis

ADMIN_PASSWORD_FILE = f"{SECRETS_DIRECTORY}/redis-admin-password"
REDIS_UID = 999
"""The redis user of the official (Debian-based) image, which reads users.acl."""


def container_spec(spec: Redis) -> Redis:
    """The Redis spec as the container runs it: listening on every address of its own network
    namespace. The spec's bind addresses are the droplet's; here the published port decides what
    the Docker host exposes."""
    return spec.model_copy(update={"bind": ["0.0.0.0"]})


def redis_container(redis: RedisService) -> ServiceContainer:
    """Redis's container in ``redis``'s stack."""
    spec = container_spec(redis.section)
    layout = CONTAINER_LAYOUT
    secrets = user_secrets(spec)

    def users_acl(values: Mapping[str, SecretStr]) -> str:
        return render_users_acl(spec, {user: values[name] for user, name in secrets.items()})

    return ServiceContainer(
        service="redis",
        image=redis.container.image,
        command=("redis-server", layout.config_file),
        environment_variables=(),
        files=(
            ContainerFile(
                layout.config_file, render_redis_conf(spec, redis.environment_name, layout)
            ),
        ),
        secret_files=(
            # Password hashes only, but still nobody's business but Redis's.
            SecretFile(
                layout.acl_file, tuple(secrets.values()), users_acl, "0600", owner=REDIS_UID
            ),
            # For the health check, which runs as root.
            SecretFile(
                ADMIN_PASSWORD_FILE,
                (spec.admin_password_secret,),
                secret_value(spec.admin_password_secret),
            ),
        ),
        volumes=(DataVolume("data", layout.data_directory),),
        port=spec.port,
        published_port=redis.published_port,
        publish_address=redis.containers.publish_address,
        # redis-cli takes the password from REDISCLI_AUTH, so it is on no command line; the Unix
        # socket answers whatever the bind addresses and TLS are.
        healthcheck=(
            "CMD-SHELL",
            f'REDISCLI_AUTH="$(cat {ADMIN_PASSWORD_FILE})" '
            f"redis-cli --user {ADMIN_USER} -s {layout.socket} ping | grep -qx PONG",
        ),
        memory_bytes=redis.container.memory,
        cpus=redis.container.cpus,
        # Redis writes a last snapshot and flushes the append-only file when stopped.
        stop_grace_seconds=60,
        start_period_seconds=30,
        read_only_mounts=tls_directories(spec.tls.cert_file, spec.tls.key_file, spec.tls.ca_file),
    )


def connection_url(redis: RedisService, user: str, password: str) -> str:
    """The URL a client of the Docker host uses to log in as the ACL user ``user``; rediss://
    when Redis serves TLS only."""
    scheme = "rediss" if redis.section.tls.enabled else "redis"
    return (
        f"{scheme}://{quote(user, safe='')}:{quote(password, safe='')}"
        f"@{redis.containers.publish_address}:{redis.published_port}/0"
    )
