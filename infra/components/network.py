"""The stack's private Docker network, which the containers share and reach each other on by
service name (timescaledb, redis, influxdb)."""

from dataclasses import dataclass

import pulumi
import pulumi_docker as docker


@dataclass
class DataNetworkArgs:
    """The network's Docker name, subnet and gateway, and its labels."""

    docker_name: pulumi.Input[str]
    subnet: pulumi.Input[str]
    gateway: pulumi.Input[str]
    labels: dict[str, str]


class DataNetwork(pulumi.ComponentResource):
    """A bridge network with a fixed subnet: pg_hba.conf's rule for the post-provision hooks
    names it, so it cannot be left to Docker's choice."""

    def __init__(
        self, name: str, args: DataNetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("trading:network:DataNetwork", name, None, opts)
        self.network = docker.Network(
            f"{name}-network",
            name=args.docker_name,
            driver="bridge",
            ipam_configs=[docker.NetworkIpamConfigArgs(subnet=args.subnet, gateway=args.gateway)],
            labels=[docker.NetworkLabelArgs(label=k, value=v) for k, v in args.labels.items()],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.docker_name: pulumi.Output[str] = self.network.name
        self.register_outputs({"name": self.network.name, "subnet": args.subnet})
