"""Tests of the local droplet sandbox; they create real containers on this machine's Docker.

pytest tests/sandbox -m sandbox
"""

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "sandbox: creates real droplets (containers) with the local sandbox; needs root or Docker",
    )
