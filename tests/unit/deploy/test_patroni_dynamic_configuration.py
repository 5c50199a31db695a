"""What the deploy changes in Patroni's DCS configuration: the keys the spec names, only.

Answers as Patroni 4.0.7's ``GET /config`` gave them on a sandbox member (2026-12-01): the
dynamic configuration the bootstrapping member wrote, integers as JSON numbers.
"""

import pytest

from deploy.patroni.operations import differences

WANTED = {
    "ttl": 20,
    "synchronous_mode": True,
    "postgresql": {"use_slots": True, "parameters": {"max_connections": 50}},
}


def test_configuration_patroni_holds_has_no_difference() -> None:
    current = {
        "ttl": 20,
        "synchronous_mode": True,
        "postgresql": {"use_slots": True, "parameters": {"max_connections": 50}},
    }
    assert differences(WANTED, current) == []


def test_keys_patroni_adds_itself_are_no_difference() -> None:
    current = {**WANTED, "check_timeline": True}
    assert differences(WANTED, current) == []


@pytest.mark.parametrize(
    ("current", "changed"),
    [
        ({**WANTED, "ttl": 30}, ["ttl"]),
        ({**WANTED, "synchronous_mode": False}, ["synchronous_mode"]),
        (
            {**WANTED, "postgresql": {"use_slots": True, "parameters": {"max_connections": 100}}},
            ["postgresql.parameters.max_connections"],
        ),
        ({}, ["ttl", "synchronous_mode", "postgresql"]),
    ],
)
def test_changed_keys_are_named_by_their_path(
    current: dict[str, object], changed: list[str]
) -> None:
    assert differences(WANTED, current) == changed


def test_integer_given_as_text_is_the_same_value() -> None:
    # Patroni keeps a parameter as the type it was given; '50' and 50 are one setting.
    current = {**WANTED, "postgresql": {"use_slots": True, "parameters": {"max_connections": "50"}}}
    assert differences(WANTED, current) == []
