"""promtool's ``test rules`` on every rule, with the thresholds of an environment.

Each case (``cases/<Alert>.yml.j2``) is a promtool test file rendered with the environment's
alert values: its series cross the threshold and come back, and it expects the alert firing
while they are past it and gone after. So each case holds for the sandbox's short values and
for the production defaults alike.
"""

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import yaml

from datalayer.monitoring.rules import BACKUP_METRIC, RESTORE_DRILL_METRIC, postgresql_seconds
from datalayer.spec import EnvironmentSpec
from datalayer.spec.types import prometheus_duration_seconds

CASES_DIRECTORY = Path(__file__).with_name("cases")
RULES_FILE = "rules.yml"
SAMPLE_SECONDS = 15
"""The cases' series interval and evaluation interval, unless a case says otherwise."""


@dataclass(frozen=True)
class Timeline:
    """A condition that holds from ``bad_from`` for ``bad_samples`` samples of 15 s, healthy
    before and after: long enough past ``pending`` to fire, then ``clear_at`` to have cleared.

    + healthy_at: a moment before it, when nothing fires
    """

    pending: int
    healthy_at: int = 45
    bad_from: int = 60

    @property
    def bad_samples(self) -> int:
        return (self.pending + 180) // SAMPLE_SECONDS

    @property
    def bad_until(self) -> int:
        return self.bad_from + self.bad_samples * SAMPLE_SECONDS

    @property
    def fire_at(self) -> int:
        return self.bad_from + self.pending + 60

    @property
    def clear_at(self) -> int:
        return self.bad_until + 60

    def series(self, healthy: object, bad: object, after: int = 20) -> str:
        """promtool's expanding notation: 4 healthy samples, the bad ones, ``after`` healthy."""
        return f"{healthy}x3 {bad}x{self.bad_samples - 1} {healthy}x{after}"


def humanize_duration(seconds: float) -> str:
    """Prometheus 2.53's ``humanizeDuration`` (template/template.go) for whole seconds >= 1."""
    whole = int(seconds)
    days, hours = whole // 86400, whole // 3600 % 24
    minutes, rest = whole // 60 % 60, whole % 60
    if days:
        return f"{days}d {hours}h {minutes}m {rest}s"
    if hours:
        return f"{hours}h {minutes}m {rest}s"
    if minutes:
        return f"{minutes}m {rest}s"
    return f"{seconds:.4g}s"


def humanize_percentage(ratio: float) -> str:
    """Prometheus 2.53's ``humanizePercentage``: ``%.4g%%`` of the ratio times 100."""
    return f"{ratio * 100:.4g}%"


def case_names() -> list[str]:
    return sorted(path.name.removesuffix(".yml.j2") for path in CASES_DIRECTORY.glob("*.yml.j2"))


def alert_names(rules_text: str) -> list[str]:
    document = yaml.safe_load(rules_text)
    return sorted(rule["alert"] for group in document["groups"] for rule in group["rules"])


def render_case(name: str, environment: EnvironmentSpec, rules_text: str) -> str:
    """The promtool test file of alert ``name`` under ``environment``'s thresholds."""
    monitoring = environment.monitoring
    assert monitoring is not None
    alerts = monitoring.alerts
    seconds = {
        key: int(prometheus_duration_seconds(value))
        for key, value in alerts.model_dump().items()
        if isinstance(value, str)
    }
    annotations = {
        rule["alert"]: rule["annotations"]
        for group in yaml.safe_load(rules_text)["groups"]
        for rule in group["rules"]
    }
    archive_timeout = postgresql_seconds(environment.timescaledb.backup.archive_timeout)
    context: dict[str, Any] = {
        "rules_file": RULES_FILE,
        "alerts": alerts,
        "seconds": seconds,
        "pending": Timeline(seconds["pending"]),
        "down": Timeline(seconds["down_pending"]),
        "archive_window": archive_timeout + seconds["archive_margin"],
        "runbook": annotations[name]["runbook"],
        "humanize_duration": humanize_duration,
        "humanize_percentage": humanize_percentage,
        "ceil": math.ceil,
        "backup_metric": BACKUP_METRIC,
        "restore_drill_metric": RESTORE_DRILL_METRIC,
    }
    environment_jinja = jinja2.Environment(
        loader=jinja2.FileSystemLoader(CASES_DIRECTORY),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    return environment_jinja.get_template(f"{name}.yml.j2").render(**context)
