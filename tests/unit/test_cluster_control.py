"""``python -m datalayer.cluster_control``: one readable line per member, and patronictl's
arguments for each action.

The listing is what Patroni 4.0.7's ``patronictl list -f json`` printed on a sandbox member
of a three-member cluster (2026-12-01).
"""

import pytest

from datalayer.cluster_control import member_line, patronictl_arguments

LISTING = [
    {"Cluster": "trading-sandbox", "Member": "patroni-1", "Host": "172.30.57.10",
     "Role": "Replica", "State": "streaming", "TL": 1, "Lag in MB": 0},
    {"Cluster": "trading-sandbox", "Member": "patroni-3", "Host": "172.30.57.13",
     "Role": "Leader", "State": "running", "TL": 1},
]  # fmt: skip


@pytest.mark.parametrize(
    ("member", "line"),
    [
        (
            LISTING[0],
            "patroni-1        Replica       streaming  timeline 1  lag 0 MB  172.30.57.10",
        ),
        (LISTING[1], "patroni-3        Leader        running    timeline 1  172.30.57.13"),
    ],
)
def test_member_is_one_readable_line(member: dict[str, object], line: str) -> None:
    assert member_line(member) == line


@pytest.mark.parametrize(
    ("action", "candidate", "arguments"),
    [
        ("status", None, ["list", "-f", "json"]),
        ("switchover", None, ["switchover", "trading-sandbox", "--force"]),
        (
            "failover",
            "patroni-2",
            ["failover", "trading-sandbox", "--force", "--candidate", "patroni-2"],
        ),
    ],
)
def test_action_becomes_patronictls_arguments(
    action: str, candidate: str | None, arguments: list[str]
) -> None:
    assert patronictl_arguments(action, "trading-sandbox", candidate) == arguments
