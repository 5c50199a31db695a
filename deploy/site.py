"""Provision every host of the inventory by the groups it is in.

    pyinfra -y INVENTORY deploy/site.py

Everything that can be wrong before a change (the environment spec, the secrets) is checked while
pyinfra prepares the run, so a bad value stops it before any host is touched.
"""

from pyinfra.context import host

from datalayer.hooks.build import build_plan
from datalayer.influxdb.credentials import influxdb_secrets
from datalayer.redis.passwords import redis_passwords
from datalayer.secrets import role_passwords
from datalayer.timescaledb.backup import repository_keys
from deploy.influxdb import influxdb, influxdb_section
from deploy.inventory import environment_of
from deploy.preflight import stop_on_bad_input
from deploy.redis import redis, redis_section
from deploy.timescaledb import timescaledb

with stop_on_bad_input():
    environment = environment_of(host)
    if "timescaledb" in host.groups:
        passwords = role_passwords(environment.timescaledb)
        hooks_plan = build_plan(environment)
        backup_keys = repository_keys(environment.timescaledb.backup)
    if "redis" in host.groups:
        redis_users = redis_passwords(redis_section(environment, host.name))
    if "influxdb" in host.groups:
        influxdb_admin = influxdb_secrets(influxdb_section(environment, host.name))

if "timescaledb" in host.groups:
    timescaledb(
        environment=environment,
        passwords=passwords,
        plan=hooks_plan,
        repository_keys=backup_keys,
    )

if "redis" in host.groups:
    redis(environment=environment, passwords=redis_users)

if "influxdb" in host.groups:
    influxdb(environment=environment, secrets=influxdb_admin)
