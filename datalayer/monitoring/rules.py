"""The alert rules (``templates/prometheus/rules.yml.j2``), rendered with the spec's thresholds.

Every rule's expression reads metrics by the names the exporters Debian 13 ships give them
(the template cites each one's source); its threshold and ``for:`` come from
``monitoring.alerts`` and, for archiving, ``timescaledb.backup.archive_timeout``.
"""

import re

from datalayer.render import render
from datalayer.spec import EnvironmentSpec
from datalayer.spec.types import prometheus_duration_seconds
from datalayer.timescaledb.layout import patroni_layout

BACKUP_METRIC = "datalayer_pgbackrest_last_backup_completion_timestamp_seconds"
"""When the last backup of each type (label ``type``: full, diff, incr) completed, written by
``datalayer-backup-metrics`` into node_exporter's textfile directory after each backup."""
RESTORE_DRILL_METRIC = "datalayer_restore_drill_last_success_timestamp_seconds"
"""When the last restore drill succeeded, written by the drill's command into node_exporter's
textfile directory on the host it runs on."""

_POSTGRESQL_SECONDS = re.compile(r"([0-9]+)(s|min|h|d)?")
_POSTGRESQL_UNIT_SECONDS = {None: 1, "s": 1, "min": 60, "h": 3600, "d": 86400}


def postgresql_seconds(value: str) -> int:
    """Seconds of a PostgreSQL time setting whose base unit is seconds ('60s', '5min', '0')."""
    match = _POSTGRESQL_SECONDS.fullmatch(value)
    assert match is not None, value
    return int(match.group(1)) * _POSTGRESQL_UNIT_SECONDS[match.group(2)]


def render_rules(environment: EnvironmentSpec) -> str:
    """``/etc/prometheus/datalayer-rules.yml`` for ``environment``."""
    monitoring = environment.monitoring
    assert monitoring is not None
    alerts = monitoring.alerts
    # A primary with writes archives at least every archive_timeout: past it plus the margin,
    # archiving has failed or hangs. The same span is the window in which failures must have
    # met no success.
    archive_window = postgresql_seconds(environment.timescaledb.backup.archive_timeout) + int(
        prometheus_duration_seconds(alerts.archive_margin)
    )

    def seconds(duration: str) -> str:
        return f"{prometheus_duration_seconds(duration):g}"

    return render(
        "prometheus/rules.yml.j2",
        environment_name=environment.name,
        alerts=alerts,
        archive_stalled_seconds=archive_window,
        archive_window=f"{archive_window}s",
        seconds=seconds,
        backup_metric=BACKUP_METRIC,
        restore_drill_metric=RESTORE_DRILL_METRIC,
        # The runbooks name the commands to run as they are on the hosts.
        stanza=environment.timescaledb.backup.stanza,
        patroni_service=patroni_layout(environment.timescaledb).service,
    )


BACKUP_METRICS_SCRIPT = "/usr/local/lib/datalayer/backup-metrics"
BACKUP_METRICS_FILE = "datalayer_pgbackrest.prom"


def render_backup_metrics_script(environment: EnvironmentSpec, textfile_directory: str) -> str:
    """The script the backup services run after each backup: :data:`BACKUP_METRIC` of each
    backup type, into node_exporter's textfile directory."""
    return render(
        "prometheus/datalayer-backup-metrics.py.j2",
        environment_name=environment.name,
        stanza=environment.timescaledb.backup.stanza,
        output=f"{textfile_directory}/{BACKUP_METRICS_FILE}",
        metric=BACKUP_METRIC,
    )


def render_backup_metrics_drop_in(environment: EnvironmentSpec, service: str) -> str:
    """``SERVICE.d/datalayer-backup-metrics.conf``: run the script after the backup."""
    return render(
        "prometheus/backup-metrics.conf.j2",
        environment_name=environment.name,
        service=service,
        script=BACKUP_METRICS_SCRIPT,
    )
