"""Memory sizes: read as PostgreSQL reads them, written as timescaledb-tune writes them.

The environment spec, the tuning function and the tests that read ``SHOW`` output back all speak
in byte counts; these two functions are the only place a size is turned into text or back, so a
value means the same number of bytes everywhere. Every unit is binary (1kB = 1024 bytes), which is
what PostgreSQL means by kB, MB, GB and TB.
"""

import math
import re
from fractions import Fraction

KILOBYTE = 1 << 10
MEGABYTE = 1 << 20
GIGABYTE = 1 << 30
TERABYTE = 1 << 40

_MULTIPLIERS = {
    "": 1,
    "b": 1,
    "kb": KILOBYTE,
    "kib": KILOBYTE,
    "mb": MEGABYTE,
    "mib": MEGABYTE,
    "gb": GIGABYTE,
    "gib": GIGABYTE,
    "tb": TERABYTE,
    "tib": TERABYTE,
}
_SIZE = re.compile(r"(?P<number>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>[A-Za-z]*)")

# Units of timescaledb-tune's output, largest first (internal/parse/parse.go: TB, GB, MB, KB).
_PG_UNITS = ((TERABYTE, "TB"), (GIGABYTE, "GB"), (MEGABYTE, "MB"), (KILOBYTE, "kB"))


def parse_memory(value: str | int) -> int:
    """The number of bytes ``value`` stands for: an int is bytes, a string a number and a unit.

    Units are B, kB, MB, GB, TB (any case) and their IEC spellings KiB, MiB, GiB, TiB; no unit
    means bytes. A decimal number is accepted when it comes to a whole number of bytes ("1.5GB"),
    because PostgreSQL accepts it too; "0.3kB" is refused rather than silently rounded.
    """
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"invalid memory size {value!r}: expected bytes or a string like '8GB'")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"invalid memory size {value!r}: must not be negative")
        return value
    match = _SIZE.fullmatch(value.strip())
    if match is None or match["unit"].lower() not in _MULTIPLIERS:
        raise ValueError(
            f"invalid memory size {value!r}: expected a number and a unit "
            "(B, kB, MB, GB, TB or KiB, MiB, GiB, TiB), e.g. '8GB'"
        )
    size = Fraction(match["number"]) * _MULTIPLIERS[match["unit"].lower()]
    if size.denominator != 1:
        raise ValueError(f"invalid memory size {value!r}: not a whole number of bytes")
    return size.numerator


def format_pg_memory(num_bytes: int) -> str:
    """``num_bytes`` the way timescaledb-tune writes it into postgresql.conf, e.g. '1536MB'.

    Mirrors ``BytesToPGFormat`` in timescaledb-tune's internal/parse/parse.go so that a value
    computed here is, character for character, the one the tool would write: the largest unit
    that fits; one unit smaller when the value has a fraction above 0.001 of that unit (and then
    truncated); kB rounded half away from zero; anything below 1kB written as 1kB. Like the
    tool's output, the text is exact for whole units but drops a remainder of at most a
    thousandth of the unit, or of less than one unit once it has moved to the smaller one.
    """
    if isinstance(num_bytes, bool) or not isinstance(num_bytes, int) or num_bytes < 1:
        # BytesToPGFormat panics below 1 byte: no PostgreSQL memory setting is written as 0kB.
        raise ValueError(f"cannot format {num_bytes!r} as a memory size: needs at least 1 byte")
    if num_bytes < KILOBYTE:
        return "1kB"
    divisor, unit = next((size, name) for size, name in _PG_UNITS if num_bytes >= size)
    # Go divides float64 values; doing the same keeps the 0.001 threshold bit-for-bit identical.
    value = float(num_bytes) / float(divisor)
    if unit == "kB":
        return f"{_round_half_away_from_zero(value)}kB"
    if value - math.trunc(value) > 0.001:
        value *= 1024
        unit = {"TB": "GB", "GB": "MB", "MB": "kB"}[unit]
    return f"{math.trunc(value)}{unit}"


def _round_half_away_from_zero(value: float) -> int:
    """Go's ``math.Round`` for a positive value (Python's ``round`` rounds half to even)."""
    whole = math.floor(value)
    return whole + 1 if value - whole >= 0.5 else whole
