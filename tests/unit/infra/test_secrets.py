"""Secrets under Pulumi's mocks: generated or set in the stack, passed only as secret values, and
in plaintext nowhere: no resource input, no label, no command line, no plain stack output.

Under mocks a provider's secret outputs (RandomPassword.result) come back plain, so these tests
check the program's own secret marking, which is what keeps the values encrypted in the state.
"""

import hashlib
from typing import Any

import pytest
import yaml

from datalayer.paths import REPOSITORY_ROOT
from datalayer.secrets import secret_variables
from datalayer.spec import load_environment
from infra.stack_config import SECRETS_NAMESPACE
from tests.unit.infra.conftest import CONFIGURED_SECRETS
from tests.unit.infra.harness import (
    StackRun,
    influxdb_token,
    plaintext_strings,
    unwrap,
)


def secret_values(run: StackRun) -> set[str]:
    """Every secret the run handled, and the SHA-256 each could be recognised by."""
    values = {*CONFIGURED_SECRETS.values(), *run.generated.values()}
    values |= {influxdb_token("app"), influxdb_token("reader")}
    return values | {hashlib.sha256(value.encode()).hexdigest() for value in values}


def test_stack_secrets_component_has_its_type_token(dev: StackRun) -> None:
    assert dev.named("secrets").type == "trading:secrets:StackSecrets"


def test_every_secret_the_spec_names_is_set_or_generated(stack: StackRun) -> None:
    names = secret_variables(load_environment(stack.stack))
    generated = {name.removeprefix("secrets-") for name in stack.generated}
    configured = set(CONFIGURED_SECRETS)
    assert {name.lower().replace("_", "-") for name in names} == generated | {
        name.lower().replace("_", "-") for name in configured
    }
    assert "DATALAYER_POSTGRES_PASSWORD" in names


def test_a_secret_set_in_the_stack_is_used_instead_of_a_generated_one(dev: StackRun) -> None:
    assert "secrets-datalayer-app-password" not in dev.generated
    assert (
        dev.outputs["secrets"]["DATALAYER_APP_PASSWORD"]
        == CONFIGURED_SECRETS["DATALAYER_APP_PASSWORD"]
    )


def test_generated_secrets_are_32_letters_and_digits(dev: StackRun) -> None:
    passwords = dev.of_type("random:index/randomPassword:RandomPassword")
    assert {
        resource.name: (resource.inputs["length"], resource.inputs["special"])
        for resource in passwords
    } == {resource.name: (32, False) for resource in passwords}


def test_no_resource_input_holds_a_secret_in_plaintext(stack: StackRun) -> None:
    secrets = secret_values(stack)
    leaks = [
        f"{resource.name}{path}"
        for resource in stack.resources
        for path, text in plaintext_strings(resource.inputs)
        if any(secret in text for secret in secrets)
    ]
    assert leaks == []


def test_the_scan_sees_every_secret_where_it_is_used(stack: StackRun) -> None:
    """Not a vacuous scan: each secret does reach some resource, under a secret marker."""
    used = " ".join(
        str(unwrap(resource.inputs)) for resource in stack.resources if resource.type != "random"
    )
    # The secrets' names, never their values, in a failure's message.
    unseen = [
        name
        for name, value in {**CONFIGURED_SECRETS, **stack.generated}.items()
        if value not in used and hashlib.sha256(value.encode()).hexdigest() not in used
    ]
    assert unseen == []


def test_outputs_with_secrets_are_secret_and_the_others_hold_none(stack: StackRun) -> None:
    assert stack.secret_outputs == {
        "timescaledb_urls", "redis_urls", "influxdb_tokens", "secrets",
    }  # fmt: skip
    secrets = secret_values(stack)
    plain = {key: value for key, value in stack.outputs.items() if key not in stack.secret_outputs}
    assert not [key for key, value in plain.items() if any(s in str(value) for s in secrets)]


def test_no_container_takes_a_secret_in_its_command_environment_or_labels(
    stack: StackRun,
) -> None:
    secrets = secret_values(stack)

    def exposed(inputs: dict[str, Any]) -> list[str]:
        return [
            *inputs.get("command", []),
            *inputs.get("envs", []),
            *(label["value"] for label in inputs.get("labels", [])),
            *inputs["healthcheck"]["tests"],
        ]

    containers = stack.of_type("docker:index/container:Container")
    assert {
        resource.name: [
            text
            for text in exposed(unwrap(resource.inputs))
            if any(secret in text for secret in secrets)
        ]
        for resource in containers
    } == {resource.name: [] for resource in containers}


def test_the_post_provision_commands_hold_no_secret_in_their_text(stack: StackRun) -> None:
    secrets = secret_values(stack)
    commands = stack.of_type("command:local:Command")
    assert {
        resource.name: [
            key
            for key in ("create", "update")
            if any(secret in unwrap(resource.inputs.get(key, "")) for secret in secrets)
        ]
        for resource in commands
    } == {resource.name: [] for resource in commands}


@pytest.mark.parametrize("name", ["dev", "prod", "sandbox"])
def test_stack_files_hold_secrets_only_encrypted(name: str) -> None:
    document = yaml.safe_load((REPOSITORY_ROOT / f"Pulumi.{name}.yaml").read_text())
    config = document.get("config") or {}
    plain = [
        key
        for key, value in config.items()
        if key.startswith(f"{SECRETS_NAMESPACE}:")
        and not (isinstance(value, dict) and set(value) == {"secure"})
    ]
    assert plain == []
