"""The conventions every file under sql/ follows, checked from its text alone.

The hooks apply each migration in its own transaction, as the owner role, after a superuser
created the extension, and create continuous aggregates only where the edition has them
(sql/README.md). These checks read the files without a database: names and contiguous
versions; what a migration must not contain (transaction control, roles and privileges,
extensions, databases, session settings, psql meta-commands, IF NOT EXISTS, the public schema,
Community-only TimescaleDB calls); schema-qualified names; hypertables created the agreed way
without a surrogate key; each continuous aggregate one complete statement. Each check returns
the problems it finds as lines for a person, so that one run names every broken file at once.
Code inside comments, strings and function bodies does not count as SQL.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

from datalayer.hooks.sources import AGGREGATE_FILE, MIGRATION_FILE
from datalayer.onhost.hooks.migrations import LEDGER_SCHEMA

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
        position, kept, hidden = _token(text, position)
        code.append(kept)
        masked.append(hidden)
    return "".join(code), "".join(masked)


def _token(text: str, position: int) -> tuple[int, str, str]:
    """The token at ``position``: where it ends, its text as :func:`scan`'s code keeps it, and
    as its masked text shows it. A character outside any comment or quote is a token of its own."""
    if text.startswith("--", position):
        return _comment(text, position, _line_comment_end(text, position))
    if text.startswith("/*", position):
        return _comment(text, position, _block_comment_end(text, position))
    if text[position] in "'\"":
        return _quoted(text, position)
    if (tag := _DOLLAR_QUOTE.match(text, position)) and not (
        position and (text[position - 1].isalnum() or text[position - 1] == "_")
    ):
        return _dollar_quoted(text, position, tag.group())
    return position + 1, text[position], text[position]


def _comment(text: str, position: int, end: int) -> tuple[int, str, str]:
    """A comment: blanked in both texts, so that it keeps its width and lines."""
    blank = _blank(text[position:end])
    return end, blank, blank


def _line_comment_end(text: str, position: int) -> int:
    end = text.find("\n", position)
    return len(text) if end == -1 else end


def _block_comment_end(text: str, position: int) -> int:
    """Where the block comment at ``position`` ends; PostgreSQL's block comments nest."""
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
    return end


def _quoted(text: str, position: int) -> tuple[int, str, str]:
    """A string or a quoted identifier, whose doubled quote is a quote inside it."""
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
    # A quoted identifier is a name, kept as one word (no space or semicolon in it); a string's
    # contents are data, blanked.
    hidden = (
        quote
        + (re.sub(r"[;\s]", "_", inside) if quote == '"' else _blank(inside))
        + (quote if closed else "")
    )
    return end + 1, literal, hidden


def _dollar_quoted(text: str, position: int, tag: str) -> tuple[int, str, str]:
    """A dollar-quoted string (``$$...$$``, ``$fn$...$fn$``): its contents blanked."""
    end = text.find(tag, position + len(tag))
    end = len(text) if end == -1 else end + len(tag)
    literal = text[position:end]
    return end, literal, tag + _blank(literal[len(tag) : -len(tag)]) + tag


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


def created_schemas(texts: Iterable[str]) -> set[str]:
    """The schemas the migrations ``texts`` create."""
    return {
        match.group(1).lower()
        for text in texts
        for statement in statements(text)
        if (match := _CREATE_SCHEMA.match(" ".join(statement.masked.split())))
    }


def created_hypertables(texts: Iterable[str]) -> set[str]:
    """The tables the migrations ``texts`` make hypertables with the agreed call."""
    return {
        match["table"].lower()
        for text in texts
        for statement in statements(text)
        if (match := _AGREED_HYPERTABLE.match(" ".join(statement.code.split())))
    }
