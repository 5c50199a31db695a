"""The restore drill: restore the source's stanza onto a scratch host, and prove the copy.

Judged before any host is contacted (``judge``): the target is an inventory host and no host of
the source; the repository is one the target can reach (s3 or sftp: a posix repository lives on
the source); a point in time is a past moment with a zone; every secret the runs read is there.

Then (``run``): for the latest state, the source's rows per hypertable are counted in one
read-only repeatable-read transaction, together with the WAL insert position L of that
snapshot; once the source's archiver has pushed the segment holding L (``archive_timeout``
bounds the wait), an archived record at or past L exists, and the copy is recovered to L,
excluding the records from L on, so it holds exactly the transactions the snapshot saw. Where
that segment is not pushed within the bound (nor by the time the restore starts) although the
archiver reports no failure, it holds only records that force no switch (such as the background
writer's running-transactions snapshots) and no record past L is archived to stop at: the copy
recovers everything archived, and its replay must end before L. For a point in time,
the copy is recovered to that moment; what the source held then is not known any more, so its
rows are reported, not compared.
The scratch host is made ready with the project's deploy (``deploy/restore_drill/scratch.py``);
the copy is restored, started on localhost, counted and checked there by
``datalayer.onhost.restore_drill``, checked with the hooks' ``check``, and stopped; a passed
drill writes its metrics for node-exporter.

The source sees only read-only queries: every command sent to a source host is
``source_query``'s, a ``BEGIN ... READ ONLY`` transaction under
``default_transaction_read_only``.
"""

import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pyinfra.api.host import Host

from datalayer.deploy_run import run_deploy
from datalayer.hooks.build import build_plan
from datalayer.onhost.restore_drill import ISOLATION, isolation_problems
from datalayer.onhost.step import EXIT_DRIFT, EXIT_OK
from datalayer.paths import REPOSITORY_ROOT
from datalayer.secrets import SecretError
from datalayer.spec import EnvironmentSpec, SpecError, load_environment
from datalayer.spec.backup import seconds_of
from datalayer.spec.timescaledb import TimescaleDb
from datalayer.timescaledb.backup.keys import repository_keys, sftp_key_pair
from datalayer.verify import REPORT_OPTIONS, load_inventory, ssh_config
from deploy.backup_repository import members_sftp_server
from deploy.preflight import judge_inventory
from deploy.restore_drill import (
    DRILL_CLUSTER,
    ENVIRONMENT_VARIABLE,
    SCRATCH_DEPLOY_FILE,
    TARGET_VARIABLE,
    drill_command,
    drill_port,
)
from deploy.restore_drill.targets import refuse_source_target
from deploy.timescaledb import hooks

ARCHIVE_WAIT_MARGIN_SECONDS = 15
"""How long past ``archive_timeout`` the drill waits for the source to archive its snapshot's
segment: a commit forces the switch at most ``archive_timeout`` after the last one, and the
push takes seconds."""
POLL_SECONDS = 2


class DrillError(Exception):
    """The drill ran and something did not hold; its message is the drill's one line."""


@dataclass(frozen=True)
class DrillRequest:
    """What was judged before any host was contacted."""

    inventory_path: Path
    environment: EnvironmentSpec
    target: Host
    sources: tuple[Host, ...]
    """The environment's timescaledb hosts; the one that is not in recovery is counted."""
    repository_host: str | None
    """The backup_repository host whose host keys the scratch deploy pins; None otherwise."""
    target_time: datetime | None


