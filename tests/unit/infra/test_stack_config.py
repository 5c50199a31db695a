"""Bad input stops the program before any resource, with one plain message (Pulumi's RunError,
no traceback): the same line the droplet path prints for a bad spec, the missing key's name for
an incomplete containers section."""

import json
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from datalayer.spec import SpecError, load_environment
from infra.stack_config import SECRETS_NAMESPACE
from tests.unit.infra.conftest import stack_document
from tests.unit.infra.harness import run_stack, stack_config


def failure(stack: str, document: dict[str, Any], **secrets: str) -> str:
    """The message the program stops with."""
    with pytest.raises(pulumi.RunError) as stopped:
        run_stack(stack, document, secrets)
    return str(stopped.value)


def test_an_invalid_spec_stops_with_the_droplet_paths_message(tmp_path: Path) -> None:
    document = stack_document("prod")
    document["config"]["datalayer:timescaledb"]["hba"][0]["address"] = "10.0.0.0/33"
    (tmp_path / "Pulumi.prod.yaml").write_text(yaml.safe_dump(document))
    with pytest.raises(SpecError) as droplet_path:
        load_environment("prod", tmp_path)
    message = failure("prod", document)
    assert message == str(droplet_path.value)
    assert message.startswith(
        "Pulumi.prod.yaml: datalayer:timescaledb.hba.0.address: '10.0.0.0/33' is not a valid"
    )


def test_a_misspelt_key_stops_the_program() -> None:
    document = stack_document("dev")
    document["config"]["datalayer:containers"]["redis"]["memroy"] = "1GB"
    assert "datalayer:containers.redis.memroy: '1GB' unknown key (a typo?)" in failure(
        "dev", document
    )


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("docker_host", "containers.docker_host is not set: engine 'ssh' needs the droplet's"),
        ("private_address", "containers.private_address is not set: engine 'ssh' publishes"),
    ],
)
def test_prod_without_its_docker_host_or_private_address_names_the_missing_key(
    key: str, message: str
) -> None:
    document = stack_document("prod")
    del document["config"]["datalayer:containers"][key]
    assert failure("prod", document).startswith(f"Pulumi.prod.yaml: datalayer:{message}")


def test_a_public_address_is_refused_for_publishing() -> None:
    document = stack_document("prod")
    document["config"]["datalayer:containers"]["private_address"] = "203.0.113.7"
    assert (
        "datalayer:containers.private_address: '203.0.113.7' is not a private address"
        in failure("prod", document)
    )


def test_a_stack_without_a_containers_section_is_refused() -> None:
    assert failure("sandbox", stack_document("sandbox")) == (
        "Pulumi.sandbox.yaml: datalayer:containers is not set: the Pulumi program needs it "
        "(engine, images, published address, limits)"
    )


def test_every_cross_section_problem_is_reported_at_once() -> None:
    document = stack_document("dev")
    containers = document["config"]["datalayer:containers"]
    del containers["redis"]
    containers["timescaledb"] = {"image": "timescale/timescaledb:2.19.3-pg16"}
    containers["influxdb"]["image"] = "influxdb:3.0.1"
    assert failure("dev", document).splitlines() == [
        "Pulumi.dev.yaml: datalayer:containers.redis is not set: the environment runs redis "
        "(datalayer:redis), whose container needs its memory and cpus",
        "Pulumi.dev.yaml: datalayer:containers.timescaledb.image: "
        "'timescale/timescaledb:2.19.3-pg16' is built for PostgreSQL 16, but "
        "timescaledb.version is 17",
        "Pulumi.dev.yaml: datalayer:containers.influxdb.image: 'influxdb:3.0.1' is not "
        "InfluxDB 2: pin a 2.x tag (InfluxDB 3 is another product, with another API)",
    ]


@pytest.mark.parametrize("image", ["influxdb:latest", "influxdb"])
def test_a_moving_or_missing_tag_is_refused(image: str) -> None:
    document = stack_document("dev")
    document["config"]["datalayer:containers"]["influxdb"]["image"] = image
    assert "datalayer:containers.influxdb.image" in failure("dev", document)


def test_redis_memory_limit_must_leave_room_above_maxmemory() -> None:
    document = stack_document("dev")
    document["config"]["datalayer:containers"]["redis"]["memory"] = "256MB"
    assert failure("dev", document) == (
        "Pulumi.dev.yaml: datalayer:containers.redis.memory: '256MB' must be above "
        "redis.maxmemory (256mb), with room for the fork that writes snapshots"
    )


