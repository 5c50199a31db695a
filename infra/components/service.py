"""The resources every service component declares the same way, from its ``ServiceContainer``:
the pinned image, the data volumes, and the container with its files, port, limits and check.

The service components (timescaledb, redis, influxdb) call :func:`declare_service` as children of
themselves and add what is theirs alone (the hooks, InfluxDB's setup step).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypedDict, TypeVar

import pulumi
import pulumi_docker as docker
from pydantic import SecretStr

from datalayer.containers import (
    LABEL_PREFIX,
    ContainerFile,
    SecretFile,
    ServiceContainer,
    container_name,
)
from datalayer.docker_forms import cpus, duration, megabytes

HEALTH_INTERVAL_SECONDS = 10
HEALTH_TIMEOUT_SECONDS = 5
HEALTH_RETRIES = 5


@dataclass(frozen=True)
class ServiceResources:
    """What :func:`declare_service` created."""

    image: docker.RemoteImage
    volumes: dict[str, docker.Volume]
    container: docker.Container


def labels(environment_name: str, service: str) -> dict[str, str]:
    """The labels of a stack's Docker objects; never a secret."""
    return {f"{LABEL_PREFIX}.environment": environment_name, f"{LABEL_PREFIX}.service": service}


def secret_content(
    file: SecretFile, secrets: Mapping[str, pulumi.Input[str]]
) -> pulumi.Output[str]:
    """``file``'s content once its secrets are known, marked secret by the program itself (under
    mocks a provider's secret outputs are plain)."""
    values = [pulumi.Output.from_input(secrets[name]) for name in file.secrets]

    def render(resolved: list[str]) -> str:
        return file.render(
            {name: SecretStr(value) for name, value in zip(file.secrets, resolved, strict=True)}
        )

    return pulumi.Output.secret(pulumi.Output.all(*values).apply(render))


def declare_service(
    parent: pulumi.Resource,
    name: str,
    environment_name: str,
    container: ServiceContainer,
    network_name: pulumi.Input[str],
    secrets: Mapping[str, pulumi.Input[str]],
) -> ServiceResources:
    """The image, volumes and Docker container that ``container`` describes, as children of
    ``parent`` named ``{name}-image``, ``{name}-<volume>`` and ``{name}-container``."""
    image = _image(parent, name, container)
    volumes = _volumes(parent, name, environment_name, container)
    docker_container = docker.Container(
        f"{name}-container",
        name=container_name(environment_name, container.service),
        image=image.image_id,
        hostname=container.service,
        command=list(container.command),
        envs=[f"{key}={value}" for key, value in container.environment_variables],
        uploads=_uploads(container, secrets),
        volumes=_mounts(container, volumes),
        networks_advanced=[
            docker.ContainerNetworksAdvancedArgs(name=network_name, aliases=[container.service])
        ],
        ports=[_published_port(container)],
        healthcheck=_healthcheck(container),
        restart="unless-stopped",
        **_limits(container),
        labels=_labels(docker.ContainerLabelArgs, environment_name, container.service),
        must_run=True,
        # Creation completes only once the health check passes, so whatever depends on the
        # container (the hooks, InfluxDB's setup) runs against a server that answers.
        wait=True,
        wait_timeout=container.start_period_seconds + HEALTH_INTERVAL_SECONDS * HEALTH_RETRIES,
        # Fixed name and host port: the old container must be gone before its replacement starts.
        opts=pulumi.ResourceOptions(parent=parent, delete_before_replace=True),
    )
    return ServiceResources(image, volumes, docker_container)


def _image(parent: pulumi.Resource, name: str, container: ServiceContainer) -> docker.RemoteImage:
    """``container``'s image, pulled onto the engine."""
    return docker.RemoteImage(
        f"{name}-image",
        name=container.image,
        # Another stack or a rollback may want it again; removing images is the operator's call.
        keep_locally=True,
        opts=pulumi.ResourceOptions(parent=parent),
    )