def parse_target_time(text: str, now: datetime) -> datetime:
    """``--time``: an ISO 8601 moment with its zone, in the past."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise SpecError(
            f"--time {text!r} is not an ISO 8601 timestamp (e.g. '2026-05-04 13:37:00+00:00')"
        ) from None
    if moment.tzinfo is None:
        raise SpecError(f"--time {text!r} has no time zone: write its offset, e.g. '{text}+00:00'")
    if moment >= now:
        raise SpecError(f"--time {text!r} is not in the past: nothing is archived after now")
    return moment


def judge(
    inventory_path: Path, environment_name: str, target_name: str, target_time: str | None
) -> DrillRequest:
    """Everything the drill reads, judged; a :class:`SpecError` or :class:`SecretError` names
    the first thing that is wrong."""
    moment = None if target_time is None else parse_target_time(target_time, datetime.now(UTC))
    inventory = load_inventory(str(inventory_path))
    environment = load_environment(environment_name)
    hosts = list(inventory)
    found = [host for host in hosts if host.name == target_name]
    if not found:
        raise SpecError(f"--target {target_name} is not a host of {inventory_path}")
    refuse_source_target(environment, hosts, target_name, "--target")
    (target,) = found
    if "timescaledb" in target.groups:
        raise SpecError(
            f"--target {target_name} is in the timescaledb group (env "
            f"{target.data.get('env')}): its pgBackRest configuration is its own cluster's"
        )
    repository = environment.timescaledb.backup.repository
    if repository.type == "posix":
        raise SpecError(
            f"Pulumi.{environment.name}.yaml's timescaledb.backup.repository is posix "
            f"({repository.path} on the source): no other host can reach it; drill from an "
            "s3 or sftp repository"
        )
    sources = tuple(
        host
        for host in hosts
        if "timescaledb" in host.groups and host.data.get("env") == environment.name
    )
    if not sources:
        raise SpecError(
            f"inventory: {inventory_path} has no timescaledb host of env {environment.name}: "
            "the drill counts the source's rows on it"
        )
    server = members_sftp_server(environment, target)
    # What the scratch deploy reads, and pyinfra's preflight over the whole inventory, now.
    backup = environment.timescaledb.backup
    repository_keys(backup)
    sftp_key_pair(backup)
    build_plan(environment)
    judge_inventory(inventory)
    return DrillRequest(
        inventory_path=inventory_path,
        environment=environment,
        target=target,
        sources=sources,
        repository_host=None if server is None else server.inventory_host,
        target_time=moment,
    )


class RemoteHost:
    """An inventory host reached over SSH as pyinfra and testinfra reach it."""

    def __init__(self, host: Host, directory: Path) -> None:
        self.name = host.name
        self.config = directory / f"{host.name}.ssh_config"
        self.config.write_text(ssh_config(host.name, host.data))

    def run(self, command: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["ssh", "-F", str(self.config), self.name, command],
            input=stdin, capture_output=True, text=True, check=False,
        )  # fmt: skip

    def output(self, command: str, what: str, stdin: str = "") -> str:
        completed = self.run(command, stdin)
        if completed.returncode != 0:
            lines = (completed.stderr or completed.stdout).strip().splitlines() or ["no output"]
            raise DrillError(f"{what} on {self.name} failed: {lines[-1]}")
        return completed.stdout


def source_query(source: RemoteHost, spec: TimescaleDb, statements: Sequence[str]) -> list[str]:
    """``statements`` in one read-only repeatable-read transaction in the source's application
    database, as postgres over its socket; one output line per statement. The one way this
    module reads a source."""
    script = "\n".join(
        [
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;",
            *(f"{statement};" for statement in statements),
            "COMMIT;",
        ]
    )
    command = (
        "PGOPTIONS='-c default_transaction_read_only=on' runuser -u postgres -- "
        f"psql --cluster {spec.version}/{spec.debian_cluster} -XAtq -v ON_ERROR_STOP=1 "
        f"-d {shlex.quote(spec.database)}"
    )
    return source.output(command, "a read-only query", stdin=script).splitlines()


SNAPSHOT_STATEMENTS = (
    "SELECT json_build_object("
    "'lsn', pg_current_wal_insert_lsn()::text, "
    "'walfile', pg_walfile_name(pg_current_wal_insert_lsn()), "
    "'taken', extract(epoch FROM clock_timestamp()))",
    # Each hypertable counted inside the same snapshot: query_to_xml runs the count in this
    # transaction, so one statement counts them all.
    "SELECT coalesce(json_object_agg(name, count), '{}') FROM ("
    "SELECT format('%I.%I', hypertable_schema, hypertable_name) AS name, "
    "(xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', "
    "hypertable_schema, hypertable_name), false, true, '')))[1]::text::bigint AS count "
    "FROM timescaledb_information.hypertables) AS counted",
)


@dataclass(frozen=True)
class SourceSnapshot:
    """The source's rows per hypertable, and where its WAL stood when they were counted."""

    lsn: str
    walfile: str
    """The segment holding ``lsn``: once it is archived, so is a record at or past ``lsn``
    (the segment switch that closed it, or the record the segment filled with), which
    recovery stops before."""
    taken: float
    counts: dict[str, int]


