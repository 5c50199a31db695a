"""PostgreSQL settings for a host's resources, by timescaledb-tune's published formulas.

The same environment is deployed as Pulumi-managed containers and as pyinfra-managed droplets.
Running timescaledb-tune on each target would make the numbers depend on what that target
happens to report (a container sees the whole machine's memory) and on which tool version is
installed there. Tuning is therefore a pure function of declared resources, evaluated on the
control machine: both deploy paths get identical values, a plan shows them before anything
changes, and a test can pin them. The environment spec may override any key it returns.

The formulas are those of the default profile of timescaledb-tune's ``pkg/pgtune`` package
(github.com/timescale/timescaledb-tune, release 0.18 plus PR #149, which raised work_mem), on
Linux. Each value is the exact text the tool writes, so the output can be compared with a
``timescaledb-tune --dry-run`` line for line. timescaledb-tune assumes SSD storage; the only
departures are random_page_cost and effective_io_concurrency for other storage kinds.
"""

from dataclasses import dataclass
from enum import StrEnum

from datalayer.units import GIGABYTE, KILOBYTE, MEGABYTE, format_pg_memory


class StorageType(StrEnum):
    """Kind of disk the data directory lives on; only planner I/O costs depend on it."""

    SSD = "ssd"
    HDD = "hdd"
    NETWORK = "network"


@dataclass(frozen=True)
class HostResources:
    """What the host gives PostgreSQL: the inputs of timescaledb-tune's --memory, --cpus and
    --wal-disk-size flags, plus the storage kind it does not ask for."""

    memory_bytes: int
    cpus: int
    storage: StorageType = StorageType.SSD
    wal_disk_bytes: int | None = None

    def __post_init__(self) -> None:
        if self.memory_bytes <= 0:
            raise ValueError(f"memory_bytes must be positive, got {self.memory_bytes!r}")
        if self.cpus <= 0:
            raise ValueError(f"cpus must be positive, got {self.cpus!r}")
        if self.wal_disk_bytes is not None and self.wal_disk_bytes <= 0:
            raise ValueError(
                f"wal_disk_bytes must be positive or None, got {self.wal_disk_bytes!r}"
            )


# memory.go
_BASE_CONNS = 20
_WORK_MEM_PER_GIG_PER_CONN = 20.0 * _BASE_CONNS  # PR #149: 20MB per GB for each of 20 connections
_WORK_MEM_MIN = 64 * KILOBYTE  # PostgreSQL refuses a smaller work_mem
_MAINTENANCE_WORK_MEM_LIMIT = 2047 * MEGABYTE

# parallel.go and misc.go
_MIN_BUILT_IN_PROCESSES = 3  # checkpointer, WAL writer, autovacuum launcher
_MAX_BACKGROUND_WORKERS = 16  # MaxBackgroundWorkersDefault, the --max-bg-workers default

# wal.go
_WAL_BUFFERS_THRESHOLD = 2 * GIGABYTE
_WAL_BUFFERS_DEFAULT = 16 * MEGABYTE
_DEFAULT_MAX_WAL_BYTES = 1 * GIGABYTE
_WAL_MAX_DISK_PCT = 60
_WAL_SEGMENT_BYTES = 16 * MEGABYTE

# Planner I/O costs for storage timescaledb-tune does not know (it assumes SSD).
# HDD: PostgreSQL's random_page_cost default of 4, which its documentation ties to magnetic
# disks, and effective_io_concurrency 2: the documentation's starting point is the number of
# drives in the RAID 0 stripe or RAID 1 mirror, and pgtune (le0pard/pgtune,
# configurationSlice.js) uses 2 for HDD.
# NETWORK (DigitalOcean Volumes, EBS): SSD-backed, so a random page costs about what a sequential
# one does, but each request pays a network round trip, so more must be in flight to keep the
# volume busy. pgtune's SAN profile says exactly that: random_page_cost 1.1, as for SSD, and
# effective_io_concurrency 300, above the SSD value.
_RANDOM_PAGE_COST = {StorageType.SSD: "1.1", StorageType.HDD: "4", StorageType.NETWORK: "1.1"}
_EFFECTIVE_IO_CONCURRENCY = {StorageType.HDD: "2", StorageType.NETWORK: "300"}


def tune(resources: HostResources, *, max_connections: int, pg_major: int) -> dict[str, str]:
    """Setting name to postgresql.conf value for ``resources``, as timescaledb-tune computes it.

    ``max_connections`` is timescaledb-tune's --max-conns: it sizes work_mem but is not returned,
    since the caller writes it. The parallelism settings are left out on a single CPU, exactly as
    timescaledb-tune skips that group; PostgreSQL's defaults then apply.
    """
    if max_connections < 1:
        raise ValueError(f"max_connections must be at least 1, got {max_connections!r}")
    if pg_major < 10:
        raise ValueError(f"pg_major must be 10 or later, got {pg_major!r}")
    return (
        _memory(resources.memory_bytes, resources.cpus, max_connections)
        | _parallelism(resources.cpus)
        | _wal(resources.memory_bytes, resources.wal_disk_bytes)
        | _miscellaneous(resources.memory_bytes, resources.storage, pg_major)
    )


