"""PostgreSQL's settings catalogue: values judged as PostgreSQL itself reads them.

Every expectation below is PostgreSQL 17.12's own answer (Debian 13's postgresql-17,
17.12-0+deb13u1), asked once per value with
``postgres -D DATADIR -c config_file=... -c NAME=VALUE -C NAME``: exit 0 and the value in the
setting's unit (shown in each comment), or exit 1 and the FATAL line (its start in each comment).
"""

import pytest

from datalayer.timescaledb.catalogue import catalogue, judge, lookup, memory_bytes, unknown_name

ACCEPTED_BY_POSTGRESQL_17 = [
    ("shared_buffers", "128kB"),  # 16
    ("shared_buffers", "1GB"),  # 131072
    ("shared_buffers", "1.5GB"),  # 196608
    ("shared_buffers", "1 GB"),  # 131072
    ("shared_buffers", "1TB"),  # 134217728
    ("work_mem", "64kB"),  # 64
    ("work_mem", "65536B"),  # 64
    ("max_connections", "100.4"),  # 100
    ("statement_timeout", "30s"),  # 30000
    ("statement_timeout", "1.5s"),  # 1500
    ("statement_timeout", "30"),  # 30
    ("statement_timeout", "500us"),  # 0
    ("statement_timeout", "1d"),  # 86400000
    ("statement_timeout", "30 s"),  # 30000
    ("log_min_duration_statement", "-1"),  # -1
    ("log_min_duration_statement", "1s"),  # 1000
    ("vacuum_cost_delay", "0.5ms"),  # 0.5
    ("vacuum_cost_delay", "100"),  # 100
    ("random_page_cost", "1.1"),  # 1.1
    ("enable_seqscan", "of"),  # off
    ("enable_seqscan", "tru"),  # on
    ("enable_seqscan", "YES"),  # on
    ("enable_seqscan", "1"),  # on
    ("synchronous_commit", "ON"),  # on
    ("synchronous_commit", "remote_apply"),  # remote_apply
    ("wal_level", "logical"),  # logical
    ("wal_level", "Logical"),  # logical
    ("huge_pages", "try"),  # try
    ("log_statement", "ddl"),  # ddl
    ("checkpoint_completion_target", "0.9"),  # 0.9
    ("max_wal_size", "1GB"),  # 1024
    ("min_wal_size", "31MB"),  # 31
    ("archive_timeout", "60"),  # 60
    ("archive_timeout", "5min"),  # 300
    ("archive_timeout", "1.5min"),  # 90
    ("log_temp_files", "0"),  # 0
    ("log_temp_files", "10MB"),  # 10240
]

REFUSED_BY_POSTGRESQL_17 = [
    ("shared_buffers", "16kB"),  # 2 8kB is outside the valid range for parameter "shared_buffe
    ("shared_buffers", "1gb"),  # invalid value for parameter "shared_buffers": "1gb"
    ("shared_buffers", "08"),  # invalid value for parameter "shared_buffers": "08"
    ("shared_buffers", "-1"),  # -1 8kB is outside the valid range for parameter "shared_buffer
    ("shared_buffers", "10TB"),  # 1342177280 8kB is outside the valid range for parameter "sha
    ("shared_buffers", "64ms"),  # invalid value for parameter "shared_buffers": "64ms"
    ("work_mem", "63kB"),  # 63 kB is outside the valid range for parameter "work_mem" (64 kB .
    ("work_mem", "1000B"),  # 1 kB is outside the valid range for parameter "work_mem" (64 kB .
    ("work_mem", "banana"),  # invalid value for parameter "work_mem": "banana"
    ("max_connections", "10000000"),  # 10000000 is outside the valid range for parameter "max_
    ("max_connections", "10MB"),  # invalid value for parameter "max_connections": "10MB"
    ("statement_timeout", "25d"),  # invalid value for parameter "statement_timeout": "25d"
    ("statement_timeout", "30sec"),  # invalid value for parameter "statement_timeout": "30sec"
    ("log_min_duration_statement", "banana"),  # invalid value for parameter "log_min_duration_
    ("vacuum_cost_delay", "200ms"),  # 200 ms is outside the valid range for parameter "vacuum_
    ("vacuum_cost_delay", "1s"),  # 1000 ms is outside the valid range for parameter "vacuum_co
    ("vacuum_cost_delay", "2min"),  # 120000 ms is outside the valid range for parameter "vacuu
    ("random_page_cost", "-1"),  # -1 is outside the valid range for parameter "random_page_cos
    ("random_page_cost", "1.1kB"),  # invalid value for parameter "random_page_cost": "1.1kB"
    ("enable_seqscan", "o"),  # parameter "enable_seqscan" requires a Boolean value
    ("enable_seqscan", "2"),  # parameter "enable_seqscan" requires a Boolean value
    ("synchronous_commit", "banana"),  # invalid value for parameter "synchronous_commit": "ban
    ("checkpoint_completion_target", "1.5"),  # 1.5 is outside the valid range for parameter "c
    ("max_wal_size", "1"),  # 1 MB is outside the valid range for parameter "max_wal_size" (2 M
    ("effective_io_concurrency", "1001"),  # 1001 is outside the valid range for parameter "eff
    ("server_version_num", "170012"),  # parameter "server_version_num" cannot be changed
]


