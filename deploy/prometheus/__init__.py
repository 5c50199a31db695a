"""The Prometheus deploy: Debian's prometheus, scraping the inventory, with the alert rules.

Run by ``deploy/site.py`` on the inventory's ``prometheus`` group; callable from any other
pyinfra deploy as ``prometheus(environment, jobs, listen_address)``. The scrape jobs come from
the inventory (``deploy/preflight.py`` judged it before pyinfra connected), so there is no
second list of hosts.
"""

from collections.abc import Sequence

from pyinfra.api.deploy import deploy
from pyinfra.operations import server

from datalayer.monitoring.prometheus import (
    CONFIG_FILE,
    DEFAULTS_FILE,
    RULES_FILE,
    ScrapeJob,
    render_config,
    render_defaults,
)
from datalayer.monitoring.rules import render_rules
from datalayer.spec import EnvironmentSpec
from deploy import dpkg
from deploy.operations import (
    WantedFile,
    checked_file_installed,
    files_in_place,
    packages_installed,
    units_enabled_and_running,
)

PACKAGE = "prometheus"
SERVICE = "prometheus"


@deploy("Prometheus")
def prometheus(
    environment: EnvironmentSpec, jobs: Sequence[ScrapeJob], listen_address: str
) -> None:
    """Install Prometheus with the environment's scrape jobs and alert rules, and run it.

    + environment: the validated environment spec, with ``monitoring``
    + jobs: the scrape jobs rendered from the inventory (``scrape_jobs``)
    + listen_address: where it serves its UI and API: the host's ``private_address``

    The rules, then the configuration that loads them, are each installed only once
    ``promtool`` accepts them (``check rules``, ``check config``, which reads the rules too),
    and put in force by a reload (SIGHUP: Prometheus keeps its samples, its alerts' state and
    its scrape loops' timing). Only its flags (``/etc/default/prometheus``: the listen address
    and retention) restart it, since Prometheus reads them once at start. Will not change the
    package's console templates or its data directory.
    """
    dpkg.finish_interrupted_install(
        name="Finish an interrupted package install, waiting for a running apt or dpkg",
    )
    packages_installed(name=f"Install {PACKAGE}", packages=[PACKAGE])
    flags = files_in_place(
        name=f"Install {DEFAULTS_FILE}",
        files=[
            WantedFile(
                DEFAULTS_FILE, render_defaults(environment, listen_address).encode(), mode=0o644
            )
        ],
    )
    rules = checked_file_installed(
        name=f"Install {RULES_FILE}, checked by promtool check rules",
        wanted=WantedFile(RULES_FILE, render_rules(environment).encode(), mode=0o644),
        check="promtool check rules {candidate}",
        checker="promtool",
    )
    config = checked_file_installed(
        name=f"Install {CONFIG_FILE}, checked by promtool check config",
        wanted=WantedFile(CONFIG_FILE, render_config(environment, jobs).encode(), mode=0o644),
        check="promtool check config {candidate}",
        checker="promtool",
    )
    started = units_enabled_and_running(name=f"Enable and start {SERVICE}", units=[SERVICE])
    server.shell(
        name="Restart Prometheus for its changed flags",
        commands=[f"systemctl restart {SERVICE}"],
        _if=lambda: flags.did_change() and not started.did_change(),
    )
    server.shell(
        name="Reload Prometheus onto the new rules and configuration",
        commands=[f"systemctl reload {SERVICE}"],
        _if=lambda: (
            (rules.did_change() or config.did_change())
            and not flags.did_change()
            and not started.did_change()
        ),
    )