def snapshot(source: RemoteHost, spec: TimescaleDb) -> SourceSnapshot:
    position_line, counts_line = source_query(source, spec, SNAPSHOT_STATEMENTS)
    position = json.loads(position_line)
    return SourceSnapshot(
        lsn=position["lsn"],
        walfile=position["walfile"],
        taken=float(position["taken"]),
        counts={name: int(count) for name, count in json.loads(counts_line).items()},
    )


def primary(sources: Sequence[RemoteHost], spec: TimescaleDb) -> RemoteHost:
    """The source host that is not in recovery (a cluster's leader; a single host itself)."""
    for source in sources:
        (answer,) = source_query(source, spec, ["SELECT pg_is_in_recovery()"])
        if answer == "f":
            return source
    raise DrillError(f"no source host is a primary ({', '.join(s.name for s in sources)})")


def wait_until_archived(
    source: RemoteHost, spec: TimescaleDb, walfile: str, seconds: float
) -> bool:
    """Whether the source's archiver pushes ``walfile`` within ``seconds`` (pg_stat_archiver;
    0: whether it has).

    False when it does not and reports no failure since its last success: the segment then
    holds no record that forces a switch at ``archive_timeout`` (the checkpointer switches only
    when "important" WAL was logged since the last switch, ``GetLastImportantRecPtr() >
    last_switch_lsn`` in CheckArchiveTimeout, src/backend/postmaster/checkpointer.c; the
    background writer's running-transactions snapshots are not), so everything committed is
    archived already. A failing archiver stops the drill.
    """
    deadline = time.monotonic() + seconds
    while True:
        (line,) = source_query(
            source,
            spec,
            [
                "SELECT coalesce(last_archived_wal, ''), coalesce(last_failed_time > "
                "coalesce(last_archived_time, '-infinity'), false) FROM pg_stat_archiver"
            ],
        )
        archived, failing = line.split("|")
        if archived[:24] >= walfile:
            return True
        if failing == "t":
            raise DrillError(
                f"the source's archiver is failing (last archived {archived or 'nothing'}): "
                "the repository lacks its newest WAL"
            )
        if time.monotonic() > deadline:
            return False
        time.sleep(POLL_SECONDS)


@dataclass(frozen=True)
class DrillResult:
    """What one drill found: the copy's report and the verdicts on it."""

    report: dict[str, Any]
    source: SourceSnapshot | None
    hooks_clean: bool
    problems: tuple[str, ...]
    data_age_seconds: float
    testinfra: str
    """pytest's last line over the testinfra subset."""

    @property
    def passed(self) -> bool:
        return not self.problems

    @property
    def duration_seconds(self) -> float:
        return float(self.report["restore_seconds"]) + float(self.report["recovery_seconds"])


TESTINFRA_SUBSET = (
    "tests/infra/test_timescaledb.py::test_postgresql_and_timescaledb_packages_are_installed",
    "tests/infra/test_timescaledb.py::test_server_runs_the_declared_major_version",
    "tests/infra/test_timescaledb.py::test_timescaledb_is_preloaded",
    "tests/infra/test_timescaledb.py::test_create_extension_works",
    "tests/infra/test_timescaledb.py::test_edition_matches_the_package_source",
    "tests/infra/test_timescaledb_hooks.py::test_every_migration_is_recorded_with_its_checksum",
    "tests/infra/test_timescaledb_hooks.py::test_data_schemas_exist_and_belong_to_the_owner",
    "tests/infra/test_timescaledb_hooks.py::"
    "test_every_object_in_the_data_schemas_belongs_to_the_owner",
    "tests/infra/test_timescaledb_hooks.py::"
    "test_owner_role_can_run_background_jobs_but_has_no_password",
    "tests/infra/test_timescaledb_hooks.py::test_hypertable_has_the_declared_chunk_interval",
    "tests/infra/test_timescaledb_hooks.py::test_candles_primary_key_is_narrow_enough_to_be_packed",
    "tests/infra/test_timescaledb_hooks.py::test_login_role_has_its_declared_attributes",
    "tests/infra/test_timescaledb_hooks.py::test_compression_is_as_declared",
    "tests/infra/test_timescaledb_hooks.py::test_retention_is_as_declared",
)
"""The TimescaleDB suites' tests that apply to a restored copy: the packages, the server and
the extension, and what the restore brought back (migrations, schemas and owners, chunk
intervals, keys, role attributes, policies), each asked as postgres over the copy's socket
(``--pg-cluster``). Left out: the service, listening, configuration, pg_hba and TLS tests and
every network login, since the copy runs on the drill's own configuration (localhost, peer
for postgres only, no unit) by design; and the backup suite, since the copy archives nothing."""


