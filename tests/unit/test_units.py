"""Memory sizes: PostgreSQL's units in, timescaledb-tune's rendering out."""

import re

import pytest

from datalayer.units import GIGABYTE, KILOBYTE, MEGABYTE, TERABYTE, format_pg_memory, parse_memory


# timescaledb-tune internal/parse/parse_test.go, TestBytesToPGFormat (every row).
@pytest.mark.parametrize(
    ("num_bytes", "expected"),
    [
        (2000 * TERABYTE, "2000TB"),  # no limit to TB
        (TERABYTE, "1TB"),
        (int(1.5 * TERABYTE), "1536GB"),
        (TERABYTE - GIGABYTE, "1023GB"),
        (TERABYTE - MEGABYTE, "1048575MB"),
        (GIGABYTE, "1GB"),
        (int(1.5 * GIGABYTE), "1536MB"),
        (2 * GIGABYTE, "2GB"),
        (GIGABYTE - MEGABYTE, "1023MB"),
        (MEGABYTE, "1MB"),
        (int(1.5 * MEGABYTE), "1536kB"),
        (MEGABYTE - 4 * KILOBYTE, "1020kB"),
        (KILOBYTE, "1kB"),
        (int(1.5 * KILOBYTE), "2kB"),  # round up
        (1400, "1kB"),  # round down
        (KILOBYTE - 24, "1kB"),  # nothing below 1kB
    ],
)
def test_format_matches_timescaledb_tune(num_bytes: int, expected: str) -> None:
    assert format_pg_memory(num_bytes) == expected


def test_format_rounds_kilobytes_half_away_from_zero() -> None:
    # Go's math.Round, not Python's round-half-to-even, which would give 2kB.
    assert format_pg_memory(2560) == "3kB"


def test_format_ignores_a_fraction_below_a_thousandth_of_the_unit() -> None:
    # BytesToPGFormat keeps the larger unit when the fraction is at most 0.001 of it.
    assert format_pg_memory(GIGABYTE + MEGABYTE) == "1GB"


def test_format_truncates_after_moving_to_the_smaller_unit() -> None:
    assert format_pg_memory(MEGABYTE + 1536) == "1025kB"


@pytest.mark.parametrize("num_bytes", [0, -1, True])
def test_format_refuses_less_than_one_byte(num_bytes: int) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(num_bytes))):
        format_pg_memory(num_bytes)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 0),
        (8 * GIGABYTE, 8 * GIGABYTE),
        ("0", 0),
        ("1024", 1024),
        ("1024B", 1024),
        ("1024 b", 1024),
        ("64kB", 64 * KILOBYTE),
        ("64KB", 64 * KILOBYTE),
        ("64KiB", 64 * KILOBYTE),
        ("512MB", 512 * MEGABYTE),
        ("512MiB", 512 * MEGABYTE),
        ("512mb", 512 * MEGABYTE),
        ("8GB", 8 * GIGABYTE),
        ("8 GB", 8 * GIGABYTE),
        ("8GiB", 8 * GIGABYTE),
        ("1TB", TERABYTE),
        ("1TiB", TERABYTE),
        ("1.5GB", 1536 * MEGABYTE),
        ("0.5kB", 512),
        (" 4GB ", 4 * GIGABYTE),
    ],
)
def test_parse_reads_binary_units(value: str | int, expected: int) -> None:
    assert parse_memory(value) == expected


# timescaledb-tune internal/parse/parse_test.go, TestPGFormatToBytes (the valid rows).
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("65536", 64 * KILOBYTE),
        ("64kB", 64 * KILOBYTE),
        ("2048kB", 2048 * KILOBYTE),
        ("64MB", 64 * MEGABYTE),
        ("2048MB", 2048 * MEGABYTE),
        ("64GB", 64 * GIGABYTE),
        ("2048GB", 2048 * GIGABYTE),
        ("64TB", 64 * TERABYTE),
        ("2048TB", 2048 * TERABYTE),
    ],
)
def test_parse_agrees_with_timescaledb_tune(value: str, expected: int) -> None:
    assert parse_memory(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "lots",
        "GB",
        "8XB",
        "8G",
        "8 GB 8",
        "-64MB",
        "+64MB",
        "1e3",
        ".5GB",
        "0.5B",
        "1.3kB",
        -1,
        True,
        1.5,
        None,
    ],
)
def test_parse_refuses_anything_else_naming_the_value(value: object) -> None:
    with pytest.raises(ValueError, match=re.escape(f"invalid memory size {value!r}")):
        parse_memory(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text", ["1kB", "64kB", "1536kB", "1MB", "1023MB", "2047MB", "1GB", "1536GB", "1TB", "2000TB"]
)
def test_format_of_parse_gives_back_the_text(text: str) -> None:
    assert format_pg_memory(parse_memory(text)) == text


@pytest.mark.parametrize(
    "num_bytes",
    [KILOBYTE, 7864 * KILOBYTE, 16 * MEGABYTE, 1536 * MEGABYTE, 2047 * MEGABYTE, 48 * GIGABYTE],
)
def test_parse_of_format_gives_back_the_bytes(num_bytes: int) -> None:
    assert parse_memory(format_pg_memory(num_bytes)) == num_bytes
