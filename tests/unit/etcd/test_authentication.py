"""The etcdctl steps from what a member reports (recorded fact outputs) to the wanted
authentication: root, patroni confined to its scope's keys, authentication on."""

import dataclasses

import pytest

from datalayer.etcd.authentication import (
    NOT_ANSWERING,
    AuthenticationState,
    Login,
    RootPasswordRefusedError,
    Step,
    patroni_prefix,
    role_listing,
    steps,
)
from tests.unit.deploy.recorded import DATA, processed, read_case

PREFIX = patroni_prefix("trading-sandbox")


def recorded(case: str) -> AuthenticationState:
    """The state a recorded ``EtcdAuthentication`` output reads as."""
    fact = "deploy.etcd.facts.EtcdAuthentication"
    state = processed(fact, read_case(DATA / "facts" / fact / f"{case}.json")["output"])
    assert isinstance(state, AuthenticationState)
    return state


IN_PLACE = recorded("in_place")
DISABLED_WITH_USERS = dataclasses.replace(
    IN_PLACE, enabled=False, root_login=Login.UNCHECKED, patroni_login=Login.UNCHECKED
)


@pytest.mark.parametrize(
    ("state", "wanted"),
    [
        pytest.param(IN_PLACE, [], id="in-place"),
        pytest.param(
            NOT_ANSWERING,
            [Step.ADD_ROOT, Step.ADD_ROLE, Step.GRANT_PERMISSION, Step.ADD_PATRONI,
             Step.GRANT_ROLE, Step.ENABLE],
            id="fresh-cluster",
        ),
        pytest.param(recorded("patroni_password_refused"), [Step.SET_PATRONI_PASSWORD],
                     id="patroni-password-rotated"),
        pytest.param(
            DISABLED_WITH_USERS,
            [Step.SET_ROOT_PASSWORD, Step.SET_PATRONI_PASSWORD, Step.ENABLE],
            id="disabled-with-users",
        ),
        pytest.param(
            dataclasses.replace(IN_PLACE, role_listing=tuple(role_listing("/service/other/"))),
            [Step.REPLACE_ROLE, Step.ADD_ROLE, Step.GRANT_PERMISSION, Step.GRANT_ROLE],
            id="role-on-another-prefix",
        ),
        pytest.param(
            dataclasses.replace(IN_PLACE, patroni_roles=frozenset()), [Step.GRANT_ROLE],
            id="role-not-granted",
        ),
    ],
)  # fmt: skip
def test_steps_bring_the_state_to_the_spec(state: AuthenticationState, wanted: list[Step]) -> None:
    assert steps(state, PREFIX) == wanted


def test_a_refused_root_password_stops_the_deploy() -> None:
    with pytest.raises(RootPasswordRefusedError, match="root_password_secret"):
        steps(recorded("root_password_refused"), PREFIX)


def test_recorded_role_is_the_wanted_role() -> None:
    assert list(IN_PLACE.role_listing) == role_listing(PREFIX)


def test_prefix_of_one_scope_does_not_cover_a_longer_scope() -> None:
    assert not patroni_prefix("trading-sandbox-2").startswith(patroni_prefix("trading-sandbox"))
    assert role_listing(patroni_prefix("trading"))[2] == (
        "\t[/service/trading/, /service/trading0) (prefix /service/trading/)"
    )
