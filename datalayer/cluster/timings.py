"""Patroni's and HAProxy's timings, derived from the spec's one ``recovery_time_target``.

Pigsty does the same with four fixed plans (``roles/pgsql/defaults/main.yml``, ``pg_rto_plan``:
``[ttl, loop_wait, retry_timeout, primary_start_timeout, safety_margin, inter, fastinter,
downinter, rise, fall]``, e.g. ``fast: [20, 5, 5, 15, 5, '1s', '0.5s', '1s', 3, 3]`` for a
target under 30 s); here they are a function of the target, which meets Pigsty's ``fast`` plan
exactly at the least target, 30 s.

Why each: a lost leader is replaced once its key expires (``ttl``) and a replica's next loop
(``loop_wait``) takes it, so ``ttl + loop_wait`` plus a promotion must fit the target: ``ttl``
is two thirds of it. Patroni refuses ``ttl < 20``, ``loop_wait < 1``, ``retry_timeout < 3``
(``patroni/validator.py:1042-1044`` at v4.0.7) and shortens ``loop_wait`` unless
``loop_wait + 2 * retry_timeout <= ttl`` (``patroni/config.py:284-320``): a quarter of ``ttl``
each keeps that with a quarter to spare. ``loop_wait`` stops at 10 s, how long a dead
postmaster may go unnoticed. A leader whose PostgreSQL crashed is restarted in place first; it
gives up the lock if recovery takes longer than ``primary_start_timeout``, ``ttl - loop_wait``,
so a crash too is over within the target. HAProxy checks each member ``fall`` (3) times before
it takes it out, all within three fifths of a Patroni loop (1 s apart at ``loop_wait`` 5, as
Pigsty's ``fast``), and twice as often while a member's state is changing (``fastinter``).
"""

from dataclasses import dataclass

LEAST_TTL = 20
"""Patroni's least ttl (``patroni/validator.py:1042`` at v4.0.7)."""
LONGEST_LOOP_WAIT = 10
HAPROXY_RISE = 3
HAPROXY_FALL = 3


@dataclass(frozen=True)
class Timings:
    """Patroni's DCS timings (seconds) and HAProxy's check timings (milliseconds)."""

    ttl: int
    loop_wait: int
    retry_timeout: int
    primary_start_timeout: int
    check_interval_ms: int
    """HAProxy's ``inter``, and its ``downinter``: a member that is down is checked as often."""
    check_fast_interval_ms: int
    """HAProxy's ``fastinter``: while a member is going up or down."""
    rise: int = HAPROXY_RISE
    fall: int = HAPROXY_FALL


def timings(recovery_time_target: int) -> Timings:
    """The timings that replace a lost leader within ``recovery_time_target`` seconds (>= 30,
    as the spec allows)."""
    ttl = max(LEAST_TTL, recovery_time_target * 2 // 3)
    loop_wait = min(LONGEST_LOOP_WAIT, ttl // 4)
    retry_timeout = ttl // 4
    check_interval_ms = loop_wait * 1000 * 3 // (5 * HAPROXY_FALL)
    return Timings(
        ttl=ttl,
        loop_wait=loop_wait,
        retry_timeout=retry_timeout,
        primary_start_timeout=ttl - loop_wait,
        check_interval_ms=check_interval_ms,
        check_fast_interval_ms=check_interval_ms // 2,
    )