def _memory(memory: int, cpus: int, max_connections: int) -> dict[str, str]:
    # Float arithmetic in Go's order, so that truncation lands on the same byte.
    gigs = float(memory) / GIGABYTE
    # MemoryRecommender.Recommend: 128MB per GB of memory, at most 2047MB.
    maintenance_work_mem = min(gigs * (128.0 * MEGABYTE), float(_MAINTENANCE_WORK_MEM_LIMIT))
    # MemoryRecommender.Recommend: CPUs count in pairs, math.Round(cpus / 2.0).
    cpu_factor = (cpus + 1) // 2
    # MemoryRecommender.Recommend: memory per connection and CPU pair, at least 64kB.
    work_mem = int(gigs * (_WORK_MEM_PER_GIG_PER_CONN * MEGABYTE / max_connections) / cpu_factor)
    return {
        # MemoryRecommender.Recommend: a quarter of memory.
        "shared_buffers": format_pg_memory(memory // 4),
        # MemoryRecommender.Recommend: three quarters of memory.
        "effective_cache_size": format_pg_memory(memory * 3 // 4),
        "maintenance_work_mem": format_pg_memory(int(maintenance_work_mem)),
        "work_mem": format_pg_memory(max(work_mem, _WORK_MEM_MIN)),
    }


def _parallelism(cpus: int) -> dict[str, str]:
    # ParallelRecommender.IsAvailable: no parallelism recommendations for one CPU.
    if cpus <= 1:
        return {}
    return {
        # ParallelRecommender.Recommend: the --max-bg-workers default.
        "timescaledb.max_background_workers": str(_MAX_BACKGROUND_WORKERS),
        # ParallelRecommender.Recommend: built-ins + TimescaleDB workers + one per CPU.
        "max_worker_processes": str(_MIN_BUILT_IN_PROCESSES + _MAX_BACKGROUND_WORKERS + cpus),
        # ParallelRecommender.Recommend: math.Round(cpus / 2.0).
        "max_parallel_workers_per_gather": str((cpus + 1) // 2),
        # ParallelRecommender.Recommend: one per CPU (PostgreSQL 10+).
        "max_parallel_workers": str(cpus),
    }


def _wal(memory: int, wal_disk: int | None) -> dict[str, str]:
    # WALRecommender.Recommend: 7864kB per GB below 2GB of memory, else 16MB.
    if memory < _WAL_BUFFERS_THRESHOLD:
        wal_buffers = int(float(memory) / GIGABYTE * (7864.0 * KILOBYTE))
    else:
        wal_buffers = _WAL_BUFFERS_DEFAULT
    max_wal = _max_wal_bytes(wal_disk)
    return {
        "wal_buffers": format_pg_memory(wal_buffers),
        # WALRecommender.Recommend: half of max_wal_size.
        "min_wal_size": format_pg_memory(max_wal // 2),
        "max_wal_size": format_pg_memory(max_wal),
    }


def _max_wal_bytes(wal_disk: int | None) -> int:
    # WALRecommender.calcMaxWALBytes: 1GB without a WAL disk size, else 60% of it rounded up to
    # a whole 16MB WAL segment.
    if wal_disk is None:
        return _DEFAULT_MAX_WAL_BYTES
    share = wal_disk * _WAL_MAX_DISK_PCT // 100
    return -(-share // _WAL_SEGMENT_BYTES) * _WAL_SEGMENT_BYTES


def _miscellaneous(memory: int, storage: StorageType, pg_major: int) -> dict[str, str]:
    settings = {
        # MiscRecommender.Recommend: statsTargetDefault.
        "default_statistics_target": "100",
        # MiscRecommender.Recommend: randomPageCostDefault for SSD; see _RANDOM_PAGE_COST.
        "random_page_cost": _RANDOM_PAGE_COST[storage],
        # MiscRecommender.Recommend: checkpointDefault.
        "checkpoint_completion_target": "0.9",
        "max_locks_per_transaction": _max_locks_per_transaction(memory),
        # MiscRecommender.Recommend: autovacuumMaxWorkersDefault.
        "autovacuum_max_workers": "10",
        # MiscRecommender.Recommend: autovacuumNaptimeDefault (seconds, written without unit).
        "autovacuum_naptime": "10",
        "effective_io_concurrency": _effective_io_concurrency(storage, pg_major),
    }
    # MiscRecommender.Recommend: lz4 TOAST compression where PostgreSQL has it (14+).
    if pg_major >= 14:
        settings["default_toast_compression"] = "lz4"
    # MiscRecommender.Recommend: JIT off from PostgreSQL 12, where it became on by default.
    if pg_major >= 12:
        settings["jit"] = "off"
    return settings


def _effective_io_concurrency(storage: StorageType, pg_major: int) -> str:
    if storage in _EFFECTIVE_IO_CONCURRENCY:
        return _EFFECTIVE_IO_CONCURRENCY[storage]
    # getEffectiveIOConcurrency: PostgreSQL 13 changed the meaning of the value; 256 is the
    # recommendation for SSDs timescaledb-tune adopted from Bruce Momjian for the new meaning.
    return "200" if pg_major <= 12 else "256"


def _max_locks_per_transaction(memory: int) -> str:
    # MiscRecommender.Recommend(MaxLocksPerTxKey): 128, doubling at 8GB, 16GB and 32GB.
    for limit, locks in ((32 * GIGABYTE, "1024"), (16 * GIGABYTE, "512"), (8 * GIGABYTE, "256")):
        if memory >= limit:
            return locks
    return "128"
