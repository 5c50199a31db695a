"""A container's limits and durations in the form the stacks' Docker provider reads them back.

pulumi-docker 5.2.0 wraps kreuzwerker/terraform-provider-docker 4.5.0, whose read of a container
(``resourceDockerContainerRead``, internal/provider/resource_docker_container_funcs.go) writes
what Docker reports into the state, not what the program sent. Pulumi compares the next run's
inputs with that state, so an input sent in any other spelling of the same value is a change on
every ``pulumi up``: ``cpus`` (ForceNew) would replace the container each time, stopping the
database, and a health check's durations would be updated each time. Each function here is the
one place a concept is turned into the provider's text, written after the provider's own code:

- CPUs: sent as a string that Docker's ``opts.ParseCPUs`` (docker/cli opts/opts.go: a
  ``big.Rat`` times 1e9, "value is too precise" past nine decimals) turns into NanoCPUs, and read
  back with ``nanoInt64ToDecimalString`` (internal/provider/helpers.go:133-149, funcs.go:946-948):
  ``"2.0"``, ``"1.5"``, ``"2.25"``, and, from the same code, ``"10."`` for ten.
- Memory, swap and /dev/shm: whole MiB ("in MBs"), multiplied by 1024*1024 on the way in
  (funcs.go:334-352) and divided by it on the way back (funcs.go:932-945).
- Health-check durations: parsed with Go's ``time.ParseDuration`` (funcs.go:147-158) and read
  back with ``time.Duration.String()`` (funcs.go:960-970): ``"2m0s"`` for 120 s, never ``"120s"``.
"""

from decimal import Decimal
from fractions import Fraction

from datalayer.units import MEGABYTE

NANO = 10**9
"""Docker's NanoCPUs per CPU."""


def nano_cpus(text: str) -> int:
    """The NanoCPUs Docker sets for a ``cpus`` string, as docker/cli's ``opts.ParseCPUs`` does:
    exact decimal arithmetic; a value finer than a billionth is refused ("value is too
    precise")."""
    nano = Decimal(text) * NANO
    if nano != nano.to_integral_value():
        raise ValueError(f"{text}: value is too precise")
    return int(nano)


def _float_string(value: Fraction, digits: int) -> str:
    """Go's ``big.Rat.FloatString(digits)`` of a positive value: ``digits`` decimals, the last
    one rounded to nearest with halves away from zero (math/big ratconv_test.go's
    floatStringTests: 0.05 with one digit is "0.1", 0.25 is "0.3")."""
    scaled, remainder = divmod(value.numerator * 10**digits, value.denominator)
    if 2 * remainder >= value.denominator:
        scaled += 1
    whole, fraction = divmod(scaled, 10**digits)
    return f"{whole}.{fraction:0{digits}d}"


def cpus(count: float) -> str:
    """``count`` CPUs as the provider reads the container's NanoCPUs back: a port of
    ``nanoInt64ToDecimalString`` (helpers.go:133-149) with its quirks, since the state holds
    exactly what it returns. A string with nine zeros among its digits is cut to one decimal
    (``"2.0"``; also ``"0.1"`` for 0.05, which Docker would then take for a tenth); otherwise the
    trailing zeros go (``"2.25"``, and ``"10."`` for ten). See :func:`cpus_read_back_exactly`."""
    value = Fraction(nano_cpus(repr(float(count))), NANO)
    text = _float_string(value, 9)
    if text.count("0") == 9:
        return _float_string(value, 1)
    return text.rstrip("0")


def cpus_read_back_exactly(count: float) -> bool:
    """Whether Docker can take ``count`` CPUs and the provider's form of them stands for
    ``count`` itself: false past nine decimals, and for the few values that
    ``nanoInt64ToDecimalString`` rounds (0.05, 10.01, 100.25...), which no input can match."""
    try:
        return nano_cpus(cpus(count)) == nano_cpus(repr(float(count)))
    except ValueError:
        return False


def megabytes(size: int) -> int:
    """``size`` bytes in the provider's unit for memory, swap and shm_size: whole MiB, which it
    reads back unchanged. See :func:`whole_megabytes`."""
    return size // MEGABYTE


def whole_megabytes(size: int) -> bool:
    """Whether ``size`` is a whole number of MiB, so that :func:`megabytes` loses nothing."""
    return size % MEGABYTE == 0


def duration(seconds: int) -> str:
    """A whole number of ``seconds`` as Go's ``time.Duration.String()`` writes it: hours and
    minutes only when there are any, every lower unit then written even when zero ("2m0s",
    "1h0m0s", "30s", "0s"; Go's time_test.go durationTests: "4m5s")."""
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{seconds}s"
    if minutes:
        return f"{minutes}m{seconds}s"
    return f"{seconds}s"
