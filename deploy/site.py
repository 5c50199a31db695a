"""Provision every host of the inventory by the groups it is in.

    pyinfra -y INVENTORY deploy/site.py

Everything that can be wrong before a change (the environment spec, the secrets) is checked while
pyinfra prepares the run, so a bad value stops it before any host is touched.
"""

from pyinfra.context import host

from datalayer.secrets import role_passwords
from deploy.inventory import environment_of
from deploy.preflight import stop_on_bad_input
from deploy.timescaledb import timescaledb

with stop_on_bad_input():
    environment = environment_of(host)
    if "timescaledb" in host.groups:
        passwords = role_passwords(environment.timescaledb)

if "timescaledb" in host.groups:
    timescaledb(environment=environment, passwords=passwords)
