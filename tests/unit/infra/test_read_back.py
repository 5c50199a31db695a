"""Every container input the provider reads back in a form of its own is sent in that form
(``datalayer.docker_forms``, whose cases come from the provider's source), so that a second
``pulumi up`` finds nothing to change: no container replaced for a ``cpus`` of "2" read back as
"2.0", no update for a ``start_period`` of "120s" read back as "2m0s".
"""

import pytest

from tests.unit.infra.harness import StackRun, container


@pytest.mark.parametrize(
    ("service", "start_period"),
    [("timescaledb", "2m0s"), ("redis", "30s"), ("influxdb", "2m0s")],
)
def test_health_check_durations_are_sent_as_the_provider_reads_them_back(
    stack: StackRun, service: str, start_period: str
) -> None:
    healthcheck = container(stack, service)["healthcheck"]
    durations = (healthcheck["interval"], healthcheck["timeout"], healthcheck["startPeriod"])
    assert durations == ("10s", "5s", start_period)


@pytest.mark.parametrize(
    ("name", "service", "form"),
    [
        ("dev", "timescaledb", "2.0"),
        ("dev", "redis", "1.0"),
        ("dev", "influxdb", "1.0"),
        ("prod", "timescaledb", "8.0"),
        ("prod", "redis", "2.0"),
        ("prod", "influxdb", "4.0"),
    ],
)
def test_cpu_limits_are_sent_as_the_provider_reads_them_back(
    name: str, service: str, form: str, request: pytest.FixtureRequest
) -> None:
    run: StackRun = request.getfixturevalue(name)
    assert container(run, service)["cpus"] == form
