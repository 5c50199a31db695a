"""The SQL files under sql/ follow the conventions the post-provision hooks rely on.

The hooks apply each migration in its own transaction, as the owner role, after a superuser
created the extension, and create continuous aggregates only where the edition has them
(sql/README.md). These are pure checks of the files' text: names and contiguous versions; what a
migration must not contain (transaction control, roles and privileges, extensions, databases,
session settings, psql meta-commands, IF NOT EXISTS, the public schema, Community-only
TimescaleDB calls); schema-qualified names; hypertables created the agreed way without a
surrogate key; each continuous aggregate one complete statement. Every rule is also shown
rejecting a bad example, and code inside comments, strings and function bodies is shown not to
trip it, so that no check passes by accident.
"""

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from datalayer.paths import SQL_DIRECTORY

MIGRATIONS = sorted((SQL_DIRECTORY / "migrations").iterdir())
AGGREGATES = sorted((SQL_DIRECTORY / "continuous_aggregates").iterdir())
MIGRATION_FILE = re.compile(r"^(?P<version>[0-9]{4})_[a-z0-9]+(?:_[a-z0-9]+)*\.sql$")
AGGREGATE_FILE = re.compile(r"^(?P<view>[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*)\.sql$")
# The hooks keep their ledger in this schema; a migration must not create or touch it.
LEDGER_SCHEMA = "datalayer"
_NAME = r'(?:"[^"]+"|[A-Za-z_][A-Za-z0-9_$]*)'
_QUALIFIED = re.compile(rf"^{_NAME}\.{_NAME}")
_DOLLAR_QUOTE = re.compile(r"\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$")


