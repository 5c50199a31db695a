"""Patroni's and HAProxy's timings from the recovery-time target."""

import pytest

from datalayer.cluster.timings import Timings, timings

TARGETS = range(30, 301)
"""Every target the spec allows (``Cluster.recovery_time_target``: 30 to 300)."""


def test_least_target_is_pigstys_fast_plan() -> None:
    # Pigsty's pg_rto_plan 'fast' (rto < 30s): [ttl 20, loop 5, retry 5, start 15, margin 5,
    # inter 1s, fastinter 0.5s, downinter 1s, rise 3, fall 3] (roles/pgsql/defaults/main.yml).
    assert timings(30) == Timings(
        ttl=20, loop_wait=5, retry_timeout=5, primary_start_timeout=15,
        check_interval_ms=1000, check_fast_interval_ms=500, rise=3, fall=3,
    )  # fmt: skip


@pytest.mark.parametrize("target", TARGETS)
def test_patroni_keeps_the_timings_unchanged(target: int) -> None:
    # patroni/config.py:284-320 (v4.0.7) rewrites loop_wait and retry_timeout unless
    # loop_wait + 2 * retry_timeout <= ttl; validator.py:1042-1044 refuses ttl < 20,
    # loop_wait < 1, retry_timeout < 3.
    derived = timings(target)
    assert (derived.ttl >= 20, derived.loop_wait >= 1, derived.retry_timeout >= 3) == (
        True, True, True,
    )  # fmt: skip
    assert derived.loop_wait + 2 * derived.retry_timeout <= derived.ttl


@pytest.mark.parametrize("target", TARGETS)
def test_lost_leader_is_replaced_within_the_target(target: int) -> None:
    # The key expires after ttl; a replica's next loop takes it; a crashed postmaster gets
    # primary_start_timeout to recover, noticed within one loop and replaced within another.
    derived = timings(target)
    assert derived.ttl + derived.loop_wait < target
    assert derived.loop_wait + derived.primary_start_timeout + derived.loop_wait < target


@pytest.mark.parametrize("target", TARGETS)
def test_haproxy_sees_a_role_change_within_one_patroni_loop(target: int) -> None:
    derived = timings(target)
    assert derived.fall * derived.check_interval_ms < derived.loop_wait * 1000