def _volumes(
    parent: pulumi.Resource, name: str, environment_name: str, container: ServiceContainer
) -> dict[str, docker.Volume]:
    """``container``'s data volumes, by suffix."""
    return {
        volume.suffix: docker.Volume(
            f"{name}-{volume.suffix}",
            name=container_name(environment_name, container.service, volume.suffix),
            labels=_labels(docker.VolumeLabelArgs, environment_name, container.service),
            # The data outlives the container and the stack: `pulumi destroy` refuses to delete
            # a protected resource, and even once unprotected, deleting it from the stack leaves
            # the Docker volume in place. A change that would replace a volume stops the update.
            opts=pulumi.ResourceOptions(parent=parent, protect=True, retain_on_delete=True),
        )
        for volume in container.volumes
    }


def _uploads(
    container: ServiceContainer, secrets: Mapping[str, pulumi.Input[str]]
) -> list[docker.ContainerUploadArgs]:
    """The files placed in the container before it starts: rendered ones, then secret ones."""
    files: list[tuple[ContainerFile | SecretFile, pulumi.Input[str]]] = [
        (file, file.content) for file in container.files
    ]
    files += [(file, secret_content(file, secrets)) for file in container.secret_files]
    return [
        docker.ContainerUploadArgs(
            file=file.path,
            content=content,
            permissions=file.mode,
            owner=str(file.owner),
            group=str(file.owner),
        )
        for file, content in files
    ]


def _mounts(
    container: ServiceContainer, volumes: Mapping[str, docker.Volume]
) -> list[docker.ContainerVolumeArgs]:
    """The data volumes at their paths, then the Docker host's read-only directories."""
    mounts = [
        docker.ContainerVolumeArgs(
            volume_name=volumes[volume.suffix].name, container_path=volume.path
        )
        for volume in container.volumes
    ]
    mounts += [
        docker.ContainerVolumeArgs(host_path=directory, container_path=directory, read_only=True)
        for directory in container.read_only_mounts
    ]
    return mounts


class _Limits(TypedDict):
    """The container's limits, as :class:`docker.Container` takes them."""

    memory: int
    memory_swap: int
    cpus: str
    shm_size: int | None
    destroy_grace_seconds: int


def _limits(container: ServiceContainer) -> _Limits:
    """Memory, swap, CPUs, /dev/shm and the stop's grace period of the container.

    In the form the provider reads them back (datalayer.docker_forms), so that a second
    `pulumi up` finds nothing to change: "2" CPUs read back as "2.0" would replace the container
    on every run.
    """
    memory = megabytes(container.memory_bytes)
    return _Limits(
        memory=memory,
        # Equal to the memory limit: no swap, which would only make a database slow instead of
        # failing visibly.
        memory_swap=memory,
        cpus=cpus(container.cpus),
        shm_size=None if container.shm_bytes is None else megabytes(container.shm_bytes),
        destroy_grace_seconds=container.stop_grace_seconds,
    )


_Label = TypeVar("_Label", docker.ContainerLabelArgs, docker.VolumeLabelArgs)


def _labels(kind: Callable[..., _Label], environment_name: str, service: str) -> list[_Label]:
    """:func:`labels` as the label arguments of a container or a volume."""
    return [
        kind(label=key, value=value) for key, value in labels(environment_name, service).items()
    ]


def _published_port(container: ServiceContainer) -> docker.ContainerPortArgs:
    """The service's port, published on the Docker host's address for it only."""
    return docker.ContainerPortArgs(
        internal=container.port,
        external=container.published_port,
        ip=container.publish_address,
        protocol="tcp",
    )


def _healthcheck(container: ServiceContainer) -> docker.ContainerHealthcheckArgs:
    """Docker's health check of the service; durations as the provider reads them back."""
    return docker.ContainerHealthcheckArgs(
        tests=list(container.healthcheck),
        interval=duration(HEALTH_INTERVAL_SECONDS),
        timeout=duration(HEALTH_TIMEOUT_SECONDS),
        retries=HEALTH_RETRIES,
        start_period=duration(container.start_period_seconds),
    )


def endpoint(container: ServiceContainer) -> str:
    """``ADDRESS:PORT`` where clients reach the service on the Docker host."""
    return f"{container.publish_address}:{container.published_port}"
