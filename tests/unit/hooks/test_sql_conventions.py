"""Each SQL convention rejects what it should, and only that.

Small SQL snippets against ``datalayer.hooks.sql_conventions``: every rule is shown rejecting a
bad example, and code inside comments, strings and function bodies is shown not to trip it, so
that no check passes by accident.
"""

from pathlib import Path

import pytest

from datalayer.hooks.sources import read_sources
from datalayer.hooks.sql_conventions import (
    aggregate_problems,
    hypertable_problems,
    migration_problems,
    statements,
    version_problems,
)
from datalayer.spec import SpecError

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
    ("sql", "problems"),
    [
        ("REASSIGN OWNED BY app TO trading_owner;",
         ["line 1: REASSIGN...: ownership is the hooks' job"]),
        ("DROP OWNED BY app;", ["line 1: DROP...: ownership is the hooks' job"]),
        ("CREATE TABLE a.b (x int);\nCHECKPOINT;",
         ["line 2: CHECKPOINT...: cannot run inside the runner's transaction"]),
        ("INSERT INTO public.b VALUES (1);", ["line 1: the public schema is not used"]),
        ('INSERT INTO "public".b VALUES (1);', ["line 1: the public schema is not used"]),
        ("CREATE VIEW v AS SELECT 1;", ["line 1: object v is not schema-qualified"]),
        ("CREATE SEQUENCE s;", ["line 1: object s is not schema-qualified"]),
        ("CREATE DOMAIN d AS int;", ["line 1: object d is not schema-qualified"]),
        ("CREATE TRIGGER t BEFORE UPDATE ON b FOR EACH ROW EXECUTE FUNCTION a.f();",
         ["line 1: object b is not schema-qualified"]),
        ("ALTER TABLE b ADD COLUMN y int;", ["line 1: object b is not schema-qualified"]),
        ("COMMENT ON TABLE b IS 'x';", ["line 1: object b is not schema-qualified"]),
        (
            "CREATE MATERIALIZED VIEW a.v WITH (timescaledb.continuous) AS "
            "SELECT time_bucket('1 day', ts) d, count(*) FROM a.b GROUP BY 1 WITH NO DATA;",
            ["line 1: CREATE...: continuous aggregates live in sql/continuous_aggregates",
             "line 1: compression and continuous aggregates are Community-only: the hooks and "
             "sql/continuous_aggregates own them"],
        ),
    ],
)  # fmt: skip
def test_a_migration_rule_reports_each_problem_once_with_its_line(
    sql: str, problems: list[str]
) -> None:
    assert migration_problems(sql) == problems


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


@pytest.mark.parametrize(
    "name", ["0002__double.sql", "0002_trailing_.sql", "0002_Upper.sql", "0002-dash.sql"]
)
def test_the_hooks_refuse_the_names_the_conventions_refuse(tmp_path: Path, name: str) -> None:
    # One rule (datalayer.hooks.sources.MIGRATION_FILE) for both: what the SQL-conventions check
    # calls misnamed, the hooks refuse to apply.
    (tmp_path / "migrations").mkdir()
    (tmp_path / "continuous_aggregates").mkdir()
    (tmp_path / "migrations" / "0001_schemas.sql").write_text("SELECT 1;")
    (tmp_path / "migrations" / name).write_text("SELECT 1;")
    assert version_problems(["0001_schemas.sql", name]) == [
        f"{name}: not NNNN_description.sql (lower-case words joined by _)"
    ]
    with pytest.raises(SpecError, match=f"migrations/{name}: a migration file is named NNNN_"):
        read_sources(tmp_path)
