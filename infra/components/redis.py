"""Redis's container and data volume: ACL users app and reader, the default user off, AOF and
RDB persistence on the volume, all from the rendered redis.conf and users.acl."""

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

from datalayer.containers import RedisService, ServiceContainer
from datalayer.redis.container import connection_url
from datalayer.redis.passwords import ADMIN_USER, user_secrets
from infra.components.service import declare_service, endpoint


@dataclass
class RedisArgs:
    """What the Redis component is built from; all read and computed before it."""

    service: RedisService
    container: ServiceContainer
    network_name: pulumi.Input[str]
    secrets: Mapping[str, pulumi.Input[str]]
    """Every secret of the stack, by the spec's name; secret outputs."""


class Redis(pulumi.ComponentResource):
    """Redis in a container."""

    def __init__(
        self, name: str, args: RedisArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("trading:cache:Redis", name, None, opts)
        service = args.service
        resources = declare_service(
            self, name, service.environment_name, args.container, args.network_name, args.secrets
        )
        self.container = resources.container
        self.endpoint = endpoint(args.container)
        # A URL for each client user; the deploy's admin reaches Redis over its socket only.
        clients = {
            user: name for user, name in user_secrets(service.section).items() if user != ADMIN_USER
        }
        self.urls: pulumi.Output[dict[str, str]] = pulumi.Output.secret(
            pulumi.Output.all(**{user: args.secrets[name] for user, name in clients.items()}).apply(
                lambda passwords: {
                    user: connection_url(service, user, password)
                    for user, password in passwords.items()
                }
            )
        )
        self.register_outputs(
            {"container": self.container.name, "endpoint": self.endpoint, "urls": self.urls}
        )
