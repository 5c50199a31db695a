"""A TimescaleDB cluster from the spec's ``timescaledb.cluster``: Patroni's configuration, the
HAProxy in front of it, and the timings both take from one recovery-time target.

Pure: the members (inventory host name and private address) and the secrets come in as
arguments; the deploys (``deploy/patroni``, ``deploy/haproxy``) install what is rendered here.
"""
