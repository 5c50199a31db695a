"""The restore drill on the scratch host: restore, start on a local port, count, record, stop.

    python3 -m datalayer.onhost.restore_drill restore PLAN [--lsn LSN | --time TIMESTAMP]
    python3 -m datalayer.onhost.restore_drill record PLAN --duration S --data-age S
    python3 -m datalayer.onhost.restore_drill stop PLAN
    python3 -m datalayer.onhost.restore_drill scheduled PLAN      # the timer: all of it, latest

Run as root; PostgreSQL and pgBackRest run as postgres. The copy is restored into a directory
of its own (never over the host's own cluster), with ``--archive-mode=off`` (pgBackRest writes
``archive_mode = 'off'`` into its postgresql.auto.conf: src/command/restore/restore.c:1499-1513
of release/2.55.1) and a postgresql.conf that says the same and names no archive_command: the
copy, promoted onto a timeline of its own, never pushes a WAL segment into the source's
repository. ``restore`` prints one JSON document: how long restore and recovery took, where
replay ended, the rows of every hypertable, and the settings that prove the copy is isolated.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datalayer.onhost.step import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, JsonPlan

RECOVERY_TIMEOUT_SECONDS = 3600
"""How long recovery may take before the drill fails: pgBackRest's restore is done by then,
and replaying a day of WAL on a droplet takes minutes."""
POLL_SECONDS = 1


@dataclass(frozen=True)
class RestoreDrillPlan(JsonPlan):
    """What the drill needs on the scratch host (no secrets: pgBackRest's own files hold the
    repository's keys, installed by the scratch host's deploy)."""

    environment: str
    stanza: str
    version: int
    data_directory: str
    """The restored copy's data directory, the drill's own: emptied at the start of each drill."""
    config_directory: str
    """postgresql-common's directory of the copy's cluster (``psql --cluster`` finds it there):
    its configuration files, rewritten at each drill."""
    port: int
    socket_directory: str
    database: str
    """The application database whose hypertables are counted."""
    postgresql_conf: str
    pg_hba_conf: str
    pg_ident_conf: str
    start_conf: str
    log_file: str
    hooks_command: str
    """The hooks' ``check`` against the copy, as the scheduled drill runs it."""
    metric_file: str
    """node-exporter's textfile collector file the drill's last success is written to."""


ISOLATION = {
    "archive_mode": "off",
    "archive_command": "(disabled)",
    "listen_addresses": "localhost",
}
"""What the copy's settings must be so that it reaches nothing of the source's: no archiving,
no command to archive with (PostgreSQL shows archive_command as '(disabled)' while archiving
is off: show_archive_command, src/backend/access/transam/xlog.c), no address but localhost."""


def isolation_problems(report: Mapping[str, Any]) -> list[str]:
    """How the copy's settings (``restore``'s report) differ from :data:`ISOLATION`."""
    settings = report["settings"]
    return [
        f"the copy's {name} is {settings[name]['setting']!r}, not {wanted!r}"
        for name, wanted in ISOLATION.items()
        if settings[name]["setting"] != wanted
    ]


class DrillError(Exception):
    """A step of the drill failed; its message is the drill's one line."""


