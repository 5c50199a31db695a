"""The exporters' EnvironmentFiles, the monitoring identities' pg_hba.conf lines, users.acl
record and hooks plan, rendered from the sandbox environment with ``monitoring`` declared."""

from typing import Any

import pytest
import yaml
from pydantic import SecretStr

from datalayer.hooks.build import build_plan
from datalayer.monitoring.exporters import (
    TEXTFILE_DIRECTORY,
    environment_value,
    listen_address,
    postgres_hba_lines,
    redis_address,
    render_node_exporter,
    render_postgres_exporter,
    render_redis_exporter,
    sentinel_target,
)
from datalayer.onhost.hooks.plan import HookPlan, MonitorRolePlan
from datalayer.paths import REPOSITORY_ROOT
from datalayer.redis.config import MONITOR_COMMANDS, acl_lines
from datalayer.redis.passwords import MONITOR_USER, user_secrets
from datalayer.redis.sentinel import SENTINEL_MONITOR_COMMANDS, sentinel_acl_lines
from datalayer.spec import EnvironmentSpec, load_environment
from datalayer.spec.load import parse_environment
from datalayer.timescaledb.config import hba_lines

PASSWORD = SecretStr('monitor-"pass"-\\-$HOME-`id`')
ADDRESS = "172.30.57.6"


def sandbox(monitoring: dict[str, Any] | None) -> EnvironmentSpec:
    config = yaml.safe_load((REPOSITORY_ROOT / "Pulumi.sandbox.yaml").read_text())["config"]
    if monitoring is None:
        config.pop("datalayer:monitoring", None)
    else:
        config["datalayer:monitoring"] = monitoring
    return parse_environment("sandbox", config, source="Pulumi.sandbox.yaml")


@pytest.fixture(scope="module")
def environment() -> EnvironmentSpec:
    return sandbox({})


