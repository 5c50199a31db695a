"""The InfluxDB deploy: InfluxDB 2 from InfluxData's signed repository, configured and set up.

Run by ``deploy/site.py`` on the inventory's ``influxdb`` group; callable from any other pyinfra
deploy as ``influxdb(environment, secrets)``.
"""

from pyinfra.api.deploy import deploy
from pyinfra.context import host
from pyinfra.facts.server import LinuxDistribution
from pyinfra.operations import systemd

from datalayer.influxdb.build import setup_plan
from datalayer.influxdb.config import render_influxdb_config
from datalayer.influxdb.credentials import InfluxDbSecrets
from datalayer.influxdb.layout import CONFIG_PATH, SERVICE, USER
from datalayer.influxdb.packages import package_plan
from datalayer.spec import EnvironmentSpec, SpecError
from datalayer.spec.errors import not_set_line
from datalayer.spec.influxdb import InfluxDb
from deploy import apt, dpkg
from deploy.influxdb import operations
from deploy.onhost import upload_step
from deploy.operations import WantedFile, files_in_place, units_enabled_and_running


def influxdb_section(environment: EnvironmentSpec, host_name: str) -> InfluxDb:
    """The environment's InfluxDB spec; a host in the influxdb group of an environment without
    one is a :class:`SpecError`, raised before any change."""
    if environment.influxdb is None:
        raise SpecError(
            not_set_line(
                f"Pulumi.{environment.name}.yaml",
                "influxdb",
                f"host {host_name} is in the influxdb group",
            )
        )
    return environment.influxdb


@deploy("InfluxDB")
def influxdb(environment: EnvironmentSpec, secrets: InfluxDbSecrets) -> None:
    """Install, configure, start and set up InfluxDB 2 as ``environment`` declares.

    + environment: the validated environment spec, with an ``influxdb`` section
    + secrets: the operator's password and token (``datalayer.influxdb.credentials``), read
      before the deploy starts so that a missing secret stops it before any change
    """
    spec = influxdb_section(environment, host.name)
    dpkg.finish_interrupted_install(
        name="Finish an interrupted package install, waiting for a running apt or dpkg",
    )
    apt.install(package_plan(spec, host.get_fact(LinuxDistribution)["release_meta"]["ID"]))
    config = files_in_place(
        name=f"Install {CONFIG_PATH}",
        files=[
            WantedFile(
                CONFIG_PATH,
                render_influxdb_config(spec, environment.name).encode(),
                mode=0o640,
                user="root",
                group=USER,
            )
        ],
    )
    # Every influxd setting is read at start only: a changed file needs a restart, nothing else.
    systemd.service(
        name=f"Restart {SERVICE} for the changed configuration",
        service=SERVICE,
        restarted=True,
        _if=config.did_change,
    )
    units_enabled_and_running(name=f"Enable and start {SERVICE}", units=[SERVICE])
    upload_step(
        f"Upload datalayer/onhost/ and InfluxDB's setup plan for {environment.name} "
        "(org, bucket, tokens; no secrets)",
        "influxdb",
        setup_plan(spec),
    )
    operations.setup(
        name="Set up InfluxDB: onboarding, bucket retention, scoped tokens",
        service=SERVICE,
        admin_password=secrets.admin_password,
        admin_token=secrets.admin_token,
    )
