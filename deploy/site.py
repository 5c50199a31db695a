"""Provision every host of the inventory by the groups it is in.

    pyinfra -y INVENTORY deploy/site.py

Everything that can be wrong before a change (the inventory's env data, the environment spec,
the secrets) was judged for every host while pyinfra loaded the inventory, before it connected
(``deploy/preflight.py``); this file deploys what was judged.
"""

from pyinfra.context import host

from deploy.backup_repository import backup_repository
from deploy.etcd import etcd
from deploy.exporters import exporters
from deploy.influxdb import influxdb
from deploy.preflight import judged_inputs
from deploy.prometheus import prometheus
from deploy.prometheus.backup_metrics import backup_metrics
from deploy.redis import redis
from deploy.restore_drill import restore_drill_timer, scratch_host
from deploy.timescaledb import timescaledb

inputs = judged_inputs(host)

# First: the database hosts create their stanza in the repository this serves. pyinfra runs
# the operations in this file's order, host by host together; with --no-wait each host runs on
# its own, so a member whose repository changed also waits until it answers.
if inputs.backup_repository_key is not None:
    backup_repository(
        environment=inputs.environment, members_public_key=inputs.backup_repository_key
    )

# The DCS before the database: Patroni on the timescaledb hosts needs it.
if inputs.etcd is not None:
    etcd(
        environment=inputs.environment,
        topology=inputs.etcd.topology,
        passwords=inputs.etcd.passwords,
    )

if inputs.timescaledb is not None:
    timescaledb(
        environment=inputs.environment,
        passwords=inputs.timescaledb.passwords,
        plan=inputs.timescaledb.hooks_plan,
        repository_keys=inputs.timescaledb.backup_keys,
        sftp=inputs.timescaledb.sftp,
        membership=inputs.timescaledb.membership,
    )

if inputs.redis_passwords is not None:
    redis(environment=inputs.environment, passwords=inputs.redis_passwords)

if inputs.influxdb_secrets is not None:
    influxdb(environment=inputs.environment, secrets=inputs.influxdb_secrets)

# The scratch host of the spec's scheduled restore drill (monitoring.restore_drill.host).
if inputs.restore_drill is not None:
    scratch_host(
        environment=inputs.environment,
        keys=inputs.restore_drill.backup_keys,
        sftp=inputs.restore_drill.sftp,
        hooks_plan=inputs.restore_drill.hooks_plan,
    )
    restore_drill_timer(environment=inputs.environment)

# Late: the PostgreSQL exporter logs in as the role the hooks made.
if inputs.exporters is not None:
    exporters(environment=inputs.environment, inputs=inputs.exporters)
    # The backups' completion times, for node_exporter's textfile directory.
    if inputs.timescaledb is not None:
        backup_metrics(environment=inputs.environment)

# Last: the exporters it scrapes are in place by now.
if inputs.prometheus is not None:
    prometheus(
        environment=inputs.environment,
        jobs=inputs.prometheus.jobs,
        listen_address=inputs.prometheus.listen_address,
    )
