"""The resources every service component declares the same way, from its ``ServiceContainer``:
the pinned image, the data volumes, and the container with its files, port, limits and check.

The service components (timescaledb, redis, influxdb) call :func:`declare_service` as children of
themselves and add what is theirs alone (the hooks, InfluxDB's setup step).
"""

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_docker as docker
from pydantic import SecretStr

from datalayer.containers import LABEL_PREFIX, SecretFile, ServiceContainer, container_name
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


def labels(environment: str, service: str) -> dict[str, str]:
    """The labels of a stack's Docker objects; never a secret."""
    return {f"{LABEL_PREFIX}.environment": environment, f"{LABEL_PREFIX}.service": service}


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
    environment: str,
    plan: ServiceContainer,
    network_name: pulumi.Input[str],
    secrets: Mapping[str, pulumi.Input[str]],
) -> ServiceResources:
    """The image, volumes and container of ``plan``, as children of ``parent`` named
    ``{name}-image``, ``{name}-<volume>`` and ``{name}-container``."""
    service_labels = labels(environment, plan.service)
    image = docker.RemoteImage(
        f"{name}-image",
        name=plan.image,
        # Another stack or a rollback may want it again; removing images is the operator's call.
        keep_locally=True,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    volumes = {
        volume.suffix: docker.Volume(
            f"{name}-{volume.suffix}",
            name=container_name(environment, plan.service, volume.suffix),
            labels=[docker.VolumeLabelArgs(label=k, value=v) for k, v in service_labels.items()],
            # The data outlives the container and the stack: `pulumi destroy` refuses to delete
            # a protected resource, and even once unprotected, deleting it from the stack leaves
            # the Docker volume in place. A change that would replace a volume stops the update.
            opts=pulumi.ResourceOptions(parent=parent, protect=True, retain_on_delete=True),
        )
        for volume in plan.volumes
    }
    uploads = [
        docker.ContainerUploadArgs(
            file=file.path,
            content=file.content,
            permissions=file.mode,
            owner=str(file.owner),
            group=str(file.owner),
        )
        for file in plan.files
    ]
    uploads += [
        docker.ContainerUploadArgs(
            file=file.path,
            content=secret_content(file, secrets),
            permissions=file.mode,
            owner=str(file.owner),
            group=str(file.owner),
        )
        for file in plan.secret_files
    ]
    mounts = [
        docker.ContainerVolumeArgs(
            volume_name=volumes[volume.suffix].name, container_path=volume.path
        )
        for volume in plan.volumes
    ]
    mounts += [
        docker.ContainerVolumeArgs(host_path=directory, container_path=directory, read_only=True)
        for directory in plan.read_only_mounts
    ]
    # Limits and durations in the form the provider reads them back (datalayer.docker_forms), so
    # that a second `pulumi up` finds nothing to change: "2" CPUs read back as "2.0" would
    # replace the container on every run.
    memory = megabytes(plan.memory_bytes)
    container = docker.Container(
        f"{name}-container",
        name=container_name(environment, plan.service),
        image=image.image_id,
        hostname=plan.service,
        command=list(plan.command),
        envs=[f"{key}={value}" for key, value in plan.environment],
        uploads=uploads,
        volumes=mounts,
        networks_advanced=[
            docker.ContainerNetworksAdvancedArgs(name=network_name, aliases=[plan.service])
        ],
        ports=[
            docker.ContainerPortArgs(
                internal=plan.port,
                external=plan.published_port,
                ip=plan.publish_address,
                protocol="tcp",
            )
        ],
        healthcheck=docker.ContainerHealthcheckArgs(
            tests=list(plan.healthcheck),
            interval=duration(HEALTH_INTERVAL_SECONDS),
            timeout=duration(HEALTH_TIMEOUT_SECONDS),
            retries=HEALTH_RETRIES,
            start_period=duration(plan.start_period_seconds),
        ),
        restart="unless-stopped",
        memory=memory,
        # Equal to the memory limit: no swap, which would only make a database slow instead of
        # failing visibly.
        memory_swap=memory,
        cpus=cpus(plan.cpus),
        shm_size=None if plan.shm_bytes is None else megabytes(plan.shm_bytes),
        destroy_grace_seconds=plan.stop_grace_seconds,
        labels=[docker.ContainerLabelArgs(label=k, value=v) for k, v in service_labels.items()],
        must_run=True,
        # Creation completes only once the health check passes, so whatever depends on the
        # container (the hooks, InfluxDB's setup) runs against a server that answers.
        wait=True,
        wait_timeout=plan.start_period_seconds + HEALTH_INTERVAL_SECONDS * HEALTH_RETRIES,
        # Fixed name and host port: the old container must be gone before its replacement starts.
        opts=pulumi.ResourceOptions(parent=parent, delete_before_replace=True),
    )
    return ServiceResources(image, volumes, container)


def endpoint(plan: ServiceContainer) -> str:
    """``ADDRESS:PORT`` where clients reach the service on the Docker host."""
    return f"{plan.publish_address}:{plan.published_port}"
