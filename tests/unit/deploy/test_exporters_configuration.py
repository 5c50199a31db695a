"""The exporters' configuration step against what a deployed droplet answered
(``facts/deploy.facts.PathStates/exporter_files.json`` and ``UnitStates/exporters_running``,
recorded on exp-sentinel-1): a file in place is left alone, a changed one is uploaded and its
running exporter restarted, a mode alone is set without a restart."""

from dataclasses import replace
from typing import Any

from pyinfra.api.command import FileUploadCommand, StringCommand

from datalayer.monitoring.exporters import REDIS, RenderedExporter, render_node_exporter
from datalayer.spec.exporters import Exporters
from deploy.exporters import configuration
from tests.unit.deploy.recorded import RecordedHost, on

RECORDED_ADDRESS = "172.30.57.4"
"""exp-sentinel-1's private address when its files were recorded."""


def facts(paths: list[str], units: list[str]) -> list[dict[str, Any]]:
    return [
        {"case": "deploy.facts.PathStates/exporter_files", "arguments": {"paths": paths}},
        {"case": "deploy.facts.UnitStates/exporters_running", "arguments": {"units": units}},
    ]


def node_in_place() -> RenderedExporter:
    """The node exporter's file as exp-sentinel-1 holds it (its SHA-256 is the recorded one):
    deployed with ``monitoring: {}``, the exporters' defaults."""
    return render_node_exporter("sandbox-cluster", Exporters(), RECORDED_ADDRESS)


def run(rendered: list[RenderedExporter]) -> tuple[list[Any], str | None]:
    host = RecordedHost(
        facts(
            [each.exporter.environment_file for each in rendered],
            [each.exporter.service for each in rendered],
        )
    )
    with on(host):
        commands = [
            ("upload", command.dest) if isinstance(command, FileUploadCommand)
            else StringCommand(command).get_raw_value() if isinstance(command, str)
            else command.get_raw_value()
            for command in configuration._inner(rendered=rendered)
        ]  # fmt: skip
    return commands, host.noop_description


def test_file_in_place_is_left_alone() -> None:
    assert run([node_in_place()]) == ([], "/etc/default/prometheus-node-exporter in place")


def test_changed_file_restarts_its_running_exporter() -> None:
    changed = RenderedExporter(REDIS, 'REDIS_ADDR="redis://127.0.0.1:6380"\n', 0o600)
    commands, _ = run([node_in_place(), changed])
    assert commands == [
        ("upload", REDIS.environment_file),
        f"chown root:root {REDIS.environment_file}",
        f"chmod 600 {REDIS.environment_file}",
        f"systemctl restart {REDIS.service} # {REDIS.environment_file} changed",
    ]


def test_mode_alone_is_set_without_a_restart() -> None:
    tightened = replace(node_in_place(), mode=0o600)
    assert run([tightened]) == (["chmod 600 /etc/default/prometheus-node-exporter"], None)
