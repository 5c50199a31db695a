"""tune() against timescaledb-tune's own test tables (github.com/timescale/timescaledb-tune).

Tables cite the Go test they come from (pkg/pgtune/*_test.go); inputs and expected values are
the Go test's, so a disagreement means this port, not the expectation, is wrong.
"""

import re

import pytest

from datalayer.tuning import HostResources, StorageType, tune
from datalayer.units import GIGABYTE, MEGABYTE

GB = GIGABYTE
MB = MEGABYTE


def tuned(
    memory: int,
    cpus: int = 4,
    *,
    max_connections: int = 100,
    pg_major: int = 17,
    storage: StorageType = StorageType.SSD,
    wal_disk: int | None = None,
) -> dict[str, str]:
    return tune(
        HostResources(memory, cpus, storage, wal_disk),
        max_connections=max_connections,
        pg_major=pg_major,
    )


# memory_test.go, defaultMemoryToBaseVals: unaffected by CPUs and connections.
MEMORY_BASE = [
    (10 * GB, "2560MB", "7680MB", "1280MB"),
    (12 * GB, "3GB", "9GB", "1536MB"),
    (32 * GB, "8GB", "24GB", "2047MB"),
]


@pytest.mark.parametrize("cpus", [1, 4, 5, 9000])
@pytest.mark.parametrize(
    ("memory", "shared_buffers", "effective_cache_size", "maintenance_work_mem"), MEMORY_BASE
)
def test_memory_settings_depend_on_memory_only(
    memory: int,
    shared_buffers: str,
    effective_cache_size: str,
    maintenance_work_mem: str,
    cpus: int,
) -> None:
    settings = tuned(memory, cpus)
    assert settings["shared_buffers"] == shared_buffers
    assert settings["effective_cache_size"] == effective_cache_size
    assert settings["maintenance_work_mem"] == maintenance_work_mem


# memory_test.go, init(): work_mem = base / (conns / 20) / round(cpus / 2), at least 64kB, with
# base 200MB, 240MB, 640MB for 10GB, 12GB, 32GB (cpuVals x connVals; conns 0 means the default
# of 100, which is how the rows for 100 are written here).
WORK_MEM = [
    (10 * GB, 1, ["215578kB", "200MB", "80MB", "40MB"]),
    (10 * GB, 4, ["107789kB", "100MB", "40MB", "20MB"]),
    (10 * GB, 5, ["71859kB", "68266kB", "27306kB", "13653kB"]),
    (10 * GB, 9000, ["64kB", "64kB", "64kB", "64kB"]),
    (12 * GB, 1, ["258694kB", "240MB", "96MB", "48MB"]),
    (12 * GB, 4, ["129347kB", "120MB", "48MB", "24MB"]),
    (12 * GB, 5, ["86231kB", "80MB", "32MB", "16MB"]),
    (12 * GB, 9000, ["64kB", "64kB", "64kB", "64kB"]),
    (32 * GB, 1, ["689852kB", "640MB", "256MB", "128MB"]),
    (32 * GB, 4, ["344926kB", "320MB", "128MB", "64MB"]),
    (32 * GB, 5, ["229950kB", "218453kB", "87381kB", "43690kB"]),
    (32 * GB, 9000, ["153kB", "146kB", "64kB", "64kB"]),
]


@pytest.mark.parametrize(
    ("memory", "cpus", "max_connections", "work_mem"),
    [
        (memory, cpus, conns, expected)
        for memory, cpus, row in WORK_MEM
        for conns, expected in zip([19, 20, 50, 100], row, strict=True)
    ],
)
def test_work_mem_shares_memory_among_connections_and_cpu_pairs(
    memory: int, cpus: int, max_connections: int, work_mem: str
) -> None:
    assert tuned(memory, cpus, max_connections=max_connections)["work_mem"] == work_mem


def test_work_mem_for_a_2_to_1_instance_is_16mb() -> None:
    # timescaledb-tune PR #149, which set workMemPerGigPerConn to 20: "8GB / 4 vCPU / 100 conns
    # -> 16MB".
    assert tuned(8 * GB, 4, max_connections=100)["work_mem"] == "16MB"