def _run(command: list[str], *, as_postgres: bool = False) -> str:
    full = ["runuser", "-u", "postgres", "--", *command] if as_postgres else command
    completed = subprocess.run(full, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        lines = (completed.stderr or completed.stdout).strip().splitlines() or ["no output"]
        raise DrillError(f"{' '.join(command[:2])} failed: {lines[-1]}")
    return completed.stdout


def _pg_ctl(plan: RestoreDrillPlan, *arguments: str) -> list[str]:
    """pg_ctl on the copy: ``-D`` names the configuration directory, whose postgresql.conf
    names the data directory, as postgresql-common lays a cluster out."""
    binary = f"/usr/lib/postgresql/{plan.version}/bin/pg_ctl"
    return [binary, "-D", plan.config_directory, *arguments]


def _running(plan: RestoreDrillPlan) -> bool:
    command = ["runuser", "-u", "postgres", "--", *_pg_ctl(plan, "status")]
    return subprocess.run(command, capture_output=True, check=False).returncode == 0


def sql(plan: RestoreDrillPlan, query: str, database: str = "postgres") -> str:
    """``query`` on the restored copy as postgres, over its socket; unaligned tuples."""
    return _run(
        ["psql", "-h", plan.socket_directory, "-p", str(plan.port), "-d", database, "-XAtq",
         "-v", "ON_ERROR_STOP=1", "-c", query],
        as_postgres=True,
    ).strip()  # fmt: skip


def stop(plan: RestoreDrillPlan) -> None:
    """Stop the restored copy if it runs (fast: its sessions are the drill's own)."""
    if (
        Path(plan.data_directory, "PG_VERSION").exists()
        and Path(plan.config_directory, "postgresql.conf").exists()
        and _running(plan)
    ):
        _run(_pg_ctl(plan, "stop", "-m", "fast", "-w"), as_postgres=True)


def restore_arguments(
    plan: RestoreDrillPlan, lsn: str | None, target_time: str | None
) -> list[str]:
    """pgBackRest's restore into the drill's directory: to ``lsn`` (excluded: the records from
    there on are the source's after its snapshot), to ``target_time``, or everything archived;
    promoted at the target, archiving off. (pgBackRest release/2.55.1,
    src/build/config/config.yaml: type 485-510, target-action only with a target type 434-451,
    target-exclusive 454-466, archive-mode 1336-1346.)"""
    command = [
        "pgbackrest", f"--stanza={plan.stanza}", f"--pg1-path={plan.data_directory}",
        "--archive-mode=off",
    ]  # fmt: skip
    if lsn is not None:
        command += ["--type=lsn", f"--target={lsn}", "--target-exclusive"]
    elif target_time is not None:
        command += ["--type=time", f"--target={target_time}"]
    if lsn is not None or target_time is not None:
        command.append("--target-action=promote")
    return [*command, "restore"]


def _write(path: str, content: str) -> None:
    """A configuration file of the copy, postgres's, as postgresql-common writes them."""
    Path(path).write_text(content)
    os.chmod(path, 0o644)
    subprocess.run(["chown", "postgres:postgres", path], check=True)


def _log_tail(plan: RestoreDrillPlan) -> str:
    try:
        lines = Path(plan.log_file).read_text().strip().splitlines()
    except OSError:
        return "no log"
    fatal = [line for line in lines if "FATAL" in line]
    return (fatal or lines or ["empty log"])[-1]


def restore(plan: RestoreDrillPlan, lsn: str | None, target_time: str | None) -> dict[str, Any]:
    """Restore into an emptied directory, start it, wait until it is promoted, and report."""
    stop(plan)
    subprocess.run(["rm", "-rf", plan.data_directory], check=True)
    _run(["install", "-d", "-o", "postgres", "-g", "postgres", "-m", "700", plan.data_directory])
    started = time.monotonic()
    _run(restore_arguments(plan, lsn, target_time), as_postgres=True)
    restored = time.monotonic()
    _run(["install", "-d", "-o", "postgres", "-g", "postgres", "-m", "755", plan.config_directory])
    for name, content in (
        ("postgresql.conf", plan.postgresql_conf),
        ("pg_hba.conf", plan.pg_hba_conf),
        ("pg_ident.conf", plan.pg_ident_conf),
        ("start.conf", plan.start_conf),
    ):
        _write(f"{plan.config_directory}/{name}", content)
    # A new log for each drill, postgres's own in root's directory.
    _run(["install", "-o", "postgres", "-g", "postgres", "-m", "640", "/dev/null", plan.log_file])
    try:
        _run(
            _pg_ctl(plan, "-l", plan.log_file, "-w", "-t", str(RECOVERY_TIMEOUT_SECONDS), "start"),
            as_postgres=True,
        )
    except DrillError:
        raise DrillError(f"the restored copy did not start: {_log_tail(plan)}") from None
    while not _promoted(plan):
        if time.monotonic() - started > RECOVERY_TIMEOUT_SECONDS:
            raise DrillError(f"recovery took longer than {RECOVERY_TIMEOUT_SECONDS} s")
        time.sleep(POLL_SECONDS)
    promoted = time.monotonic()
    state = json.loads(
        sql(
            plan,
            "SELECT json_build_object("
            "'last_replayed', extract(epoch FROM pg_last_xact_replay_timestamp()), "
            "'end_lsn', pg_last_wal_replay_lsn()::text, "
            "'timeline', (pg_control_checkpoint()).timeline_id, "
            "'settings', (SELECT json_object_agg(name, json_build_object("
            "'setting', setting, 'source', coalesce(sourcefile, source))) FROM pg_settings "
            "WHERE name IN ('archive_mode', 'archive_command', 'listen_addresses', 'port', "
            "'timescaledb.max_background_workers')))",
        )
    )
    replayed = state["last_replayed"]
    return {
        "restore_point": newest_backup_stop(plan) if replayed is None else float(replayed),
        "restore_seconds": round(restored - started, 3),
        "recovery_seconds": round(promoted - restored, 3),
        "counts": hypertable_counts(plan),
        **state,
    }


def _promoted(plan: RestoreDrillPlan) -> bool:
    """Whether recovery is over. pg_ctl's wait ends at the standby state too, which with
    hot_standby off refuses every connection until promotion: a refusal while the server runs
    is recovery going on; a server that stopped has failed (its log says why)."""
    try:
        return sql(plan, "SELECT pg_is_in_recovery()") == "f"
    except DrillError:
        if not _running(plan):
            raise DrillError(f"recovery failed: {_log_tail(plan)}") from None
        return False


def hypertable_counts(plan: RestoreDrillPlan) -> dict[str, int]:
    """The rows of every hypertable of the application database, by ``schema.table``."""
    names = sql(
        plan,
        "SELECT format('%I.%I', hypertable_schema, hypertable_name) "
        "FROM timescaledb_information.hypertables ORDER BY 1",
        plan.database,
    ).splitlines()
    if not names:
        return {}
    counts = sql(
        plan,
        " UNION ALL ".join(f"SELECT '{name}', count(*) FROM {name}" for name in names),
        plan.database,
    )
    return {
        name: int(count) for name, count in (line.rsplit("|", 1) for line in counts.splitlines())
    }


def render_metrics(plan: RestoreDrillPlan, finished: float, duration: float, age: float) -> str:
    """The textfile collector's file: the drill's last success, how long it took, how old the
    restored data was (Prometheus's text format, one gauge each)."""
    labels = f'environment="{plan.environment}",stanza="{plan.stanza}"'
    gauges = (
        ("last_success_timestamp_seconds", "Unix time the last restore drill passed.", finished),
        (
            "duration_seconds",
            "Seconds the last passed drill took to restore and recover.",
            duration,
        ),
        ("data_age_seconds", "Age of the newest restored transaction when it was restored.", age),
    )
    lines = []
    for suffix, text, value in gauges:
        name = f"datalayer_restore_drill_{suffix}"
        lines += [f"# HELP {name} {text}", f"# TYPE {name} gauge", f"{name}{{{labels}}} {value}"]
    return "\n".join(lines) + "\n"


def record(plan: RestoreDrillPlan, duration: float, age: float) -> None:
    """Write the metrics of a passed drill, atomically: the collector never reads half a file
    (a temporary file in the same directory, renamed over the old one)."""
    directory = os.path.dirname(plan.metric_file)
    os.makedirs(directory, mode=0o755, exist_ok=True)
    content = render_metrics(plan, time.time(), duration, age)
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".restore-drill.")
    with os.fdopen(descriptor, "w") as file:
        file.write(content)
    os.chmod(temporary, 0o644)
    os.replace(temporary, plan.metric_file)


