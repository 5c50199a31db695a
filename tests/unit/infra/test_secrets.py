"""Secrets under Pulumi's mocks: generated or set in the stack, passed only as secret values, and
in plaintext nowhere: no resource input, no label, no command line, no plain stack output.

Under mocks a provider's secret outputs (RandomPassword.result) come back plain, so these tests
check the program's own secret marking, which is what keeps the values encrypted in the state.
"""

import hashlib

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
    for resource in dev.of_type("random:index/randomPassword:RandomPassword"):
        assert (resource.inputs["length"], resource.inputs["special"]) == (32, False)


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
    for value in {*CONFIGURED_SECRETS.values(), *stack.generated.values()}:
        assert value in used or hashlib.sha256(value.encode()).hexdigest() in used


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
    for resource in stack.of_type("docker:index/container:Container"):
        inputs = unwrap(resource.inputs)
        exposed = [
            *inputs.get("command", []),
            *inputs.get("envs", []),
            *(label["value"] for label in inputs.get("labels", [])),
            *inputs["healthcheck"]["tests"],
        ]
        assert not [text for text in exposed if any(secret in text for secret in secrets)]


def test_the_post_provision_commands_hold_no_secret_in_their_text(stack: StackRun) -> None:
    secrets = secret_values(stack)
    for resource in stack.of_type("command:local:Command"):
        texts = [unwrap(resource.inputs.get(key, "")) for key in ("create", "update")]
        assert not [text for text in texts if any(secret in text for secret in secrets)]


@pytest.mark.parametrize("name", ["dev", "prod", "sandbox"])
def test_stack_files_hold_secrets_only_encrypted(name: str) -> None:
    document = yaml.safe_load((REPOSITORY_ROOT / f"Pulumi.{name}.yaml").read_text())
    config = document.get("config") or {}
    for key, value in config.items():
        if key.startswith(f"{SECRETS_NAMESPACE}:"):
            assert isinstance(value, dict) and set(value) == {"secure"}, key