# The same formulas at the sizes this project deploys (worked by hand from memory.go: 1/4,
# 3/4, 128MB per GB up to 2047MB, 400MB per GB / connections / CPU pairs).
@pytest.mark.parametrize(
    ("memory", "cpus", "max_connections", "expected"),
    [
        (1 * GB, 1, 25, ("256MB", "768MB", "128MB", "16MB")),
        (2 * GB, 2, 50, ("512MB", "1536MB", "256MB", "16MB")),
        (8 * GB, 4, 100, ("2GB", "6GB", "1GB", "16MB")),
        (64 * GB, 16, 100, ("16GB", "48GB", "2047MB", "32MB")),
        (256 * GB, 64, 500, ("64GB", "192GB", "2047MB", "6553kB")),
    ],
)
def test_memory_settings_across_host_sizes(
    memory: int, cpus: int, max_connections: int, expected: tuple[str, str, str, str]
) -> None:
    settings = tuned(memory, cpus, max_connections=max_connections)
    names = ("shared_buffers", "effective_cache_size", "maintenance_work_mem", "work_mem")
    assert tuple(settings[name] for name in names) == expected


PARALLEL_KEYS = (
    "timescaledb.max_background_workers",
    "max_worker_processes",
    "max_parallel_workers_per_gather",
    "max_parallel_workers",
)


# parallel_test.go, parallelSettingsMatrix at MaxBackgroundWorkersDefault (2, 4 and 5 CPUs);
# 8, 16 and 64 CPUs apply the same formula (3 built-ins + 16 workers + CPUs; round(CPUs / 2)).
@pytest.mark.parametrize(
    ("cpus", "expected"),
    [
        (2, ("16", "21", "1", "2")),
        (4, ("16", "23", "2", "4")),
        (5, ("16", "24", "3", "5")),
        (8, ("16", "27", "4", "8")),
        (16, ("16", "35", "8", "16")),
        (64, ("16", "83", "32", "64")),
    ],
)
def test_parallelism_follows_cpus(cpus: int, expected: tuple[str, str, str, str]) -> None:
    settings = tuned(8 * GB, cpus)
    assert tuple(settings[name] for name in PARALLEL_KEYS) == expected


def test_single_cpu_gets_no_parallelism_settings() -> None:
    # parallel_test.go, TestParallelRecommenderIsAvailable: unavailable for 1 CPU, so
    # timescaledb-tune leaves the whole group alone.
    assert not set(PARALLEL_KEYS) & tuned(8 * GB, 1).keys()


# wal_test.go, memoryToWALBuffers.
@pytest.mark.parametrize(
    ("memory", "wal_buffers"),
    [(1 * GB, "7864kB"), (int(1.5 * GB), "11796kB"), (2 * GB, "16MB"), (10 * GB, "16MB")],
)
def test_wal_buffers_grow_with_memory_up_to_16mb(memory: int, wal_buffers: str) -> None:
    assert tuned(memory)["wal_buffers"] == wal_buffers


# wal_test.go, walDiskToMaxBytes (walDiskUnset, walDiskDivideUnevenly, walDiskDivideEvenly);
# min_wal_size is half of max_wal_size. 100GB is issue #67's example (30GB / 60GB).
@pytest.mark.parametrize(
    ("wal_disk", "min_wal_size", "max_wal_size"),
    [
        (None, "512MB", "1GB"),
        (8 * GB, "2464MB", "4928MB"),  # 60% rounded up to a 16MB segment
        (8800 * MB, "2640MB", "5280MB"),
        (100 * GB, "30GB", "60GB"),
    ],
)
def test_wal_size_is_60_percent_of_the_wal_disk(
    wal_disk: int | None, min_wal_size: str, max_wal_size: str
) -> None:
    settings = tuned(8 * GB, wal_disk=wal_disk)
    assert (settings["min_wal_size"], settings["max_wal_size"]) == (min_wal_size, max_wal_size)


# misc_test.go, memoryToLocks with maxLocksValues 128, 256, 512, 1024.
@pytest.mark.parametrize(
    ("memory", "locks"),
    [
        (7 * GB, "128"),
        (8 * GB, "256"),
        (15 * GB, "256"),
        (16 * GB, "512"),
        (24 * GB, "512"),
        (32 * GB, "1024"),
        (80 * GB, "1024"),
    ],
)
def test_max_locks_per_transaction_doubles_with_memory(memory: int, locks: str) -> None:
    assert tuned(memory)["max_locks_per_transaction"] == locks


# misc_test.go, miscSettingsMatrix: the constants of the default profile.
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("default_statistics_target", "100"),
        ("random_page_cost", "1.1"),
        ("checkpoint_completion_target", "0.9"),
        ("autovacuum_max_workers", "10"),
        ("autovacuum_naptime", "10"),
    ],
)
def test_constant_settings(name: str, value: str) -> None:
    assert tuned(8 * GB)[name] == value


