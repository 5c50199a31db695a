"""The alert rules under Debian 13's promtool (2.53, in a container): ``check rules`` accepts
them, and each rule's case shows it firing and resolving, for the sandbox's short thresholds
and for the production defaults.

    pytest tests/rules   (Docker; the promtool image is built once, about 15 s)
"""

import subprocess
from pathlib import Path

import pytest

from datalayer.monitoring.rules import render_rules
from datalayer.sandbox.promtool import promtool_image, run_promtool
from datalayer.spec import EnvironmentSpec, load_environment
from datalayer.spec.monitoring import Monitoring
from tests.rules.harness import RULES_FILE, alert_names, case_names, render_case

pytestmark = pytest.mark.sandbox


def sandbox() -> EnvironmentSpec:
    return load_environment("sandbox")


def production_defaults() -> EnvironmentSpec:
    """The sandbox's environment with every monitoring value at its default."""
    return sandbox().model_copy(update={"monitoring": Monitoring()})


ENVIRONMENTS = {"sandbox": sandbox, "defaults": production_defaults}


@pytest.fixture(scope="session")
def image() -> str:
    return promtool_image()


@pytest.fixture(scope="session", params=sorted(ENVIRONMENTS))
def rules(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with the rules rendered for one environment and every case beside them."""
    environment = ENVIRONMENTS[request.param]()
    directory = tmp_path_factory.mktemp(f"rules-{request.param}")
    rules_text = render_rules(environment)
    (directory / RULES_FILE).write_text(rules_text)
    for name in case_names():
        (directory / f"{name}.yml").write_text(render_case(name, environment, rules_text))
    return directory


def promtool(image: str, directory: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    completed = run_promtool(image, directory, arguments)
    print(completed.stdout, completed.stderr)
    return completed


def test_promtool_accepts_the_rules(image: str, rules: Path) -> None:
    completed = promtool(image, rules, "check", "rules", RULES_FILE)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_every_rule_has_a_case(rules: Path) -> None:
    assert case_names() == alert_names((rules / RULES_FILE).read_text())


@pytest.mark.parametrize("alert", case_names())
def test_rule_fires_and_resolves(image: str, rules: Path, alert: str) -> None:
    completed = promtool(image, rules, "test", "rules", f"{alert}.yml")
    assert completed.returncode == 0, completed.stdout + completed.stderr