# --- Reading SQL -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    """One statement: ``code`` without comments; ``masked`` also without literals' contents,
    so that words inside strings and function bodies do not count as SQL."""

    code: str
    masked: str
    line: int

    @property
    def words(self) -> str:
        """The masked text in upper case with whitespace collapsed, for keyword matching."""
        return " ".join(self.masked.upper().split())


def _blank(text: str) -> str:
    """Spaces for ``text``, keeping its newlines so that line numbers stay true."""
    return re.sub(r"[^\n]", " ", text)


def scan(text: str) -> tuple[str, str]:
    """(text without comments, the same with string and dollar-quoted contents blanked)."""
    code: list[str] = []
    masked: list[str] = []
    position = 0
    while position < len(text):
        if text.startswith("--", position):
            end = text.find("\n", position)
            end = len(text) if end == -1 else end
            code.append(_blank(text[position:end]))
            masked.append(_blank(text[position:end]))
            position = end
        elif text.startswith("/*", position):
            depth, end = 0, position
            while end < len(text):
                if text.startswith("/*", end):
                    depth, end = depth + 1, end + 2
                elif text.startswith("*/", end):
                    depth, end = depth - 1, end + 2
                    if depth == 0:
                        break
                else:
                    end += 1
            code.append(_blank(text[position:end]))
            masked.append(_blank(text[position:end]))
            position = end
        elif text[position] in "'\"":
            quote, end = text[position], position + 1
            while end < len(text):
                if text[end] == quote and text.startswith(quote * 2, end):
                    end += 2
                elif text[end] == quote:
                    break
                else:
                    end += 1
            closed = end < len(text)
            literal = text[position : end + 1]
            inside = literal[1:-1] if closed else literal[1:]
            code.append(literal)
            # A quoted identifier is a name, kept as one word (no space or semicolon in it); a
            # string's contents are data, blanked.
            masked.append(
                quote
                + (re.sub(r"[;\s]", "_", inside) if quote == '"' else _blank(inside))
                + (quote if closed else "")
            )
            position = end + 1
        elif (tag := _DOLLAR_QUOTE.match(text, position)) and not (
            position and (text[position - 1].isalnum() or text[position - 1] == "_")
        ):
            end = text.find(tag.group(), position + len(tag.group()))
            end = len(text) if end == -1 else end + len(tag.group())
            literal = text[position:end]
            code.append(literal)
            masked.append(tag.group() + _blank(literal[len(tag.group()) : -len(tag.group())]))
            masked.append(tag.group())
            position = end
        else:
            code.append(text[position])
            masked.append(text[position])
            position += 1
    return "".join(code), "".join(masked)


def statements(text: str) -> list[Statement]:
    """The statements of ``text``, split at semicolons outside comments and literals."""
    code, masked = scan(text)
    assert len(code) == len(masked), "scan must keep positions aligned"
    found = []
    start = 0
    for index, character in enumerate([*masked, ";"]):
        if character != ";":
            continue
        piece = masked[start:index]
        if piece.strip():
            offset = start + len(piece) - len(piece.lstrip())
            found.append(
                Statement(code[start:index].strip(), piece.strip(), code.count("\n", 0, offset) + 1)
            )
        start = index + 1
    return found


# --- The rules -------------------------------------------------------------------------------

# Statements a migration may not be: (pattern at the start of the statement, why).
_FORBIDDEN_STATEMENTS = (
    (r"(BEGIN|START TRANSACTION|COMMIT|END|ROLLBACK|ABORT|SAVEPOINT|RELEASE|PREPARE TRANSACTION)\b",
     "transaction control: the runner gives each file its own transaction"),
    (r"(GRANT|REVOKE)\b", "privileges are the hooks' job (default privileges)"),
    (r"(CREATE|ALTER|DROP) (ROLE|USER|GROUP)\b", "roles are the hooks' job"),
    (r"(REASSIGN|DROP) OWNED\b", "ownership is the hooks' job"),
    (r"(SET|RESET)\b", "a session setting would outlive the file in the runner's session"),
    (r"(CREATE|ALTER|DROP) EXTENSION\b", "a superuser creates the extension before migrations"),
    (r"(CREATE|ALTER|DROP) DATABASE\b", "migrations run inside the application database"),
    (r"(CREATE|ALTER|DROP) MATERIALIZED VIEW\b.*TIMESCALEDB\.CONTINUOUS",
     "continuous aggregates live in sql/continuous_aggregates"),
    (r"(VACUUM|CLUSTER|CHECKPOINT)\b", "cannot run inside the runner's transaction"),
)  # fmt: skip
# Words a migration may not contain anywhere outside comments and literals.
_FORBIDDEN_WORDS = (
    (r"\bOWNER TO\b", "ownership is the hooks' job"),
    (r"\bAUTHORIZATION\b", "ownership is the hooks' job"),
    (r"\bIF NOT EXISTS\b", "no IF NOT EXISTS: the ledger applies each file once"),
    (r"(\bPUBLIC|\"PUBLIC\")\s*\.", "the public schema is not used"),
    (r"\bTIMESCALEDB\.(COMPRESS|CONTINUOUS)\b", "compression and continuous aggregates are "
     "Community-only: the hooks and sql/continuous_aggregates own them"),
    (r"\b(ADD_COMPRESSION_POLICY|ADD_RETENTION_POLICY|ADD_CONTINUOUS_AGGREGATE_POLICY|"
     r"ADD_COLUMNSTORE_POLICY|COMPRESS_CHUNK|ADD_JOB)\s*\(",
     "policies are set by the hooks from the environment spec"),
)  # fmt: skip
# Statements that name the object they create or change, and the name that must be qualified.
_NAMED_OBJECTS = (
    r"CREATE (?:UNLOGGED )?TABLE (\S+)",
    r"CREATE TYPE (\S+)",
    r"CREATE (?:OR REPLACE )?(?:FUNCTION|PROCEDURE) ([^\s(]+)",
    r"CREATE (?:OR REPLACE )?(?:MATERIALIZED )?VIEW (\S+)",
    r"CREATE SEQUENCE (\S+)",
    r"CREATE DOMAIN (\S+)",
    r"CREATE (?:UNIQUE )?INDEX (?:CONCURRENTLY )?\S+ ON (?:ONLY )?([^\s(]+)",
    r"CREATE (?:CONSTRAINT )?TRIGGER \S+ .*? ON ([^\s(]+)",
    r"ALTER (?:TABLE|TYPE|FUNCTION|VIEW|SEQUENCE|DOMAIN) (?:IF EXISTS )?(?:ONLY )?([^\s(]+)",
    r"COMMENT ON (?:TABLE|COLUMN|TYPE|FUNCTION|VIEW|MATERIALIZED VIEW) ([^\s(]+)",
)
# Names anywhere in a statement that must be qualified.
_REFERENCES = (r"\bREFERENCES ([^\s(]+)", r"\bEXECUTE (?:FUNCTION|PROCEDURE) ([^\s(]+)")
_CREATE_SCHEMA = re.compile(rf"^CREATE SCHEMA ({_NAME})", re.IGNORECASE)
_CREATE_TABLE = re.compile(rf"^CREATE (?:UNLOGGED )?TABLE ({_NAME}\.{_NAME})", re.IGNORECASE)
_CREATE_HYPERTABLE = re.compile(r"\bcreate_hypertable\s*\(", re.IGNORECASE)
_AGREED_HYPERTABLE = re.compile(
    r"^SELECT create_hypertable\(\s*'(?P<table>[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*)',\s*"
    r"by_range\('(?P<column>[a-z_][a-z0-9_]*)',\s*INTERVAL '[^']+'\),\s*"
    r"create_default_indexes => false\s*\)$",
    re.IGNORECASE | re.DOTALL,
)
_SURROGATE = re.compile(
    r"\b(SMALLSERIAL|SERIAL|BIGSERIAL|SERIAL[248]|GENERATED (ALWAYS|BY DEFAULT) AS IDENTITY|"
    r"GEN_RANDOM_UUID|NEXTVAL)\b"
)
_AGGREGATE = re.compile(
    r"^CREATE MATERIALIZED VIEW (?P<view>\S+) WITH \( ?TIMESCALEDB\.CONTINUOUS ?\) AS SELECT "
    r".* FROM (?P<source>\S+) .*\bGROUP BY .*\bTIME_BUCKET ?\(.* WITH NO DATA$"
)


def _qualification_problem(name: str, what: str) -> str | None:
    if not _QUALIFIED.match(name):
        return f"{what} {name} is not schema-qualified"
    if name.split(".")[0].strip('"').lower() == "public":
        return f"{what} {name} is in the public schema"
    if name.split(".")[0].strip('"').lower() == LEDGER_SCHEMA:
        return f"{what} {name} is in the hooks' ledger schema {LEDGER_SCHEMA}"
    return None


def migration_problems(text: str) -> list[str]:
    """What in one migration file breaks the runner's conventions, with line numbers."""
    problems = []
    code, _ = scan(text)
    for number, line in enumerate(code.splitlines(), start=1):
        if line.lstrip().startswith("\\"):
            problems.append(f"line {number}: psql meta-command {line.strip()}")
    for statement in statements(text):
        words = statement.words
        where = f"line {statement.line}"
        for pattern, why in _FORBIDDEN_STATEMENTS:
            if re.match(pattern, words):
                problems.append(f"{where}: {words.split()[0]}...: {why}")
        for pattern, why in _FORBIDDEN_WORDS:
            if re.search(pattern, words):
                problems.append(f"{where}: {why}")
        original = " ".join(statement.masked.split())
        for pattern in _NAMED_OBJECTS:
            match = re.match(pattern, original, re.IGNORECASE)
            if match and (problem := _qualification_problem(match.group(1), "object")):
                problems.append(f"{where}: {problem}")
        for pattern in _REFERENCES:
            for name in re.findall(pattern, original, re.IGNORECASE):
                if problem := _qualification_problem(name, "reference to"):
                    problems.append(f"{where}: {problem}")
        schema = _CREATE_SCHEMA.match(original)
        if schema and schema.group(1).strip('"').lower() in ("public", LEDGER_SCHEMA):
            problems.append(f"{where}: schema {schema.group(1)} is not the migrations' to create")
    return problems


