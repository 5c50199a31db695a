"""The script the backup services run after each backup: ``pgbackrest info``'s JSON becomes the
completion time of the last backup of each type, in Prometheus's text format."""

import runpy
from collections.abc import Callable
from pathlib import Path
from typing import Any

from datalayer.monitoring.rules import BACKUP_METRIC, render_backup_metrics_script
from datalayer.spec import load_environment

# pgBackRest 2.55's `info --output=json` (src/command/info/info.c: stanza "backup" list 850,
# each backup's "type" 435 and "timestamp" {"start", "stop"} 518-522), trimmed to those keys.
INFO = [
    {
        "name": "main",
        "backup": [
            {"label": "20261129-010002F", "type": "full", "timestamp": {"start": 100, "stop": 160}},
            {"label": "20261130-010002F_20261130-010002D", "type": "diff",
             "timestamp": {"start": 200, "stop": 230}},
            {"label": "20261201-010002F", "type": "full", "timestamp": {"start": 300, "stop": 390}},
        ],
    }
]  # fmt: skip


def metrics_text(tmp_path: Path) -> Callable[[list[dict[str, Any]]], str]:
    script = tmp_path / "backup-metrics.py"
    script.write_text(render_backup_metrics_script(load_environment("sandbox"), str(tmp_path)))
    function: Callable[[list[dict[str, Any]]], str] = runpy.run_path(str(script))["metrics_text"]
    return function


def test_each_type_reports_its_latest_completion(tmp_path: Path) -> None:
    assert metrics_text(tmp_path)(INFO) == (
        f"# HELP {BACKUP_METRIC} When the last pgBackRest backup of each type completed.\n"
        f"# TYPE {BACKUP_METRIC} gauge\n"
        f'{BACKUP_METRIC}{{type="diff"}} 230\n'
        f'{BACKUP_METRIC}{{type="full"}} 390\n'
    )


def test_a_stanza_without_backups_reports_no_sample(tmp_path: Path) -> None:
    text = metrics_text(tmp_path)([{"name": "main", "backup": []}])
    assert [line for line in text.splitlines() if not line.startswith("#")] == []
