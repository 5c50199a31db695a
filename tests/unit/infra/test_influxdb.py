"""InfluxDB's component under Pulumi's mocks: a 2.x image, both volumes, config.toml in force,
onboarding from files, and the setup step that issues the scoped tokens."""

import json
import shlex
from typing import Any

import pytest

from datalayer.influxdb.config import render_influxdb_config
from datalayer.influxdb.container import container_setup_plan, container_spec
from datalayer.influxdb.layout import CONTAINER_LAYOUT
from datalayer.spec import load_environment
from tests.unit.conftest import services_of
from tests.unit.infra.conftest import TLS_SERVER_NAME
from tests.unit.infra.harness import (
    StackRun,
    command,
    container,
    envs,
    influxdb_token,
    is_secret_wrapper,
    unwrap,
    uploads,
)

CONFIG = "/etc/datalayer/influxdb/config.toml"


def test_component_has_its_type_token(dev: StackRun) -> None:
    assert dev.named("influxdb").type == "trading:metrics:InfluxDb"


def test_image_is_the_pinned_2x_release_of_the_spec(stack: StackRun) -> None:
    assert stack.named("influxdb-image").inputs["name"] == "influxdb:2.7.12"


@pytest.mark.parametrize(
    ("suffix", "path"), [("data", "/var/lib/influxdb2"), ("config", "/etc/influxdb2")]
)
def test_both_volumes_are_protected_kept_and_mounted(
    stack: StackRun, suffix: str, path: str
) -> None:
    volume = stack.named(f"influxdb-{suffix}")
    assert (volume.protect, volume.retain_on_delete) == (True, True)
    assert {"volumeName": volume.inputs["name"], "containerPath": path} in container(
        stack, "influxdb"
    )["volumes"]


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_rendered_config_toml_is_placed_and_in_force(
    name: str, request: pytest.FixtureRequest
) -> None:
    run: StackRun = request.getfixturevalue(name)
    spec = load_environment(name).influxdb
    assert spec is not None
    expected = render_influxdb_config(container_spec(spec), name, CONTAINER_LAYOUT)
    assert uploads(run, "influxdb")[CONFIG]["content"] == expected
    assert envs(run, "influxdb")["INFLUXD_CONFIG_PATH"] == CONFIG


def test_config_toml_listens_inside_the_container_on_the_images_storage(prod: StackRun) -> None:
    content = uploads(prod, "influxdb")[CONFIG]["content"]
    assert 'http-bind-address = ":8086"' in content
    assert 'bolt-path = "/var/lib/influxdb2/influxd.bolt"' in content
    assert 'tls-cert = "/etc/influxdb/tls/server.crt"' in content


def test_onboarding_names_the_specs_org_bucket_retention_and_reads_secrets_from_files(
    dev: StackRun,
) -> None:
    variables = envs(dev, "influxdb")
    assert {
        key: value for key, value in variables.items() if key.startswith("DOCKER_INFLUXDB_INIT_")
    } == {
        "DOCKER_INFLUXDB_INIT_MODE": "setup",
        "DOCKER_INFLUXDB_INIT_USERNAME": "admin",
        "DOCKER_INFLUXDB_INIT_ORG": "trading-platform",
        "DOCKER_INFLUXDB_INIT_BUCKET": "market-data",
        "DOCKER_INFLUXDB_INIT_RETENTION": "30d",
        "DOCKER_INFLUXDB_INIT_PASSWORD_FILE": "/run/secrets/influxdb-admin-password",
        "DOCKER_INFLUXDB_INIT_ADMIN_TOKEN_FILE": "/run/secrets/influxdb-admin-token",
    }
    placed = uploads(dev, "influxdb")
    assert (
        placed["/run/secrets/influxdb-admin-token"]["content"]
        == dev.generated["secrets-datalayer-influxdb-admin-token"]
    )
    assert {placed[path]["owner"] for path in placed if path.startswith("/run/secrets/")} == {
        "1000"
    }