def hypertable_problems(texts: list[str]) -> list[str]:
    """Hypertables (over all migrations, in order) made with the agreed call, on a table an
    earlier statement created, whose CREATE TABLE has no surrogate key."""
    problems = []
    tables: dict[str, Statement] = {}
    for text in texts:
        for statement in statements(text):
            table = _CREATE_TABLE.match(" ".join(statement.masked.split()))
            if table:
                tables[table.group(1).lower()] = statement
            if not _CREATE_HYPERTABLE.search(statement.masked):
                continue
            call = _AGREED_HYPERTABLE.match(" ".join(statement.code.split()))
            if call is None:
                problems.append(
                    f"line {statement.line}: hypertables are made with SELECT create_hypertable("
                    "'schema.table', by_range('column', INTERVAL '...'), "
                    f"create_default_indexes => false): {' '.join(statement.code.split())}"
                )
                continue
            created = tables.get(call["table"].lower())
            if created is None:
                problems.append(f"{call['table']} is made a hypertable before it is created")
            elif surrogate := _SURROGATE.search(created.words):
                problems.append(
                    f"{call['table']} is a hypertable with a surrogate key ({surrogate.group()}): "
                    "key it by its natural key, which includes the time column"
                )
    return problems


def version_problems(names: list[str]) -> list[str]:
    """File names NNNN_description.sql with versions 0001, 0002, ... and no gap or repeat."""
    problems = [
        f"{name}: not NNNN_description.sql (lower-case words joined by _)"
        for name in names
        if not MIGRATION_FILE.match(name)
    ]
    versions = [int(match["version"]) for name in names if (match := MIGRATION_FILE.match(name))]
    if sorted(versions) != list(range(1, len(versions) + 1)):
        problems.append(f"versions are not 1..{len(versions)} once each: {sorted(versions)}")
    return problems


