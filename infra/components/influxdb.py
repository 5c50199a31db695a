"""InfluxDB 2's container, its data and CLI-config volumes, and the setup step run against it.

The image onboards an empty volume on its first start (org, bucket, retention, operator). The
setup step (the droplets' ``converge``) then runs from the machine that runs ``pulumi up``: it
creates the app (read and write) and reader (read) tokens scoped to the bucket and converges the
bucket's retention. It runs again when the plan, the operator's secrets or the container change,
always as an update of the command, never a replacement: an update keeps the command's last
output and hands it to the next run (``PULUMI_COMMAND_STDOUT``), and the tokens in it are kept
while they still work. A replaced command would start without them and issue new ones, breaking
every client that holds the old.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_command import local

from datalayer.containers import InfluxDbService, ServiceContainer
from datalayer.onhost.influxdb_setup import Plan
from infra.components.service import declare_service

SETUP_MODULE = "datalayer.influxdb.container_setup"


@dataclass
class InfluxDbArgs:
    """What the InfluxDB component is built from; all read and computed before it."""

    service: InfluxDbService
    container: ServiceContainer
    network_name: pulumi.Input[str]
    secrets: Mapping[str, pulumi.Input[str]]
    """Every secret of the stack, by the spec's name; secret outputs."""
    setup_plan: Plan
    """The setup step's plan against the published API; holds no secret."""
    python: str
    """The interpreter that runs the setup step, with this project installed."""
    command_directory: str
    """Where the setup step runs: the repository root, relative to the program's directory."""


CONTAINER_VARIABLE = "DATALAYER_INFLUXDB_CONTAINER"
"""The setup command's variable holding the container's id. The setup step does not read it: it
is there so that a replaced container is a changed input of the command."""


class InfluxDb(pulumi.ComponentResource):
    """InfluxDB 2 in a container, with its org, bucket and scoped tokens."""

    def __init__(
        self, name: str, args: InfluxDbArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("trading:metrics:InfluxDb", name, None, opts)
        spec = args.service.section
        resources = declare_service(
            self,
            name,
            args.service.environment_name,
            args.container,
            args.network_name,
            args.secrets,
        )
        self.container = resources.container
        plan = args.setup_plan.to_json()
        operator = pulumi.Output.all(
            admin_password=args.secrets[spec.admin_password_secret],
            admin_token=args.secrets[spec.admin_token_secret],
        )
        setup_input: pulumi.Output[str] = pulumi.Output.secret(
            operator.apply(lambda secrets: json.dumps({"plan": plan, **secrets}))
        )
        command = f"{args.python} -m {SETUP_MODULE}"
        self.setup = local.Command(
            f"{name}-setup",
            create=command,
            # Every re-run is an update, which keeps the last run's stdout and hands it to the
            # next one (local/commandController.go:74, commandOutputs.go:88-95 at v1.2.1): that
            # is how the tokens InfluxDB shows only once are kept. So no `triggers`, the one input
            # whose change replaces the command (common/inputs.go:10) and starts it without its
            # output: the plan and the operator's secrets are in stdin, the container's id in the
            # environment, and a change of any of them is an update.
            update=command,
            dir=args.command_directory,
            stdin=setup_input,
            environment={CONTAINER_VARIABLE: self.container.id},
            add_previous_output_in_env=True,
            # The tokens are on stdout: kept as a secret output, never logged.
            logging=local.Logging.STDERR,
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[self.container], additional_secret_outputs=["stdout"]
            ),
        )
        self.url = args.setup_plan.url
        self.tokens: pulumi.Output[dict[str, str]] = pulumi.Output.secret(
            self.setup.stdout.apply(lambda stdout: dict(json.loads(stdout)["tokens"]))
        )
        self.register_outputs(
            {
                "container": self.container.name,
                "url": self.url,
                "org": spec.org,
                "bucket": spec.bucket,
                "tokens": self.tokens,
            }
        )
