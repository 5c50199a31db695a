"""Every secret the environment names, as secret outputs: set in the stack, or generated.

A secret set with ``pulumi config set --secret datalayer-secrets:<NAME>`` is used as it is (the
stack's configuration has checked it as the droplet path checks its secrets); any other is a
``RandomPassword`` kept in the stack's state, so it stays the same from one ``up`` to the next.
Either way the program marks the value secret itself rather than trusting the source to: under
Pulumi's mocks a provider's secret outputs come back plain.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_random as random

GENERATED_LENGTH = 32


@dataclass
class StackSecretsArgs:
    """The secrets to provide, by the spec's names, and those the stack sets."""

    names: Sequence[str]
    configured: Mapping[str, pulumi.Input[str]]


def _resource_name(secret: str) -> str:
    return secret.lower().replace("_", "-")


class StackSecrets(pulumi.ComponentResource):
    """The stack's secrets; ``values[NAME]`` is a secret output."""

    def __init__(
        self, name: str, args: StackSecretsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("trading:secrets:StackSecrets", name, None, opts)
        self.values: dict[str, pulumi.Output[str]] = {}
        for secret in args.names:
            if secret in args.configured:
                value = pulumi.Output.from_input(args.configured[secret])
            else:
                value = random.RandomPassword(
                    f"{name}-{_resource_name(secret)}",
                    length=GENERATED_LENGTH,
                    # Letters and digits only: safe in connection URLs, no quoting anywhere.
                    special=False,
                    # Protected like the volumes: the data on them opens only with these (the
                    # superuser's and InfluxDB operator's are set on a fresh volume only), so a
                    # `pulumi destroy --exclude-protected` must not forget them.
                    opts=pulumi.ResourceOptions(parent=self, protect=True),
                ).result
            self.values[secret] = pulumi.Output.secret(value)
        self.register_outputs(dict(self.values))
