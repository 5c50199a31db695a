"""The SQL files the hooks apply: ``sql/migrations`` and ``sql/continuous_aggregates``.

Also what can be read from them without a database: the schemas the migrations create and the
tables they make hypertables, so that a policy naming an unknown table is refused before any
change.
"""

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from datalayer.spec import SpecError

# The one rule for the files' names: read_sources applies it, and the SQL-conventions checks
# (datalayer.hooks.sql_conventions) apply it again to the whole set.
MIGRATION_FILE = re.compile(r"^(?P<version>[0-9]{4})_(?P<name>[a-z0-9]+(?:_[a-z0-9]+)*)\.sql$")
AGGREGATE_FILE = re.compile(r"^(?P<view>[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*)\.sql$")
_CREATE_SCHEMA = re.compile(r"\bCREATE\s+SCHEMA\s+([a-z_][a-z0-9_]*)", re.IGNORECASE)
_CREATE_HYPERTABLE = re.compile(
    r"\bcreate_hypertable\s*\(\s*'([a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*)'", re.IGNORECASE
)


@dataclass(frozen=True)
class SqlFile:
    """A file's name relative to the repository, its text and the text's SHA-256."""

    source: str
    text: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


@dataclass(frozen=True)
class Migration(SqlFile):
    version: str
    name: str


@dataclass(frozen=True)
class AggregateDefinition(SqlFile):
    view: str


@dataclass(frozen=True)
class SqlSources:
    """Everything under ``sql/`` the hooks use, in application order."""

    migrations: tuple[Migration, ...]
    aggregates: tuple[AggregateDefinition, ...]

    @property
    def schemas(self) -> tuple[str, ...]:
        """Schemas the migrations create, in order of creation."""
        found = (m.lower() for f in self.migrations for m in _CREATE_SCHEMA.findall(f.text))
        return tuple(dict.fromkeys(found))

    @property
    def hypertables(self) -> tuple[str, ...]:
        """Tables the migrations turn into hypertables."""
        found = (m.lower() for f in self.migrations for m in _CREATE_HYPERTABLE.findall(f.text))
        return tuple(dict.fromkeys(found))


def read_sources(directory: Path) -> SqlSources:
    """Read and check the names of every migration and continuous aggregate file."""
    migrations: list[Migration] = []
    for path in sorted((directory / "migrations").glob("*")):
        match = MIGRATION_FILE.match(path.name)
        if match is None:
            raise SpecError(
                f"{_relative(path)}: a migration file is named NNNN_description.sql "
                "(four digits, lower-case words joined by _)"
            )
        migrations.append(
            Migration(
                _relative(path), path.read_text(), match.group("version"), match.group("name")
            )
        )
    versions = [migration.version for migration in migrations]
    duplicated = sorted({version for version in versions if versions.count(version) > 1})
    if duplicated:
        raise SpecError(f"sql/migrations: version {duplicated[0]} is used by more than one file")
    aggregates: list[AggregateDefinition] = []
    for path in sorted((directory / "continuous_aggregates").glob("*")):
        match = AGGREGATE_FILE.match(path.name)
        if match is None:
            raise SpecError(
                f"{_relative(path)}: a continuous aggregate file is named <schema>.<view>.sql"
            )
        aggregates.append(AggregateDefinition(_relative(path), path.read_text(), match["view"]))
    return SqlSources(tuple(migrations), tuple(aggregates))


def _relative(path: Path) -> str:
    return f"{path.parent.parent.name}/{path.parent.name}/{path.name}"