def test_two_services_on_one_host_port_are_refused() -> None:
    document = stack_document("dev")
    document["config"]["datalayer:containers"]["redis"]["published_port"] = 5432
    assert "containers.redis.published_port: 5432 is already timescaledb's port" in failure(
        "dev", document
    )


def test_prod_with_tls_needs_a_ca_file_for_the_post_provision_steps() -> None:
    document = stack_document("prod")
    del document["config"]["datalayer:containers"]["tls_ca_file"]
    assert "containers.tls_ca_file is not set: timescaledb and influxdb serve TLS" in failure(
        "prod", document
    )


def test_a_short_secret_set_in_the_stack_is_refused_before_anything() -> None:
    message = failure("dev", stack_document("dev"), DATALAYER_APP_PASSWORD="too-short")
    assert message == (
        f"Pulumi.dev.yaml: {SECRETS_NAMESPACE}:DATALAYER_APP_PASSWORD: secret "
        "DATALAYER_APP_PASSWORD is shorter than 16 characters"
    )


def test_a_secret_set_without_encryption_is_refused() -> None:
    document = stack_document("dev")
    document["config"][f"{SECRETS_NAMESPACE}:DATALAYER_APP_PASSWORD"] = "Plain-Text-In-Stack-File"
    assert failure("dev", document) == (
        f"Pulumi.dev.yaml: {SECRETS_NAMESPACE}:DATALAYER_APP_PASSWORD: not encrypted; set it "
        "with pulumi config set --secret"
    )


def test_a_secret_the_spec_does_not_name_is_refused() -> None:
    message = failure("dev", stack_document("dev"), DATALAYER_APP_PASWORD="Typo-In-Name-0123456")
    assert message.startswith(
        f"Pulumi.dev.yaml: {SECRETS_NAMESPACE}:DATALAYER_APP_PASWORD: no secret of this name"
    )


def test_a_hook_policy_on_an_unknown_table_is_refused() -> None:
    document = stack_document("dev")
    document["config"]["datalayer:timescaledb"]["hypertables"] = {
        "market_data.no_such_table": {"chunk_interval": "1 day"}
    }
    assert failure("dev", document).startswith(
        "Pulumi.dev.yaml: datalayer:timescaledb.hypertables.market_data.no_such_table: "
        "unknown table"
    )


def test_config_handed_over_by_the_cli_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI hands the program its configuration in PULUMI_CONFIG (structured values as JSON
    text) and names the decrypted secrets in PULUMI_CONFIG_SECRET_KEYS."""
    config = stack_config(stack_document("dev"))
    key = f"{SECRETS_NAMESPACE}:DATALAYER_APP_PASSWORD"
    config[key] = "From-The-Cli-Environment-0123"
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(config))
    monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", json.dumps([key]))
    run = run_stack("dev", {"config": {}})
    assert run.outputs["secrets"]["DATALAYER_APP_PASSWORD"] == "From-The-Cli-Environment-0123"
    assert run.named("redis-image").inputs["name"].startswith("redis:")


def test_an_exported_docker_context_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """It would override the provider's host: prod could deploy to another engine."""
    monkeypatch.setenv("DOCKER_CONTEXT", "staging")
    assert failure("prod", stack_document("prod")) == (
        "DOCKER_CONTEXT='staging' is set: the Docker provider would deploy to that context's "
        "engine instead of the stack's; unset it (the stack names its engine in "
        "containers.engine and containers.docker_host)"
    )


def test_a_cpu_limit_the_provider_reads_back_as_another_amount_is_refused() -> None:
    document = stack_document("dev")
    document["config"]["datalayer:containers"]["redis"]["cpus"] = 0.05
    assert failure("dev", document) == (
        "Pulumi.dev.yaml: datalayer:containers.redis.cpus: 0.05 cannot be set exactly: the "
        "Docker provider reads the limit back as another amount (0.05 as 0.1) or refuses it "
        "(finer than a billionth); choose a value such as 0.5, 1.5 or 2.25"
    )


def test_a_memory_limit_that_is_not_whole_mebibytes_is_refused() -> None:
    document = stack_document("dev")
    document["config"]["datalayer:containers"]["influxdb"]["memory"] = "1500kB"
    assert failure("dev", document) == (
        "Pulumi.dev.yaml: datalayer:containers.influxdb.memory: '1500kB' is not a whole number "
        "of MiB, the unit the Docker provider sets container limits in"
    )
