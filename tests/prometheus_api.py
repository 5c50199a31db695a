"""Prometheus's HTTP API as a user reads it: the active alerts and instant queries, for the
tests that break the real thing and wait for its alert (``/api/v1``, Prometheus 2.53)."""

import json
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

import pytest


@dataclass(frozen=True)
class PrometheusApi:
    """Prometheus's API at ``url`` (e.g. ``http://127.0.0.1:PORT``, a droplet's published port)."""

    url: str

    def _get(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.url}{path}", timeout=10) as response:
            answer = json.load(response)
        assert answer["status"] == "success", answer
        return answer["data"]

    def alert_states(self) -> dict[str, str]:
        """Each active alert's name and state (pending or firing)."""
        alerts = self._get("/api/v1/alerts")["alerts"]
        return {alert["labels"]["alertname"]: alert["state"] for alert in alerts}

    def firing(self) -> set[str]:
        """The names of the alerts that are firing (not merely pending)."""
        return {name for name, state in self.alert_states().items() if state == "firing"}

    def query(self, expression: str) -> list[dict[str, object]]:
        """The instant vector ``expression`` selects now."""
        result: list[dict[str, object]] = self._get(
            f"/api/v1/query?{urllib.parse.urlencode({'query': expression})}"
        )["result"]
        return result

    def target_health(self) -> dict[tuple[str, str], str]:
        """Each active target's health (up, down, unknown), by job and host label."""
        targets = self._get("/api/v1/targets")["activeTargets"]
        return {(t["labels"]["job"], t["labels"]["host"]): t["health"] for t in targets}

    def wait_for(self, alert: str, *, firing: bool, within: float) -> float:
        """Seconds until ``alert`` is firing (or gone); fails with the alerts seen after
        ``within`` seconds."""
        started = time.monotonic()
        states: dict[str, str] = {}
        while time.monotonic() - started < within:
            states = self.alert_states()
            if (states.get(alert) == "firing") == firing:
                return time.monotonic() - started
            time.sleep(1)
        wanted = "firing" if firing else "gone"
        pytest.fail(f"{alert} not {wanted} after {within:.0f} s; active alerts: {states}")
