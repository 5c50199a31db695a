"""The SQL files under sql/ follow the conventions the post-provision hooks rely on.

The checks are ``datalayer.hooks.sql_conventions``'s (each shown rejecting bad examples in
test_sql_conventions.py); here they run over the repository's own migrations and continuous
aggregates.
"""

from pathlib import Path

import pytest

from datalayer.hooks.sql_conventions import (
    aggregate_problems,
    created_hypertables,
    created_schemas,
    hypertable_problems,
    migration_problems,
    version_problems,
)
from datalayer.paths import SQL_DIRECTORY

MIGRATIONS = sorted((SQL_DIRECTORY / "migrations").iterdir())
AGGREGATES = sorted((SQL_DIRECTORY / "continuous_aggregates").iterdir())
MIGRATION_TEXTS = [path.read_text() for path in MIGRATIONS]


def test_migration_files_are_numbered_without_gaps() -> None:
    assert MIGRATIONS, "sql/migrations holds no file"
    assert version_problems([path.name for path in MIGRATIONS]) == []


@pytest.mark.parametrize("path", MIGRATIONS, ids=lambda path: path.name)
def test_migration_follows_the_runner_conventions(path: Path) -> None:
    assert migration_problems(path.read_text()) == []


def test_hypertables_are_created_the_agreed_way() -> None:
    assert hypertable_problems(MIGRATION_TEXTS) == []


def test_the_seeds_hypertables_exist() -> None:
    assert {"market_data.candles", "derived.indicators", "derived.signals"} <= (
        created_hypertables(MIGRATION_TEXTS)
    )


@pytest.mark.parametrize("path", AGGREGATES, ids=lambda path: path.name)
def test_continuous_aggregate_file_is_one_complete_statement(path: Path) -> None:
    assert (
        aggregate_problems(
            path.name,
            path.read_text(),
            created_schemas(MIGRATION_TEXTS),
            created_hypertables(MIGRATION_TEXTS),
        )
        == []
    )


def test_the_daily_candle_rollup_exists() -> None:
    # The environment specs name it (its refresh policy); the seeds keep a daily OHLCV rollup.
    assert "market_data.candles_daily.sql" in [path.name for path in AGGREGATES]
