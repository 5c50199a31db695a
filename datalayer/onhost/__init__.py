"""The code that runs on the hosts themselves: standard library and psycopg only.

A droplet has python3 (and Debian's python3-psycopg) and nothing else of this project, so the
deploys upload this folder and run its steps there:

- ``hooks``: the post-provision hooks' runtime, run as the postgres OS user;
- ``influxdb_setup``: InfluxDB's setup step, run as root.

What builds their plans from the spec (``datalayer.hooks.build``,
``datalayer.influxdb.build``) stays on the control machine, outside this folder.
"""
