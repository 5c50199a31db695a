"""Judge the whole inventory before pyinfra connects to any host.

pyinfra 3.10's CLI runs a deploy file only after it has connected to every host:
``pyinfra_cli/cli.py`` loads the inventory (lines 421-428), initialises the state (435),
connects (446-448: ``connect_all``), and only then executes ``deploy/site.py`` (451:
``_handle_commands`` -> ``_prepare_deploy_operations`` -> ``load_deploy_file``, 882-891). A
check in site.py alone therefore comes after the connection, and an unreachable host hides it
behind ``No hosts remaining!`` (``state.fail_hosts``, ``pyinfra/api/connect.py:44-45``).

The supported place that runs before the connection *and* sees the inventory is a group data
file. While loading an inventory file (or a host list), ``make_inventory_from_files``
(``pyinfra_cli/inventory.py:298-403``) executes every ``*.py`` in ``<cwd>/group_data/`` for any
inventory (366-368, ``cwd`` being the directory pyinfra runs in, 632-637 of cli.py), with the
inventory's groups and host data attached as the current inventory so that group data can use
it (352-364, 378: ``ctx_inventory.use(fake_inventory)``). A :class:`PyinfraError` raised there
is re-raised as is (``pyinfra_cli/util.py:67-69``) and printed by the CLI as one line (cli.py:
293-295, ``WrappedError``). So this repository's ``group_data/all.py`` calls
:func:`check_before_connecting`, which needs nothing from the user's inventory; ``config.py``
(cli.py:663-669) would run earlier still, but before any inventory exists.

The judgement is what every host's deploy needs: its ``env`` data, the environment spec, the
cross-section checks (the hooks' plan against the migrations; a group the environment has no
section for) and every secret its groups read. ``deploy/site.py`` then takes the inputs judged
here, so nothing it uses was left unchecked.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pydantic import SecretStr
from pyinfra.api.exceptions import PyinfraError
from pyinfra.api.host import Host
from pyinfra.api.inventory import Inventory
from pyinfra.context import ctx_inventory

from datalayer.cluster.members import Membership, cluster_secrets, membership
from datalayer.etcd.passwords import EtcdPasswords, etcd_passwords
from datalayer.etcd.topology import ClusterTopology
from datalayer.hooks.build import build_plan
from datalayer.influxdb.credentials import InfluxDbSecrets, influxdb_secrets
from datalayer.monitoring.prometheus import PROMETHEUS_GROUP, ScrapeJob, scrape_jobs
from datalayer.onhost.hooks.plan import HookPlan
from datalayer.redis.passwords import redis_passwords
from datalayer.secrets import SecretError, read_ssh_private_key, role_passwords
from datalayer.spec import EnvironmentSpec, SpecError
from datalayer.spec.backup import BACKUP_REPOSITORY_GROUP
from datalayer.timescaledb.backup.keys import RepositoryKeys, repository_keys, sftp_key_pair
from datalayer.timescaledb.backup.sftp import SftpAccess
from deploy import inventory as inventory_contract
from deploy.backup_repository import members_sftp_server, repository_section
from deploy.etcd import cluster_section
from deploy.exporters import (
    ExporterInputs,
    exporter_inputs,
    postgres_monitor_password,
    redis_monitor_password,
)
from deploy.influxdb import influxdb_section
from deploy.redis import redis_section, redis_topology
from deploy.restore_drill.targets import is_declared_drill_host


@contextmanager
def stop_on_bad_input() -> Iterator[None]:
    """Re-raise spec and secret errors as :class:`PyinfraError`, which pyinfra prints plainly."""
    try:
        yield
    except (SpecError, SecretError) as error:
        raise PyinfraError(str(error)) from None


@dataclass(frozen=True)
class TimescaleDbInputs:
    passwords: dict[str, SecretStr]
    hooks_plan: HookPlan
    backup_keys: RepositoryKeys | None
    sftp: SftpAccess | None
    """An SFTP repository's key and server; None for any other repository."""
    membership: Membership | None = None


@dataclass(frozen=True)
class RestoreDrillInputs:
    """What the declared drill host's deploy reads: the repository's keys, the hooks' plan."""

    backup_keys: RepositoryKeys | None
    sftp: SftpAccess | None
    hooks_plan: HookPlan


@dataclass(frozen=True)
class EtcdInputs:
    """What an etcd member's deploy reads: the cluster's hosts and etcd's passwords."""

    topology: ClusterTopology
    passwords: EtcdPasswords


@dataclass(frozen=True)
class PrometheusInputs:
    """What a ``prometheus`` host's deploy reads: its scrape jobs, from the inventory, and the
    address it serves on (its ``private_address``)."""

    jobs: tuple[ScrapeJob, ...]
    listen_address: str


