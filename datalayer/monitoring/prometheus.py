"""Prometheus's scrape configuration, from the inventory's groups and the spec.

One job per kind of exporter, each listing the hosts of the groups that run it at their
``private_address``: node_exporter on every scraped host, postgres_exporter on the
``timescaledb`` hosts, Patroni's REST API on a cluster's members, etcd on the ``etcd`` hosts,
redis_exporter on the ``redis`` hosts (and, through the same exporter's ``/scrape`` endpoint,
each host's Sentinel: ``sentinel_target``), InfluxDB's own ``/metrics`` on the ``influxdb``
hosts. The targets are
the inventory's: there is no second list of hosts to keep.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import get_args

from datalayer.monitoring.exporters import sentinel_target
from datalayer.render import render
from datalayer.spec import EnvironmentSpec
from datalayer.spec.prometheus import ScrapeGroup

PROMETHEUS_GROUP = "prometheus"
CONFIG_FILE = "/etc/prometheus/prometheus.yml"
RULES_FILE = "/etc/prometheus/datalayer-rules.yml"
DEFAULTS_FILE = "/etc/default/prometheus"
SCRAPE_GROUPS: tuple[ScrapeGroup, ...] = get_args(ScrapeGroup)
"""The groups whose hosts run node_exporter, in the order the node job lists them."""


@dataclass(frozen=True)
class ScrapeHost:
    """An inventory host as Prometheus reaches it."""

    name: str
    groups: tuple[str, ...]
    private_address: str


@dataclass(frozen=True)
class Target:
    """One ``host:port`` of a job, with the labels every alert names."""

    address: str
    host: str
    group: str


@dataclass(frozen=True)
class ScrapeJob:
    """A ``scrape_configs`` entry: one kind of exporter on the hosts of its groups.

    + target_parameter: the ``target`` parameter of redis_exporter's multi-target ``/scrape``
      endpoint, which every target's exporter reaches on its own host
    """

    name: str
    targets: tuple[Target, ...]
    scheme: str = "http"
    metrics_path: str = "/metrics"
    target_parameter: str | None = None


def _address(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def scraped_groups(environment: EnvironmentSpec, groups: Sequence[str]) -> tuple[str, ...]:
    """The groups scraped among the inventory's ``groups``: those the spec lists, or every
    group that runs an exporter."""
    monitoring = environment.monitoring
    assert monitoring is not None
    chosen = monitoring.prometheus.scrape_groups or SCRAPE_GROUPS
    return tuple(group for group in SCRAPE_GROUPS if group in chosen and group in groups)


def scrape_jobs(
    environment: EnvironmentSpec, hosts: Mapping[str, Sequence[ScrapeHost]]
) -> tuple[ScrapeJob, ...]:
    """Every job Prometheus runs for ``environment``, from the hosts of each inventory group
    (``hosts``: group name to its hosts of this environment)."""
    monitoring = environment.monitoring
    assert monitoring is not None
    exporters = monitoring.exporters
    groups = scraped_groups(environment, [group for group, members in hosts.items() if members])

    def targets(group: str, port: int) -> tuple[Target, ...]:
        if group not in groups:
            return ()
        return tuple(
            Target(_address(host.private_address, port), host.name, group) for host in hosts[group]
        )

    every_host: dict[str, ScrapeHost] = {}
    for group in groups:
        for host in hosts[group]:
            every_host.setdefault(host.name, host)
    node = tuple(
        Target(
            _address(host.private_address, exporters.node_port),
            host.name,
            ",".join(group for group in groups if group in host.groups),
        )
        for host in every_host.values()
    )
    jobs = [
        ScrapeJob("node", node),
        ScrapeJob("postgres", targets("timescaledb", exporters.postgres_port)),
    ]
    cluster = environment.timescaledb.cluster
    if cluster is not None:
        jobs.append(ScrapeJob("patroni", targets("timescaledb", cluster.rest_api_port)))
        jobs.append(ScrapeJob("etcd", targets("etcd", cluster.etcd.client_port)))
    redis = environment.redis
    if redis is not None:
        redis_targets = targets("redis", exporters.redis_port)
        jobs.append(ScrapeJob("redis", redis_targets))
        sentinel = sentinel_target(redis)
        if sentinel is not None:
            jobs.append(
                ScrapeJob(
                    "redis_sentinel",
                    redis_targets,
                    metrics_path="/scrape",
                    target_parameter=sentinel,
                )
            )
    influxdb = environment.influxdb
    if influxdb is not None:
        jobs.append(
            ScrapeJob(
                "influxdb",
                targets("influxdb", influxdb.http_port),
                scheme="https" if influxdb.tls.enabled else "http",
            )
        )
    return tuple(job for job in jobs if job.targets)


def render_config(environment: EnvironmentSpec, jobs: Sequence[ScrapeJob]) -> str:
    """``/etc/prometheus/prometheus.yml`` for ``environment``'s Prometheus."""
    monitoring = environment.monitoring
    assert monitoring is not None
    return render(
        "prometheus/prometheus.yml.j2",
        environment_name=environment.name,
        prometheus=monitoring.prometheus,
        rules_file=RULES_FILE,
        jobs=jobs,
    )


def render_defaults(environment: EnvironmentSpec, listen_address: str) -> str:
    """``/etc/default/prometheus``: the server's flags (Debian's unit passes ``$ARGS``)."""
    monitoring = environment.monitoring
    assert monitoring is not None
    return render(
        "prometheus/prometheus.default.j2",
        environment_name=environment.name,
        listen_address=_address(listen_address, monitoring.prometheus.port),
        retention=monitoring.prometheus.retention,
        config_file=CONFIG_FILE,
    )