def aggregate_problems(
    file_name: str, text: str, schemas: set[str], hypertables: set[str]
) -> list[str]:
    """One continuous aggregate file: one complete CREATE MATERIALIZED VIEW ... WITH
    (timescaledb.continuous) AS SELECT ... GROUP BY time_bucket ... WITH NO DATA, named as the
    file, in a schema the migrations create, over a hypertable the migrations make."""
    name = AGGREGATE_FILE.match(file_name)
    if name is None:
        return [f"{file_name}: not <schema>.<view>.sql"]
    found = statements(text)
    if len(found) != 1:
        return [f"{file_name}: {len(found)} statements, not exactly one"]
    if not text.rstrip().endswith(";"):
        return [f"{file_name}: the statement does not end with a semicolon"]
    match = _AGGREGATE.match(found[0].words)
    if match is None:
        return [
            f"{file_name}: not CREATE MATERIALIZED VIEW schema.view WITH "
            "(timescaledb.continuous) AS SELECT ... FROM hypertable ... GROUP BY ... "
            "time_bucket(...) ... WITH NO DATA"
        ]
    problems = []
    view, source = match["view"].lower(), match["source"].lower()
    if view != name["view"]:
        problems.append(f"{file_name}: creates {view}, not {name['view']}")
    if view.split(".")[0] not in schemas:
        problems.append(f"{file_name}: schema {view.split('.')[0]} is not created by a migration")
    if source not in hypertables:
        problems.append(f"{file_name}: reads {source}, which no migration makes a hypertable")
    return problems


def created_schemas() -> set[str]:
    return {
        match.group(1).lower()
        for path in MIGRATIONS
        for statement in statements(path.read_text())
        if (match := _CREATE_SCHEMA.match(" ".join(statement.masked.split())))
    }


def created_hypertables() -> set[str]:
    return {
        match["table"].lower()
        for path in MIGRATIONS
        for statement in statements(path.read_text())
        if (match := _AGREED_HYPERTABLE.match(" ".join(statement.code.split())))
    }


# --- The real files --------------------------------------------------------------------------


def test_migration_files_are_numbered_without_gaps() -> None:
    assert MIGRATIONS, "sql/migrations holds no file"
    assert version_problems([path.name for path in MIGRATIONS]) == []


@pytest.mark.parametrize("path", MIGRATIONS, ids=lambda path: path.name)
def test_migration_follows_the_runner_conventions(path: Path) -> None:
    assert migration_problems(path.read_text()) == []


def test_hypertables_are_created_the_agreed_way() -> None:
    assert hypertable_problems([path.read_text() for path in MIGRATIONS]) == []


def test_the_seeds_hypertables_exist() -> None:
    assert {"market_data.candles", "derived.indicators", "derived.signals"} <= (
        created_hypertables()
    )


@pytest.mark.parametrize("path", AGGREGATES, ids=lambda path: path.name)
def test_continuous_aggregate_file_is_one_complete_statement(path: Path) -> None:
    assert (
        aggregate_problems(path.name, path.read_text(), created_schemas(), created_hypertables())
        == []
    )


def test_the_daily_candle_rollup_exists() -> None:
    # The environment specs name it (its refresh policy); the seeds keep a daily OHLCV rollup.
    assert "market_data.candles_daily.sql" in [path.name for path in AGGREGATES]


# --- The rules reject what they should, and only that ----------------------------------------

