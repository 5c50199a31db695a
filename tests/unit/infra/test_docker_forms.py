"""The provider's read-back forms of a container's limits and durations
(``datalayer.docker_forms``); test_read_back.py checks that the stacks send them.

The recorded forms come from the provider's source: kreuzwerker/terraform-provider-docker v4.5.0
(the ``upstream`` submodule of pulumi/pulumi-docker from v5.1.0 on, pinned commit 5074970c), and
Go's own tests of the functions it calls (golang/go src/math/big/ratconv_test.go,
src/time/time_test.go).
"""

import pytest

from datalayer.docker_forms import (
    cpus,
    cpus_read_back_exactly,
    duration,
    megabytes,
    nano_cpus,
    whole_megabytes,
)
from datalayer.units import GIGABYTE, KILOBYTE, MEGABYTE


@pytest.mark.parametrize(
    ("count", "form"),
    [
        # internal/provider/helpers_test.go:37-40 (TestNanoInt64ToDecimalString), from NanoCPUs
        # 1000000000, 1500000000, 2000000000 and 2250000000.
        (1, "1.0"),
        (1.5, "1.5"),
        (2, "2.0"),
        (2.25, "2.25"),
        # internal/provider/helpers.go:142-147: ten has ten zeros among its digits, so the
        # trailing zeros are cut instead, down to the point.
        (10, "10."),
        # helpers.go:142-143: nine zeros ("0.500000000"), cut to one decimal.
        (0.5, "0.5"),
    ],
)
def test_cpus_are_written_as_the_provider_reads_them_back(count: float, form: str) -> None:
    assert cpus(count) == form


@pytest.mark.parametrize(
    ("text", "nano"),
    [
        # docker/cli opts.ParseCPUs: big.Rat's SetString, which takes "1." (math/big
        # ratconv_test.go setStringTests: {"1.", "1", true}), times 1e9.
        ("10.", 10_000_000_000),
        ("2.0", 2_000_000_000),
        ("2.25", 2_250_000_000),
    ],
)
def test_docker_takes_the_provider_forms_for_the_same_amount(text: str, nano: int) -> None:
    assert nano_cpus(text) == nano


@pytest.mark.parametrize(
    "count",
    [
        # "0.050000000" has nine zeros: cut to one decimal, which big.Rat.FloatString rounds
        # half away from zero (ratconv_test.go floatStringTests: {"0.05", 1, "0.1"}).
        0.05,
        # "0.010000000": rounded down to "0.0", no limit at all.
        0.01,
        # "100.250000000": nine zeros, "100.3" ({".25", 1, "0.3"} in the same table).
        100.25,
        # Finer than a billionth: ParseCPUs says "value is too precise".
        1e-10,
    ],
)
def test_cpus_the_provider_reads_back_as_another_amount_are_flagged(count: float) -> None:
    assert not cpus_read_back_exactly(count)


@pytest.mark.parametrize("count", [0.25, 0.5, 1, 1.5, 2.25, 8, 10, 20.5])
def test_usual_cpu_limits_are_read_back_exactly(count: float) -> None:
    assert cpus_read_back_exactly(count)


@pytest.mark.parametrize(
    ("seconds", "form"),
    [
        # time_test.go durationTests: {"0s", 0}, {"4m5s", 4*Minute + 5*Second}.
        (0, "0s"),
        (245, "4m5s"),
        # testdata/resources/docker_container/testAccDockerContainerHealthcheckConfig.tf:12-14,
        # the provider's acceptance test of a health check: already in Go's form.
        (30, "30s"),
        (5, "5s"),
        (15, "15s"),
        # What the stacks' start periods come back as (funcs.go:966), and an hour.
        (120, "2m0s"),
        (3600, "1h0m0s"),
    ],
)
def test_durations_are_written_as_go_writes_them(seconds: int, form: str) -> None:
    assert duration(seconds) == form


@pytest.mark.parametrize(
    ("size", "mebibytes"), [(2 * GIGABYTE, 2048), (256 * MEGABYTE, 256), (1536 * MEGABYTE, 1536)]
)
def test_sizes_are_written_in_whole_mebibytes(size: int, mebibytes: int) -> None:
    """funcs.go:334-336 multiplies by 1024*1024; funcs.go:932 divides the same way."""
    assert megabytes(size) == mebibytes


def test_a_size_that_is_not_whole_mebibytes_is_flagged() -> None:
    assert not whole_megabytes(1536 * KILOBYTE)
