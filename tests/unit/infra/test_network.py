"""The stack's Docker engine and network under Pulumi's mocks."""

import pytest

from tests.unit.infra.harness import StackRun, container

SERVICES = ("timescaledb", "redis", "influxdb")
DOCKER_TYPES = (
    "docker:index/network:Network",
    "docker:index/remoteImage:RemoteImage",
    "docker:index/volume:Volume",
    "docker:index/container:Container",
)


def test_dev_uses_the_local_engine(dev: StackRun) -> None:
    assert dev.named("docker-engine").inputs.get("host") is None


def test_prod_uses_the_droplets_engine_over_ssh(prod: StackRun) -> None:
    assert prod.named("docker-engine").inputs["host"] == "ssh://deploy@10.110.0.40"


def test_every_docker_resource_goes_to_the_stacks_engine(stack: StackRun) -> None:
    engine = stack.named("docker-engine")
    docker = [resource for resource in stack.resources if resource.type in DOCKER_TYPES]
    assert len(docker) == 12  # a network, three images, five volumes, three containers
    # A provider reference is the provider's URN and id.
    reference = f"pulumi:providers:docker::{engine.name}::{engine.name}-id"
    assert all(resource.provider.endswith(reference) for resource in docker)


def test_network_component_has_its_type_token(dev: StackRun) -> None:
    assert dev.named("network").type == "trading:network:DataNetwork"
    assert dev.named("network-network").parent.endswith("trading:network:DataNetwork::network")


def test_network_has_the_stacks_name_and_the_specs_subnet(stack: StackRun) -> None:
    network = stack.named("network-network").inputs
    assert network["name"] == f"datalayer-{stack.stack}"
    assert network["ipamConfigs"] == [{"subnet": "172.28.57.0/24", "gateway": "172.28.57.1"}]
    assert stack.outputs["network"] == f"datalayer-{stack.stack}"


@pytest.mark.parametrize("service", SERVICES)
def test_every_container_joins_the_network_under_its_service_name(
    stack: StackRun, service: str
) -> None:
    inputs = container(stack, service)
    assert inputs["networksAdvanced"] == [
        {"name": f"datalayer-{stack.stack}", "aliases": [service]}
    ]
    assert inputs["hostname"] == service


@pytest.mark.parametrize("service", SERVICES)
def test_every_container_is_labelled_with_its_environment_and_service(
    stack: StackRun, service: str
) -> None:
    assert container(stack, service)["labels"] == [
        {"label": "org.trading.datalayer.environment", "value": stack.stack},
        {"label": "org.trading.datalayer.service", "value": service},
    ]


def test_only_volumes_and_generated_secrets_are_protected(stack: StackRun) -> None:
    protected = {resource.name for resource in stack.resources if resource.protect}
    assert protected == {
        "timescaledb-data", "timescaledb-wal-archive", "redis-data", "influxdb-data",
        "influxdb-config", *stack.generated,
    }  # fmt: skip
    assert len(stack.generated) == 6


def test_every_container_is_deleted_before_its_replacement_starts(stack: StackRun) -> None:
    containers = stack.of_type("docker:index/container:Container")
    assert len(containers) == 3
    assert all(resource.delete_before_replace for resource in containers)