_CANDLES = (
    "CREATE TABLE m.c (ts timestamptz NOT NULL, x int, PRIMARY KEY (x, ts));\n"
    "SELECT create_hypertable('m.c', by_range('ts', INTERVAL '7 days'), "
    "create_default_indexes => false);\n"
)


@pytest.mark.parametrize(
    ("sql", "complaint"),
    [
        ("BEGIN;\nCREATE TABLE a.b (x int);\nCOMMIT;", "transaction control"),
        ("START TRANSACTION;", "transaction control"),
        ("CREATE TABLE a.b (x int);\nROLLBACK;", "transaction control"),
        ("GRANT SELECT ON a.b TO app;", "privileges"),
        ("REVOKE ALL ON SCHEMA a FROM PUBLIC;", "privileges"),
        ("ALTER TABLE a.b OWNER TO trading_owner;", "ownership"),
        ("CREATE SCHEMA a AUTHORIZATION trading_owner;", "ownership"),
        ("CREATE ROLE app LOGIN;", "roles"),
        ("SET ROLE trading_owner;", "session setting"),
        ("SET search_path = a;", "session setting"),
        ("CREATE EXTENSION timescaledb;", "extension"),
        ("CREATE EXTENSION IF NOT EXISTS pgcrypto;", "extension"),
        ("CREATE DATABASE trading;", "application database"),
        ("\\c trading\nCREATE TABLE a.b (x int);", "meta-command"),
        ("CREATE TABLE IF NOT EXISTS a.b (x int);", "IF NOT EXISTS"),
        ("CREATE TABLE b (x int);", "not schema-qualified"),
        ("CREATE TABLE public.b (x int);", "public"),
        ("CREATE TABLE a.b (x int REFERENCES c (id));", "not schema-qualified"),
        ("CREATE INDEX b_x ON b (x);", "not schema-qualified"),
        ("CREATE TYPE t AS ENUM ('a');", "not schema-qualified"),
        ("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;", "not schema-"),
        ("CREATE TRIGGER t BEFORE UPDATE ON a.b FOR EACH ROW EXECUTE FUNCTION f();", "not sch"),
        ("CREATE SCHEMA datalayer;", "not the migrations' to create"),
        ("CREATE TABLE datalayer.b (x int);", "ledger schema"),
        ("SELECT add_retention_policy('a.b', INTERVAL '1 year');", "policies"),
        ("ALTER TABLE a.b SET (timescaledb.compress);", "Community-only"),
        (
            "CREATE MATERIALIZED VIEW a.v WITH (timescaledb.continuous) AS "
            "SELECT time_bucket('1 day', ts) d, count(*) FROM a.b GROUP BY 1 WITH NO DATA;",
            "sql/continuous_aggregates",
        ),
        ("VACUUM a.b;", "transaction"),
    ],
)
def test_a_migration_rule_rejects(sql: str, complaint: str) -> None:
    problems = migration_problems(sql)
    assert any(complaint in problem for problem in problems), problems


@pytest.mark.parametrize(
    "sql",
    [
        # A PL/pgSQL body has BEGIN and END; a comment and a string may say anything.
        "CREATE FUNCTION a.f() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog\n"
        "AS $$\nBEGIN\n    RETURN NEW;\nEND;\n$$;",
        "CREATE FUNCTION a.f() RETURNS int LANGUAGE plpgsql AS $body$\nBEGIN\n"
        "    COMMIT;\nEND;\n$body$;",
        "-- GRANT SELECT ON a.b TO app; BEGIN; CREATE TABLE x (y int);\nCREATE TABLE a.b (x int);",
        "/* SET ROLE x; /* nested */ CREATE EXTENSION y; */\nCREATE TABLE a.b (x int);",
        "COMMENT ON TABLE a.b IS 'BEGIN; GRANT ALL ON public.x TO y; IF NOT EXISTS';",
        "CREATE TABLE a.b (x text DEFAULT 'it''s; COMMIT');",
        'CREATE TABLE a."weird; name" (x int);',
        "CREATE UNIQUE INDEX b_lower ON a.b (lower(x)) WHERE x IS NOT NULL;",
    ],
)
def test_a_migration_rule_lets_through(sql: str) -> None:
    assert migration_problems(sql) == []