# misc_test.go, TestGetEffectiveIOConcurrency (PostgreSQL 13 changed the setting's meaning).
@pytest.mark.parametrize(
    ("pg_major", "value"), [(10, "200"), (11, "200"), (12, "200"), (13, "256"), (15, "256")]
)
def test_effective_io_concurrency_depends_on_version(pg_major: int, value: str) -> None:
    assert tuned(8 * GB, pg_major=pg_major)["effective_io_concurrency"] == value


# misc_test.go, TestDefaultToastCompression.
@pytest.mark.parametrize(
    ("pg_major", "value"),
    [(10, None), (11, None), (12, None), (13, None), (14, "lz4"), (17, "lz4"), (18, "lz4")],
)
def test_toast_compression_is_lz4_from_postgresql_14(pg_major: int, value: str | None) -> None:
    assert tuned(8 * GB, pg_major=pg_major).get("default_toast_compression") == value


# misc_test.go, TestJIT.
@pytest.mark.parametrize(
    ("pg_major", "value"), [(10, None), (11, None), (12, "off"), (16, "off"), (18, "off")]
)
def test_jit_is_off_from_postgresql_12(pg_major: int, value: str | None) -> None:
    assert tuned(8 * GB, pg_major=pg_major).get("jit") == value


def test_complete_recommendation_for_8gb_and_4_cpus() -> None:
    assert tuned(8 * GB, 4, max_connections=100, pg_major=17) == {
        "shared_buffers": "2GB",
        "effective_cache_size": "6GB",
        "maintenance_work_mem": "1GB",
        "work_mem": "16MB",
        "timescaledb.max_background_workers": "16",
        "max_worker_processes": "23",
        "max_parallel_workers_per_gather": "2",
        "max_parallel_workers": "4",
        "wal_buffers": "16MB",
        "min_wal_size": "512MB",
        "max_wal_size": "1GB",
        "default_statistics_target": "100",
        "random_page_cost": "1.1",
        "checkpoint_completion_target": "0.9",
        "max_locks_per_transaction": "256",
        "autovacuum_max_workers": "10",
        "autovacuum_naptime": "10",
        "effective_io_concurrency": "256",
        "default_toast_compression": "lz4",
        "jit": "off",
    }


def test_max_connections_is_left_to_the_caller() -> None:
    assert "max_connections" not in tuned(8 * GB, max_connections=200)


# Not in timescaledb-tune, which assumes SSD: HDD values are PostgreSQL's and pgtune's for
# spinning disks, NETWORK values pgtune's SAN profile.
@pytest.mark.parametrize(
    ("storage", "random_page_cost", "effective_io_concurrency"),
    [
        (StorageType.SSD, "1.1", "256"),
        (StorageType.HDD, "4", "2"),
        (StorageType.NETWORK, "1.1", "300"),
    ],
)
def test_storage_sets_planner_io_costs(
    storage: StorageType, random_page_cost: str, effective_io_concurrency: str
) -> None:
    settings = tuned(8 * GB, storage=storage)
    assert settings["random_page_cost"] == random_page_cost
    assert settings["effective_io_concurrency"] == effective_io_concurrency


@pytest.mark.parametrize("storage", [StorageType.HDD, StorageType.NETWORK])
def test_storage_changes_nothing_but_planner_io_costs(storage: StorageType) -> None:
    ssd, other = tuned(8 * GB), tuned(8 * GB, storage=storage)
    changed = {name for name in ssd.keys() | other.keys() if ssd.get(name) != other.get(name)}
    assert changed <= {"random_page_cost", "effective_io_concurrency"}


def test_hdd_effective_io_concurrency_does_not_depend_on_version() -> None:
    assert tuned(8 * GB, pg_major=12, storage=StorageType.HDD)["effective_io_concurrency"] == "2"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"memory_bytes": 0, "cpus": 2}, "memory_bytes must be positive, got 0"),
        ({"memory_bytes": -GB, "cpus": 2}, f"memory_bytes must be positive, got {-GB}"),
        ({"memory_bytes": GB, "cpus": 0}, "cpus must be positive, got 0"),
        ({"memory_bytes": GB, "cpus": -2}, "cpus must be positive, got -2"),
        ({"memory_bytes": GB, "cpus": 2, "wal_disk_bytes": 0}, "wal_disk_bytes must be positive"),
    ],
)
def test_invalid_resources_are_refused(fields: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        HostResources(**fields)  # type: ignore[arg-type]


def test_zero_max_connections_is_refused() -> None:
    with pytest.raises(ValueError, match="max_connections must be at least 1, got 0"):
        tuned(8 * GB, max_connections=0)


def test_postgresql_before_10_is_refused() -> None:
    with pytest.raises(ValueError, match="pg_major must be 10 or later, got 9"):
        tuned(8 * GB, pg_major=9)
