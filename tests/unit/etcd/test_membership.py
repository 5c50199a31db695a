"""Whether a member rejoins its running cluster, from fact outputs recorded on the sandbox."""

import dataclasses

import pytest

from datalayer.etcd.membership import Member, MembershipState, member_to_replace
from tests.unit.deploy.recorded import DATA, processed, read_case


def recorded(case: str) -> MembershipState:
    fact = "deploy.etcd.facts.EtcdMembership"
    state = processed(fact, read_case(DATA / "facts" / fact / f"{case}.json")["output"])
    assert isinstance(state, MembershipState)
    return state


GONE = recorded("log_gone_cluster_running")


def test_a_member_without_its_log_that_the_cluster_lists_as_started_is_replaced() -> None:
    assert member_to_replace(GONE, "etcd-3") == Member(
        "c587c0a57eb84de3", "started", "etcd-3", "http://172.30.57.6:2380"
    )


@pytest.mark.parametrize(
    "state",
    [
        pytest.param(recorded("holds_its_log"), id="holds-its-log"),
        pytest.param(MembershipState(has_log=False, members=()), id="no-peer-answers"),
        pytest.param(
            dataclasses.replace(
                GONE,
                members=(Member("c587c0a57eb84de3", "unstarted", "", "http://172.30.57.6:2380"),),
            ),
            id="cluster-still-bootstrapping",
        ),
    ],
)
def test_a_member_is_left_to_start_as_it_is(state: MembershipState) -> None:
    assert member_to_replace(state, "etcd-3") is None