def test_health_check_pings_the_api(dev: StackRun, prod: StackRun) -> None:
    assert container(dev, "influxdb")["healthcheck"]["tests"] == [
        "CMD", "influx", "ping", "--host", "http://127.0.0.1:8086"
    ]  # fmt: skip
    assert container(prod, "influxdb")["healthcheck"]["tests"][-2:] == [
        "https://127.0.0.1:8086", "--skip-verify"
    ]  # fmt: skip


def test_limits_and_published_address(prod: StackRun) -> None:
    inputs = container(prod, "influxdb")
    assert (inputs["memory"], inputs["cpus"]) == (8192, "4.0")
    assert inputs["ports"][0] == {
        "internal": 8086,
        "external": 8086,
        "ip": "10.110.0.40",
        "protocol": "tcp",
    }


# --- the setup step ---------------------------------------------------------------------------


def test_setup_runs_after_the_container_from_a_command_line_without_secrets(
    stack: StackRun,
) -> None:
    setup = stack.named("influxdb-setup")
    assert any(urn.endswith("::influxdb-container") for urn in setup.dependencies)
    inputs = command(stack, "influxdb-setup")
    assert shlex.split(inputs["create"]) == [
        ".venv/bin/python",
        "-m",
        "datalayer.influxdb.container_setup",
    ]
    assert inputs["update"] == inputs["create"]


def setup_plan_given(stack: StackRun) -> Any:
    """The plan on the setup command's stdin, read as JSON."""
    return json.loads(json.loads(unwrap(command(stack, "influxdb-setup")["stdin"]))["plan"])


def test_setup_gets_the_plan_and_operator_secrets_on_a_secret_stdin(dev: StackRun) -> None:
    stdin = command(dev, "influxdb-setup")["stdin"]
    assert is_secret_wrapper(stdin)
    given = json.loads(unwrap(stdin))
    influxdb = services_of("dev").influxdb
    assert influxdb is not None
    assert given["plan"] == container_setup_plan(influxdb).to_json()
    assert given["admin_token"] == dev.generated["secrets-datalayer-influxdb-admin-token"]
    assert setup_plan_given(dev)["url"] == "http://127.0.0.1:8086"


def test_setup_reaches_the_api_on_the_private_address_and_checks_its_certificate(
    prod: StackRun,
) -> None:
    plan = setup_plan_given(prod)
    assert (plan["url"], plan["ca_file"]) == (
        "https://10.110.0.40:8086",
        "/etc/datalayer/tls/prod-ca.crt",
    )
    assert [token["role"] for token in plan["tokens"]] == ["app", "reader"]


def test_setup_checks_the_certificate_names_the_private_address(prod: StackRun) -> None:
    plan = setup_plan_given(prod)
    assert plan["server_name"] == "10.110.0.40"


def test_setup_checks_the_certificate_names_the_stacks_tls_server_name(
    prod_named: StackRun,
) -> None:
    plan = setup_plan_given(prod_named)
    assert (plan["url"], plan["server_name"]) == ("https://10.110.0.40:8086", TLS_SERVER_NAME)


def test_setup_keeps_its_tokens_secret_and_out_of_the_logs(dev: StackRun) -> None:
    setup = dev.named("influxdb-setup")
    assert setup.additional_secret_outputs == ["stdout"]
    assert (setup.inputs["logging"], setup.inputs["addPreviousOutputInEnv"]) == ("stderr", True)


def test_setup_reruns_when_its_container_is_replaced(dev: StackRun) -> None:
    """The container's id is an input of the command: a new container is set up again."""
    environment = unwrap(command(dev, "influxdb-setup")["environment"])
    assert environment == {"DATALAYER_INFLUXDB_CONTAINER": "influxdb-container-id"}


def test_tokens_are_secret_outputs_by_role(dev: StackRun) -> None:
    assert "influxdb_tokens" in dev.secret_outputs
    assert dev.outputs["influxdb_tokens"] == {
        "app": influxdb_token("app"),
        "reader": influxdb_token("reader"),
    }
    assert (dev.outputs["influxdb_org"], dev.outputs["influxdb_bucket"]) == (
        "trading-platform",
        "market-data",
    )