@pytest.mark.parametrize(
    ("texts", "complaint"),
    [
        (
            ["CREATE TABLE m.c (ts timestamptz NOT NULL);\n"
             "SELECT create_hypertable('m.c', 'ts', chunk_time_interval => INTERVAL '7 days');"],
            "by_range",
        ),
        (
            ["CREATE TABLE m.c (ts timestamptz NOT NULL);\n"
             "SELECT create_hypertable('m.c', by_range('ts', INTERVAL '7 days'));"],
            "create_default_indexes",
        ),
        (
            ["CREATE TABLE m.c (id bigserial, ts timestamptz NOT NULL, PRIMARY KEY (id, ts));\n"
             "SELECT create_hypertable('m.c', by_range('ts', INTERVAL '7 days'), "
             "create_default_indexes => false);"],
            "surrogate key",
        ),
        (
            ["CREATE TABLE m.c (id uuid DEFAULT gen_random_uuid(), ts timestamptz NOT NULL);\n"
             "SELECT create_hypertable('m.c', by_range('ts', INTERVAL '7 days'), "
             "create_default_indexes => false);"],
            "surrogate key",
        ),
        (
            ["SELECT create_hypertable('m.c', by_range('ts', INTERVAL '7 days'), "
             "create_default_indexes => false);", _CANDLES],
            "before it is created",
        ),
    ],
)  # fmt: skip
def test_a_hypertable_rule_rejects(texts: list[str], complaint: str) -> None:
    problems = hypertable_problems(texts)
    assert any(complaint in problem for problem in problems), problems


def test_a_hypertable_rule_lets_through_the_agreed_call() -> None:
    assert hypertable_problems([_CANDLES]) == []


@pytest.mark.parametrize(
    ("names", "complaint"),
    [
        (["0001_a.sql", "0003_c.sql"], "versions"),
        (["0001_a.sql", "0001_b.sql"], "versions"),
        (["0002_a.sql"], "versions"),
        (["1_a.sql"], "NNNN_description"),
        (["0001_Schemas.sql"], "NNNN_description"),
        (["0001-schemas.sql"], "NNNN_description"),
        (["0001_schemas.sql", "notes.txt"], "NNNN_description"),
    ],
)
def test_a_version_rule_rejects(names: list[str], complaint: str) -> None:
    problems = version_problems(names)
    assert any(complaint in problem for problem in problems), problems


_ROLLUP = (
    "CREATE MATERIALIZED VIEW m.daily\nWITH (timescaledb.continuous) AS\n"
    "SELECT x, time_bucket(INTERVAL '1 day', ts) AS day, max(x) AS high\n"
    "FROM m.c\nGROUP BY x, time_bucket(INTERVAL '1 day', ts)\nWITH NO DATA;\n"
)


@pytest.mark.parametrize(
    ("file_name", "text", "complaint"),
    [
        ("m.daily.sql", _ROLLUP + "SELECT 1;\n", "not exactly one"),
        ("m.daily.sql", _ROLLUP.replace("WITH NO DATA", ""), "WITH NO DATA"),
        ("m.daily.sql", _ROLLUP.replace("WITH (timescaledb.continuous) ", ""), "continuous"),
        ("m.daily.sql", _ROLLUP.replace(";", ""), "semicolon"),
        ("m.daily.sql", _ROLLUP.replace("m.daily", "m.weekly"), "not m.daily"),
        ("m.daily.sql", _ROLLUP.replace("FROM m.c", "FROM m.other"), "no migration makes"),
        ("x.daily.sql", _ROLLUP.replace("m.daily", "x.daily"), "schema x"),
        ("daily.sql", _ROLLUP, "<schema>.<view>.sql"),
    ],
)
def test_an_aggregate_rule_rejects(file_name: str, text: str, complaint: str) -> None:
    problems = aggregate_problems(file_name, text, {"m"}, {"m.c"})
    assert any(complaint in problem for problem in problems), problems


def test_an_aggregate_rule_lets_through_a_complete_definition() -> None:
    assert aggregate_problems("m.daily.sql", _ROLLUP, {"m"}, {"m.c"}) == []


def test_statements_keep_line_numbers() -> None:
    text = "-- header\n\nCREATE TABLE a.b (x int);\n/* two\nlines */\nGRANT ALL ON a.b TO c;\n"
    assert [statement.line for statement in statements(text)] == [3, 6]
    assert migration_problems(text) == [
        "line 6: GRANT...: privileges are the hooks' job (default privileges)"
    ]
