"""What Prometheus scrapes, from the inventory alone: one job per exporter kind, each target a
host of its group at its private address, labelled with env, group and host; and the
inventories the ``prometheus`` group refuses."""

from typing import Any

import pytest
import yaml
from pyinfra.api.inventory import Inventory

from datalayer.monitoring.prometheus import render_config, scrape_jobs
from datalayer.spec import SpecError, load_environment
from deploy.inventory import judge_inventory, scrape_hosts

SINGLE = {
    "db-1": ("sandbox", ("timescaledb",), "172.30.57.2"),
    "cache-1": ("sandbox", ("redis", "prometheus"), "172.30.57.3"),
}
CLUSTER = {
    **{
        f"node-{index}": (
            "sandbox-cluster",
            ("timescaledb", "etcd", "redis"),
            f"172.30.57.1{index}",
        )
        for index in (1, 2, 3)
    },
    "backup-1": ("sandbox-cluster", ("backup_repository", "prometheus"), "172.30.57.15"),
}


def inventory(hosts: dict[str, tuple[str, tuple[str, ...], str]]) -> Inventory:
    groups: dict[str, tuple[list[tuple[str, dict[str, str]]], dict[str, str]]] = {}
    for name, (env, host_groups, address) in hosts.items():
        for group in host_groups:
            groups.setdefault(group, ([], {}))[0].append(
                (name, {"env": env, "private_address": address})
            )
    return Inventory((list(hosts), {}), **groups)  # type: ignore[no-untyped-call]


def scrape_configs(hosts: dict[str, tuple[str, tuple[str, ...], str]]) -> list[Any]:
    (env,) = {env for env, _, _ in hosts.values()}
    environment = load_environment(env)
    scraped = scrape_hosts(environment, list(inventory(hosts)))
    assert scraped is not None
    document = yaml.safe_load(render_config(environment, scrape_jobs(environment, scraped)))
    return list(document["scrape_configs"])


def targets(config: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (static["targets"][0], static["labels"]["host"], static["labels"]["group"])
        for static in config["static_configs"]
    ]


def test_single_sandbox_scrapes_node_postgres_and_redis() -> None:
    configs = scrape_configs(SINGLE)
    assert {config["job_name"]: targets(config) for config in configs} == {
        "node": [
            ("172.30.57.2:9100", "db-1", "timescaledb"),
            ("172.30.57.3:9100", "cache-1", "redis,prometheus"),
        ],
        "postgres": [("172.30.57.2:9187", "db-1", "timescaledb")],
        "redis": [("172.30.57.3:9121", "cache-1", "redis")],
    }


def test_cluster_scrapes_patroni_etcd_and_each_sentinel_through_its_exporter() -> None:
    configs = {config["job_name"]: config for config in scrape_configs(CLUSTER)}
    assert sorted(configs) == ["etcd", "node", "patroni", "postgres", "redis", "redis_sentinel"]
    sentinel = configs["redis_sentinel"]
    assert (sentinel["metrics_path"], sentinel["params"]) == (
        "/scrape",
        {"target": ["redis://127.0.0.1:26379"]},
    )
    assert targets(sentinel) == targets(configs["redis"])
    assert targets(configs["patroni"]) == [
        (f"172.30.57.1{index}:8008", f"node-{index}", "timescaledb") for index in (1, 2, 3)
    ]
    assert targets(configs["etcd"]) == [
        (f"172.30.57.1{index}:2379", f"node-{index}", "etcd") for index in (1, 2, 3)
    ]


def test_every_target_is_labelled_with_its_environment() -> None:
    envs = {
        static["labels"]["env"]
        for config in scrape_configs(SINGLE)
        for static in config["static_configs"]
    }
    assert envs == {"sandbox"}


def test_an_inventory_without_a_prometheus_host_scrapes_nothing() -> None:
    hosts = {"db-1": SINGLE["db-1"]}
    assert scrape_hosts(load_environment("sandbox"), list(inventory(hosts))) is None


def test_monitoring_without_a_prometheus_host_of_its_own_environment_is_refused() -> None:
    hosts = {"db-1": SINGLE["db-1"], "backup-1": CLUSTER["backup-1"]}
    with pytest.raises(SpecError) as refused:
        judge_inventory(inventory(hosts), lambda environment, host, topology: None)
    assert str(refused.value) == (
        "inventory: environment sandbox declares monitoring, but no host of it is in the "
        "prometheus group, which holds hosts of environment sandbox-cluster only"
    )