def variables(content: str) -> dict[str, str]:
    """The assignments of an EnvironmentFile, as written (quotes kept)."""
    lines = [line for line in content.splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def test_node_exporter_listens_on_the_private_address_only(
    environment: EnvironmentSpec,
) -> None:
    assert environment.monitoring is not None
    rendered = render_node_exporter("sandbox", environment.monitoring.exporters, ADDRESS)
    assert f"--web.listen-address={ADDRESS}:9100" in variables(rendered.content)["ARGS"]


def test_node_exporter_keeps_debians_textfile_directory(environment: EnvironmentSpec) -> None:
    assert environment.monitoring is not None
    rendered = render_node_exporter("sandbox", environment.monitoring.exporters, ADDRESS)
    assert TEXTFILE_DIRECTORY == "/var/lib/prometheus/node-exporter"
    assert f"--collector.textfile.directory={TEXTFILE_DIRECTORY}" in rendered.content


def test_exporter_files_open_with_the_managed_header(environment: EnvironmentSpec) -> None:
    assert environment.monitoring is not None
    rendered = render_node_exporter("sandbox", environment.monitoring.exporters, ADDRESS)
    assert rendered.content.startswith("# /etc/default/prometheus-node-exporter: rendered from")


def test_ipv6_listen_address_is_bracketed() -> None:
    assert listen_address("fd00::5", 9100) == "[fd00::5]:9100"


def postgres_file(environment: EnvironmentSpec) -> tuple[str, int]:
    assert environment.monitoring is not None
    rendered = render_postgres_exporter(
        "sandbox",
        environment.monitoring.exporters,
        environment.timescaledb,
        "/var/run/postgresql",
        ADDRESS,
        PASSWORD,
    )
    return rendered.content, rendered.mode


def test_postgres_exporter_file_is_root_only(environment: EnvironmentSpec) -> None:
    assert postgres_file(environment)[1] == 0o600


def test_postgres_exporter_password_is_not_in_its_arguments(
    environment: EnvironmentSpec,
) -> None:
    assigned = variables(postgres_file(environment)[0])
    assert PASSWORD.get_secret_value() not in assigned["ARGS"]
    assert assigned["ARGS"] == f'"--web.listen-address={ADDRESS}:9187"'


def test_postgres_exporter_connects_as_the_monitoring_role_over_the_socket(
    environment: EnvironmentSpec,
) -> None:
    assigned = variables(postgres_file(environment)[0])
    assert assigned["DATA_SOURCE_USER"] == '"monitor"'
    assert assigned["DATA_SOURCE_URI"] == (
        '":5432/postgres?host=/var/run/postgresql&sslmode=disable"'
    )


def test_postgres_exporter_password_is_escaped_as_systemd_reads_it(
    environment: EnvironmentSpec,
) -> None:
    # Read back by systemd 257 on a Debian 13 droplet (systemd-run -p EnvironmentFile=...):
    # V="a\"b\\c\`d\$e'f#g;h{i}~!" gave V=a"b\c`d$e'f#g;h{i}~!
    assigned = variables(postgres_file(environment)[0])
    assert assigned["DATA_SOURCE_PASS"] == '"monitor-\\"pass\\"-\\\\-\\$HOME-\\`id\\`"'


def test_environment_value_refuses_a_line_break() -> None:
    with pytest.raises(ValueError, match="control character"):
        environment_value("one\ntwo")


def redis_file(environment: EnvironmentSpec) -> dict[str, str]:
    assert environment.monitoring is not None and environment.redis is not None
    rendered = render_redis_exporter(
        "sandbox", environment.monitoring.exporters, environment.redis, ADDRESS, PASSWORD
    )
    assert rendered.mode == 0o600
    return variables(rendered.content)


def test_redis_exporter_skips_config_get(environment: EnvironmentSpec) -> None:
    assert redis_file(environment)["REDIS_EXPORTER_CONFIG_COMMAND"] == "-"


def test_redis_exporter_logs_in_as_the_monitoring_user(environment: EnvironmentSpec) -> None:
    assigned = redis_file(environment)
    assert (assigned["REDIS_USER"], assigned["REDIS_ADDR"]) == (
        '"monitor"',
        '"redis://127.0.0.1:6379"',
    )


def test_redis_exporter_listens_on_the_private_address(environment: EnvironmentSpec) -> None:
    assert redis_file(environment)["REDIS_EXPORTER_WEB_LISTEN_ADDRESS"] == f'"{ADDRESS}:9121"'


@pytest.mark.parametrize(
    ("bind", "address"),
    [
        (["0.0.0.0"], "redis://127.0.0.1:6379"),
        (["::"], "redis://[::1]:6379"),
        (["10.0.0.5", "127.0.0.1"], "redis://127.0.0.1:6379"),
        (["10.0.0.5"], "redis://10.0.0.5:6379"),
    ],
)
def test_redis_exporter_reaches_redis_on_its_own_host(
    environment: EnvironmentSpec, bind: list[str], address: str
) -> None:
    assert environment.redis is not None
    assert redis_address(environment.redis.model_copy(update={"bind": bind})) == address


def test_monitoring_user_may_send_only_the_exporters_reads(environment: EnvironmentSpec) -> None:
    assert environment.redis is not None
    passwords = {user: PASSWORD for user in ("app", "reader", "admin", MONITOR_USER)}
    (line,) = [line for line in acl_lines(environment.redis, passwords) if line.user == "monitor"]
    assert line.rules.split(" ", 2)[2] == "resetkeys resetchannels -@all " + " ".join(
        MONITOR_COMMANDS
    )


def test_no_monitoring_user_without_its_password(environment: EnvironmentSpec) -> None:
    assert environment.redis is not None
    passwords = {user: PASSWORD for user in ("app", "reader", "admin")}
    assert MONITOR_USER not in [line.user for line in acl_lines(environment.redis, passwords)]


def test_monitoring_role_logs_in_over_the_socket_to_postgres_only(
    environment: EnvironmentSpec,
) -> None:
    lines = hba_lines(environment.timescaledb, monitoring_lines=postgres_hba_lines(environment))
    monitor = [(line.type, line.database, line.address, line.method) for line in lines
               if line.user == "monitor"]  # fmt: skip
    assert monitor == [
        ("local", "postgres", "", "scram-sha-256"),
        ("local", "all", "", "reject"),
        ("host", "all", "0.0.0.0/0", "reject"),
        ("host", "all", "::/0", "reject"),
    ]


def test_monitoring_role_lines_come_before_the_declared_rules(
    environment: EnvironmentSpec,
) -> None:
    lines = hba_lines(environment.timescaledb, monitoring_lines=postgres_hba_lines(environment))
    users = [line.user for line in lines]
    assert users.index("monitor") < users.index("app")


def test_no_monitoring_lines_without_monitoring() -> None:
    assert postgres_hba_lines(sandbox(None)) == []


def test_hooks_plan_makes_the_monitoring_role(environment: EnvironmentSpec) -> None:
    assert build_plan(environment).monitor_role == MonitorRolePlan("monitor", 5)


def test_hooks_plan_reads_back_its_monitoring_role(environment: EnvironmentSpec) -> None:
    plan = build_plan(environment)
    assert HookPlan.from_json(plan.to_json()) == plan


def test_hooks_plan_has_no_monitoring_role_without_monitoring() -> None:
    assert build_plan(sandbox(None)).monitor_role is None


def test_no_sentinel_target_without_sentinel(environment: EnvironmentSpec) -> None:
    assert environment.redis is not None
    assert sentinel_target(environment.redis) is None


def test_sentinel_target_is_sentinels_port_on_this_host() -> None:
    # Pulumi.sandbox-cluster.yaml: redis.bind ["0.0.0.0"], Sentinel on its default 26379.
    cluster = load_environment("sandbox-cluster")
    assert cluster.redis is not None
    assert sentinel_target(cluster.redis) == "redis://127.0.0.1:26379"


def test_sentinel_lets_the_monitoring_user_read_its_masters() -> None:
    cluster = load_environment("sandbox-cluster")
    assert cluster.redis is not None
    passwords = {user: PASSWORD for user in (*user_secrets(cluster.redis), MONITOR_USER)}
    (line,) = [
        line for line in sentinel_acl_lines(cluster.redis, passwords) if line.user == MONITOR_USER
    ]
    assert line.rules.split(" ", 2)[2] == "resetkeys resetchannels -@all " + " ".join(
        SENTINEL_MONITOR_COMMANDS
    )