@pytest.mark.parametrize(("name", "text"), ACCEPTED_BY_POSTGRESQL_17)
def test_value_postgresql_accepts_is_accepted(name: str, text: str) -> None:
    setting = lookup(17, name)
    assert setting is not None
    judge(setting, text)


@pytest.mark.parametrize(("name", "text"), REFUSED_BY_POSTGRESQL_17)
def test_value_postgresql_refuses_is_refused(name: str, text: str) -> None:
    setting = lookup(17, name)
    assert setting is not None
    with pytest.raises(ValueError):
        judge(setting, text)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        # PostgreSQL 17.12 reads each as a count of the setting's unit (16 pages of 8kB, 64kB);
        # the spec asks for the unit, so that nobody writes 65536 meaning bytes.
        ("shared_buffers", "0x10"),
        ("shared_buffers", "020"),
        ("shared_buffers", "1e3"),
        ("work_mem", "64"),
    ],
)
def test_memory_size_without_unit_is_refused_though_postgresql_reads_it(
    name: str, text: str
) -> None:
    setting = lookup(17, name)
    assert setting is not None
    with pytest.raises(ValueError, match="needs a unit"):
        judge(setting, text)


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("shared_buffers", "1.5GB", 196608 * 8192),  # postgres -C shared_buffers: 196608
        ("shared_buffers", "1 GB", 131072 * 8192),  # 131072
        ("work_mem", "65536B", 64 * 1024),  # 64
        ("max_wal_size", "1GB", 1024 * 1024 * 1024),  # 1024 (MB)
    ],
)
def test_memory_bytes_are_what_postgresql_reads(name: str, text: str, expected: int) -> None:
    assert memory_bytes(17, name, text) == expected


@pytest.mark.parametrize("version", [15, 16, 17, 18])
def test_every_supported_version_has_a_catalogue(version: int) -> None:
    setting = lookup(version, "max_connections")
    assert setting is not None
    assert (setting.min_val, setting.max_val, setting.context) == ("1", "262143", "postmaster")


@pytest.mark.parametrize(
    ("version", "name", "known"),
    [
        (15, "allow_alter_system", False),  # added in PostgreSQL 17
        (17, "allow_alter_system", True),
        (15, "reserved_connections", False),  # added in PostgreSQL 16
        (16, "reserved_connections", True),
        (18, "io_method", True),  # added in PostgreSQL 18
        (17, "io_method", False),
    ],
)
def test_names_follow_the_major_version(version: int, name: str, known: bool) -> None:
    assert (lookup(version, name) is not None) is known


def test_names_match_in_any_case() -> None:
    setting = lookup(17, "timezone")
    assert setting is not None
    assert setting.name == "TimeZone"


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [("wrk_mem", "work_mem"), ("timescaledb.max_background_worker", "max_background_workers")],
)
def test_unknown_name_suggests_the_nearest(name: str, suggestion: str) -> None:
    assert f"did you mean {'timescaledb.' if '.' in name else ''}{suggestion}" in unknown_name(
        17, name
    )


def test_timescaledb_settings_are_known_on_every_version() -> None:
    # pg18.json (TimescaleDB 2.31.0): timescaledb.max_background_workers, postmaster.
    setting = lookup(15, "timescaledb.max_background_workers")
    assert setting is not None
    assert setting.context == "postmaster"


def test_boolean_is_not_a_number() -> None:
    setting = lookup(17, "max_parallel_workers")
    assert setting is not None
    with pytest.raises(ValueError, match="is a boolean"):
        judge(setting, True)


@pytest.mark.parametrize("version", [15, 16, 17, 18])
def test_every_unit_of_the_catalogue_is_one_the_parser_knows(version: int) -> None:
    # guc.c's unit tables: memory counted in B, kB, 8kB blocks or MB; time in ms, s or min.
    units = {setting.unit for setting in catalogue(version).settings.values()} - {None}
    assert units <= {"B", "kB", "8kB", "MB", "ms", "s", "min"}