def testinfra_subset(
    request: DrillRequest, config: Path, junit_directory: Path
) -> subprocess.CompletedProcess[str]:
    """``TESTINFRA_SUBSET`` against the copy on the scratch host, as ``datalayer.verify`` runs
    the suites (over SSH with the inventory's settings)."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", *TESTINFRA_SUBSET,
         f"--hosts=ssh://{request.target.name}", f"--ssh-config={config}",
         f"--env={request.environment.name}", f"--pg-cluster={DRILL_CLUSTER}",
         f"--junitxml={junit_directory / 'restore-drill.xml'}", "-q", *REPORT_OPTIONS],
        cwd=REPOSITORY_ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip


def problems_of(
    report: Mapping[str, Any],
    source: SourceSnapshot | None,
    hooks_clean: bool,
    replayed_everything: bool,
    testinfra_summary: str | None = None,
) -> list[str]:
    """Why the drill fails, one line each; none when it passed.

    + replayed_everything: the copy recovered all archived WAL, not to the snapshot's LSN; its
      replay must then have ended before that LSN
    + testinfra_summary: pytest's last line when the testinfra subset failed; None when passed
    """
    found = isolation_problems(report)
    if not hooks_clean:
        found.append("the hooks' check found drift in the restored copy")
    if testinfra_summary is not None:
        found.append(f"the testinfra subset failed: {testinfra_summary}")
    if source is not None:
        for name in sorted(source.counts.keys() | report["counts"].keys()):
            expected, restored = source.counts.get(name), report["counts"].get(name)
            if expected != restored:
                found.append(
                    f"{name}: {restored} rows restored, {expected} at the source's snapshot"
                )
        if replayed_everything and _lsn(report["end_lsn"]) > _lsn(source.lsn):
            found.append(
                f"replay ended at {report['end_lsn']}, past the snapshot's {source.lsn}: the "
                "source wrote and archived more meanwhile; run the drill again"
            )
    return found


def _lsn(text: str) -> int:
    high, low = text.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def run(request: DrillRequest, environ: Mapping[str, str]) -> DrillResult:
    """The drill, once judged; :class:`DrillError` when a step of it cannot run."""
    environment = request.environment
    spec = environment.timescaledb
    with tempfile.TemporaryDirectory(prefix="restore-drill-") as directory:
        sources = [RemoteHost(host, Path(directory)) for host in request.sources]
        scratch = RemoteHost(request.target, Path(directory))
        source = None
        counted = None
        if request.target_time is None:
            counted = primary(sources, spec)
            source = snapshot(counted, spec)
            timeout = seconds_of(spec.backup.archive_timeout)
            wait_until_archived(
                counted, spec, source.walfile, timeout + ARCHIVE_WAIT_MARGIN_SECONDS
            )
        deployed = run_deploy(
            request.inventory_path,
            {
                **environ,
                ENVIRONMENT_VARIABLE: environment.name,
                TARGET_VARIABLE: request.target.name,
            },
            limit=[request.target.name, *filter(None, [request.repository_host])],
            deploy_file=SCRATCH_DEPLOY_FILE,
        )
        if not deployed.succeeded:
            tail = deployed.output.strip().splitlines()[-5:]
            raise DrillError("the scratch host's deploy failed: " + " / ".join(tail))
        # Asked again once the scratch host is ready: the segment may have been pushed since.
        if request.target_time is not None:
            arguments = ["--time", shlex.quote(request.target_time.isoformat(sep=" "))]
        elif (
            counted is not None
            and source is not None
            and wait_until_archived(counted, spec, source.walfile, 0)
        ):
            arguments = ["--lsn", source.lsn]
        else:
            # Its segment holds nothing that forces a switch: everything archived is the
            # snapshot's state.
            arguments = []
        report = json.loads(scratch.output(drill_command("restore", *arguments), "the restore"))
        finished = time.time()
        try:
            checked = scratch.run(hooks.remote_command("check", drill_port(environment)))
            if checked.returncode not in (EXIT_OK, EXIT_DRIFT):
                raise DrillError(f"the hooks' check failed: {checked.stderr.strip()}")
            hooks_clean = checked.returncode == EXIT_OK
            age = max(0.0, finished - float(report["restore_point"]))
            suites = testinfra_subset(request, scratch.config, Path(directory))
            tested = suites.stdout.strip().splitlines() or ["no output"]
            problems = problems_of(
                report,
                source,
                hooks_clean,
                replayed_everything=not arguments,
                testinfra_summary=None if suites.returncode == 0 else tested[-1],
            )
            result = DrillResult(report, source, hooks_clean, tuple(problems), age, tested[-1])
            if result.passed:
                scratch.output(
                    drill_command(
                        "record",
                        f"--duration={result.duration_seconds:.3f}",
                        f"--data-age={age:.3f}",
                    ),
                    "recording the metrics",
                )
        finally:
            scratch.output(drill_command("stop"), "stopping the copy")
    return result


def _moment(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def summary(request: DrillRequest, result: DrillResult) -> str:
    """The drill's one readable report."""
    report = result.report
    environment = request.environment
    if result.source is not None:
        point = (
            f"latest: the source's snapshot at {_moment(result.source.taken)}, "
            f"WAL {result.source.lsn}"
        )
    else:
        assert request.target_time is not None
        point = f"point in time {request.target_time.isoformat(sep=' ')}"
    lines = [
        f"restore drill of {environment.name} (stanza {environment.timescaledb.backup.stanza}) "
        f"onto {request.target.name}: {'PASSED' if result.passed else 'FAILED'}",
        f"  restore point: {point}; replay ended at {report['end_lsn']} on timeline "
        f"{report['timeline']}, newest transaction {_moment(float(report['restore_point']))}",
        f"  restore time: {result.duration_seconds:.1f} s "
        f"(pgBackRest {report['restore_seconds']:.1f} s, "
        f"recovery {report['recovery_seconds']:.1f} s); data age at the restore point: "
        f"{result.data_age_seconds:.0f} s",
    ]
    for name, count in sorted(report["counts"].items()):
        compared = (
            ""
            if result.source is None
            else f" (source: {result.source.counts.get(name, 'no such hypertable')})"
        )
        lines.append(f"  {name}: {count} rows{compared}")
    settings = report["settings"]
    lines.append(
        "  isolated: "
        + ", ".join(
            f"{name} {settings[name]['setting']!r} ({settings[name]['source']})"
            for name in ISOLATION
        )
    )
    lines.append(f"  hooks' check: {'clean' if result.hooks_clean else 'DRIFT'}")
    lines.append(
        f"  testinfra (TESTINFRA_SUBSET, the TimescaleDB suites' tests for a restored copy): "
        f"{result.testinfra}"
    )
    lines += [f"  problem: {problem}" for problem in result.problems]
    return "\n".join(lines)


def drill_main(inventory: Path, environment_name: str, target: str, target_time: str | None) -> int:
    """The command: 0 passed, 1 failed, 2 bad input (nothing contacted)."""
    try:
        request = judge(inventory, environment_name, target, target_time)
    except (SpecError, SecretError) as error:
        print(f"error: {error}", flush=True)
        return 2
    try:
        result = run(request, os.environ)
    except DrillError as error:
        print(f"restore drill of {environment_name} onto {target}: FAILED: {error}", flush=True)
        return 1
    print(summary(request, result), flush=True)
    return 0 if result.passed else 1
