"""TimescaleDB's container, its data volume, and the post-provision hooks run against it.

The hooks run from the machine that runs ``pulumi up``, once the container is healthy (its
creation waits for the health check), and again only when one of their inputs changes: the
hooks' fingerprint (SQL files, roles, policies) or a secret they use. Secrets reach them as
environment variables of the command, never in its text.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_command import local

from datalayer.containers import ServiceContainer, TimescaleDbService
from datalayer.timescaledb.container import HooksRun, connection_url
from infra.components.service import declare_service, endpoint


@dataclass
class TimescaleDbArgs:
    """What the TimescaleDB component is built from; all read and computed before it."""

    service: TimescaleDbService
    container: ServiceContainer
    network_name: pulumi.Input[str]
    secrets: Mapping[str, pulumi.Input[str]]
    """Every secret of the stack, by the spec's name; secret outputs."""
    hooks: HooksRun
    hooks_fingerprint: str
    """``infra.hooks.post_provision_fingerprint(environment)``: changes when the SQL, roles or
    policies do."""
    command_directory: str
    """Where the command runs: the repository root, relative to the program's directory."""


FINGERPRINT_VARIABLE = "DATALAYER_HOOKS_FINGERPRINT"
"""The hooks command's variable holding their fingerprint. The hooks do not read it: it is there
so that a changed fingerprint is a changed input of the command."""


class TimescaleDb(pulumi.ComponentResource):
    """TimescaleDB in a container, brought to its declared state by the post-provision hooks."""

    def __init__(
        self, name: str, args: TimescaleDbArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("trading:db:TimescaleDb", name, None, opts)
        service = args.service
        resources = declare_service(
            self, name, service.environment_name, args.container, args.network_name, args.secrets
        )
        self.container = resources.container
        hook_secrets = {
            variable: pulumi.Output.secret(args.secrets[secret])
            for variable, secret in args.hooks.secret_variables
        }
        # No `triggers`, pulumi-command's only input whose change replaces the command
        # (common/inputs.go:10, replaceOnChanges): any other changed input is an update, which
        # runs `create` again when `update` is unset (local/commandController.go:79-88). That
        # makes the fingerprint a variable of the command, beside the passwords, whose change
        # re-runs the hooks too. A replacement would do no harm here (no `delete` command, and
        # the hooks read nothing of their last run), but it would show as one in every preview,
        # and the stack's commands follow one rule: they re-run through updates.
        self.hooks = local.Command(
            f"{name}-hooks",
            create=args.hooks.command,
            dir=args.command_directory,
            environment={FINGERPRINT_VARIABLE: args.hooks_fingerprint, **hook_secrets},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.container]),
        )
        self.endpoint = endpoint(args.container)
        self.urls: pulumi.Output[dict[str, str]] = pulumi.Output.secret(
            pulumi.Output.all(
                **{role.name: args.secrets[role.password_secret] for role in service.section.roles}
            ).apply(
                lambda passwords: {
                    role: connection_url(service, role, password)
                    for role, password in passwords.items()
                }
            )
        )
        self.register_outputs(
            {
                "container": self.container.name,
                "endpoint": self.endpoint,
                "urls": self.urls,
                "hooks": self.hooks.stdout,
            }
        )