def newest_backup_stop(plan: RestoreDrillPlan) -> float:
    """When the stanza's newest backup stopped (``pgbackrest info --output=json``)."""
    info = json.loads(
        _run(["pgbackrest", f"--stanza={plan.stanza}", "--output=json", "info"], as_postgres=True)
    )
    return float(info[0]["backup"][-1]["timestamp"]["stop"])


def data_age(report: dict[str, Any], now: float) -> float:
    """How old the restored data was at ``now``: since the newest transaction replayed, or,
    with none replayed (nothing committed after the backup), since the backup stopped."""
    return round(max(0.0, now - float(report["restore_point"])), 3)


def scheduled(plan: RestoreDrillPlan) -> None:
    """The timer's drill: the latest backup, the hooks' check, the metrics, then stop."""
    report = restore(plan, None, None)
    finished = time.time()
    try:
        isolation = isolation_problems(report)
        if isolation:
            raise DrillError("; ".join(isolation))
        checked = subprocess.run(plan.hooks_command, shell=True, text=True, check=False)
        if checked.returncode != EXIT_OK:
            raise DrillError(f"the hooks' check of the restored copy exited {checked.returncode}")
        duration = report["restore_seconds"] + report["recovery_seconds"]
        record(plan, duration, data_age(report, finished))
    finally:
        stop(plan)
    print(
        f"restore drill passed: {duration:.1f} s, data {data_age(report, finished):.0f} s old, "
        + ", ".join(f"{name} {count}" for name, count in report["counts"].items())
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 -m datalayer.onhost.restore_drill", description=__doc__.split("\n")[0]
    )
    parser.add_argument("mode", choices=("restore", "record", "stop", "scheduled"))
    parser.add_argument("plan", help="the plan JSON the deploy uploaded (no secrets)")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--lsn")
    target.add_argument("--time")
    parser.add_argument("--duration", type=float)
    parser.add_argument("--data-age", type=float)
    arguments = parser.parse_args(argv)
    try:
        plan = RestoreDrillPlan.from_json(Path(arguments.plan).read_text())
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"error: cannot read the plan {arguments.plan}: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        if arguments.mode == "restore":
            print(json.dumps(restore(plan, arguments.lsn, arguments.time)))
        elif arguments.mode == "record":
            if arguments.duration is None or arguments.data_age is None:
                parser.error("record needs --duration and --data-age")
            record(plan, arguments.duration, arguments.data_age)
        elif arguments.mode == "stop":
            stop(plan)
        else:
            scheduled(plan)
    except DrillError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