@dataclass(frozen=True)
class DeployInputs:
    """What the deploy of one host reads, by the groups it is in (None: not in that group).

    + topology: the cluster's hosts, for every host of an environment with a cluster
    """

    environment: EnvironmentSpec
    timescaledb: TimescaleDbInputs | None
    redis_passwords: dict[str, SecretStr] | None
    influxdb_secrets: InfluxDbSecrets | None
    backup_repository_key: str | None
    """The members' public key, which the backup_repository host authorizes."""
    etcd: EtcdInputs | None = None
    topology: ClusterTopology | None = None
    exporters: ExporterInputs | None = None
    """The host's exporters' address and passwords; None without ``monitoring``."""
    prometheus: PrometheusInputs | None = None
    restore_drill: RestoreDrillInputs | None = None
    """The host the spec's scheduled restore drill runs on (``monitoring.restore_drill.host``)."""


def deploy_inputs(
    environment: EnvironmentSpec, host: Host, topology: ClusterTopology | None
) -> DeployInputs:
    """Everything ``host``'s deploy reads; a :class:`SpecError` or :class:`SecretError` names
    the first thing that is wrong."""
    backup = environment.timescaledb.backup
    exporters = exporter_inputs(environment, host)
    timescaledb = None
    if "timescaledb" in host.groups:
        # The inventory before the secrets: a missing repository host is the first thing to fix.
        server = members_sftp_server(environment, host)
        key_pair = sftp_key_pair(backup)
        timescaledb = TimescaleDbInputs(
            passwords=role_passwords(environment.timescaledb)
            | postgres_monitor_password(environment, exporters),
            hooks_plan=build_plan(environment),
            backup_keys=repository_keys(backup),
            sftp=None if server is None or key_pair is None else SftpAccess(key_pair, server),
            membership=None
            if topology is None
            else membership(host.name, topology, cluster_secrets(cluster_section(environment))),
        )
    redis = None
    if "redis" in host.groups:
        redis_topology(environment, host)
        redis = redis_passwords(redis_section(environment, host.name)) | redis_monitor_password(
            exporters
        )
    influxdb = None
    if "influxdb" in host.groups:
        influxdb = influxdb_secrets(influxdb_section(environment, host.name))
    backup_repository_key = None
    if BACKUP_REPOSITORY_GROUP in host.groups:
        repository = repository_section(environment, host.name)
        backup_repository_key = read_ssh_private_key(repository.private_key_secret).public_key
    etcd = None
    if topology is not None and inventory_contract.ETCD_GROUP in host.groups:
        etcd = EtcdInputs(topology, etcd_passwords(cluster_section(environment).etcd))
    prometheus = None
    if PROMETHEUS_GROUP in host.groups:
        environment_hosts = [
            other
            for other in host.inventory
            if inventory_contract.environment_name(other.name, other.data) == environment.name
        ]
        scraped = inventory_contract.scrape_hosts(environment, environment_hosts)
        assert scraped is not None  # this host is one of them
        prometheus = PrometheusInputs(
            scrape_jobs(environment, scraped),
            inventory_contract.private_address(host.name, host.data),
        )
    restore_drill = None
    if is_declared_drill_host(environment, host.name):
        server = members_sftp_server(environment, host)
        key_pair = sftp_key_pair(backup)
        restore_drill = RestoreDrillInputs(
            backup_keys=repository_keys(backup),
            sftp=None if server is None or key_pair is None else SftpAccess(key_pair, server),
            hooks_plan=build_plan(environment),
        )
    return DeployInputs(
        environment,
        timescaledb,
        redis,
        influxdb,
        backup_repository_key,
        etcd,
        topology,
        exporters,
        prometheus,
        restore_drill,
    )


def judge_inventory(inventory: Inventory) -> dict[str, DeployInputs]:
    """Every host's deploy inputs, by host name."""
    return inventory_contract.judge_inventory(inventory, deploy_inputs)


_judged: dict[str, DeployInputs] = {}
"""What :func:`check_before_connecting` judged in this pyinfra run, for site.py to use."""


def check_before_connecting() -> None:
    """Judge the inventory pyinfra is loading (``group_data/all.py`` calls this)."""
    # pyinfra types its context getter loosely.
    loading: Inventory = ctx_inventory.get()  # type: ignore[no-untyped-call]
    with stop_on_bad_input():
        _judged.update(judge_inventory(loading))


def judged_inputs(host: Host) -> DeployInputs:
    """The inputs judged for ``host`` before pyinfra connected.

    A host that was not judged (pyinfra started outside the repository root, so that it never
    read ``group_data/all.py``), or whose ``env`` the judgement did not see (set by a group data
    file or ``--data``, merged after it), is refused before its deploy reads a fact.
    """
    inputs = _judged.get(host.name)
    if inputs is None:
        raise PyinfraError(
            f"host {host.name} was not checked before connecting: run pyinfra in the "
            "repository root (or with --chdir to it), where it reads group_data/all.py"
        )
    if host.data.get("env") != inputs.environment.name:
        raise PyinfraError(
            f"host {host.name}: env {host.data.get('env')!r} is not the inventory file's "
            f"{inputs.environment.name!r}: set env in the inventory file's host or group data, "
            "not in group data files or --data"
        )
    return inputs
