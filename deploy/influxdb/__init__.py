"""The InfluxDB deploy: InfluxDB 2 from InfluxData's signed repository, configured and set up.

Run by ``deploy/site.py`` on the inventory's ``influxdb`` group; callable from any other pyinfra
deploy as ``influxdb(environment, secrets)``.
"""

from io import StringIO

from pyinfra.api.deploy import deploy
from pyinfra.context import host
from pyinfra.facts.server import LinuxDistribution
from pyinfra.operations import apt, files, systemd

from datalayer.influxdb.build import setup_plan
from datalayer.influxdb.config import render_influxdb_config
from datalayer.influxdb.credentials import InfluxDbSecrets
from datalayer.influxdb.layout import CONFIG_PATH, SERVICE, USER
from datalayer.influxdb.packages import package_plan
from datalayer.spec import EnvironmentSpec, SpecError
from datalayer.spec.influxdb import InfluxDb
from datalayer.timescaledb.packages import KEYRING_DIRECTORY
from deploy import dpkg
from deploy.influxdb import operations
from deploy.onhost import upload_host_code, upload_plan


def influxdb_section(environment: EnvironmentSpec, host_name: str) -> InfluxDb:
    """The environment's InfluxDB spec; a host in the influxdb group of an environment without
    one is a :class:`SpecError`, raised before any change."""
    if environment.influxdb is None:
        raise SpecError(
            f"Pulumi.{environment.name}.yaml: datalayer:influxdb is not set, but host {host_name} "
            "is in the influxdb group"
        )
    return environment.influxdb


def _install_packages(spec: InfluxDb) -> None:
    distribution = host.get_fact(LinuxDistribution)["release_meta"]["ID"]
    plan = package_plan(spec, distribution)
    repository = plan.repository.repository
    dpkg.finish_interrupted_install(
        name="Finish an interrupted package install, waiting for a running apt or dpkg",
    )
    apt.packages(
        name="Install curl and gpg to fetch and check the repository signing key",
        packages=["ca-certificates", "curl", "gpg"],
        cache_time=3600,
        no_recommends=True,
    )
    files.directory(
        name=f"Create {KEYRING_DIRECTORY} for repository signing keys",
        path=KEYRING_DIRECTORY,
        mode="755",
    )
    operations.signing_key(
        name=f"Install the {repository.name} repository signing key, checked by fingerprint",
        url=repository.key_url,
        keyring=repository.keyring,
        fingerprint=plan.repository.fingerprint,
    )
    apt.repo(
        name=f"Add the {repository.name} apt repository",
        src=repository.source_line,
        filename=repository.name,
    )
    apt.packages(
        name=f"Install {', '.join(plan.packages)}",
        packages=list(plan.packages),
        update=True,
        cache_time=3600,
        no_recommends=True,
    )


@deploy("InfluxDB")
def influxdb(environment: EnvironmentSpec, secrets: InfluxDbSecrets) -> None:
    """Install, configure, start and set up InfluxDB 2 as ``environment`` declares.

    + environment: the validated environment spec, with an ``influxdb`` section
    + secrets: the operator's password and token (``datalayer.influxdb.credentials``), read
      before the deploy starts so that a missing secret stops it before any change
    """
    spec = influxdb_section(environment, host.name)
    _install_packages(spec)
    config = files.put(
        name=f"Install {CONFIG_PATH}",
        src=StringIO(render_influxdb_config(spec, environment.name)),
        dest=CONFIG_PATH,
        user="root",
        group=USER,
        mode="640",
    )
    # Every influxd setting is read at start only: a changed file needs a restart, nothing else.
    systemd.service(
        name=f"Restart {SERVICE} for the changed configuration",
        service=SERVICE,
        restarted=True,
        _if=config.did_change,
    )
    systemd.service(
        name=f"Enable and start {SERVICE}",
        service=SERVICE,
        running=True,
        enabled=True,
    )
    upload_host_code()
    upload_plan(
        f"Upload InfluxDB's setup plan for {environment.name} (org, bucket, tokens; no secrets)",
        "influxdb",
        setup_plan(spec),
    )
    operations.setup(
        name="Set up InfluxDB: onboarding, bucket retention, scoped tokens",
        service=SERVICE,
        admin_password=secrets.admin_password,
        admin_token=secrets.admin_token,
    )
