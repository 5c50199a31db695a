"""Strings that reach a configuration file: escaped as that file's grammar reads them, or refused.

The expected readings are the servers' own: PostgreSQL 17.12 (Debian 13's postgresql-17) read
each rendered line from a config file with ``postgres -c config_file=FILE -C NAME``; Redis 8.0.2
(Debian 13's redis-server) from a redis.conf with ``CONFIG GET``; config.toml with Python's
tomllib, a TOML 1.0 parser.
"""

import tomllib
from collections.abc import Callable

import pytest

from datalayer.render import postgresql_string, redis_string, toml_string

INJECTIONS = ["UTC'\nssl = off\n#", "a\rb", "tab\there", "nul\x00", "del\x7f"]


@pytest.mark.parametrize(
    ("value", "line"),
    [
        # postgres -C application_name: a'b\c #d
        ("a'b\\c #d", "'a''b\\\\c #d'"),
        # postgres -C cluster_name: x\' ssl = off #  (and ssl stays on). Quotes doubled alone,
        # as before, gave 'x\'' ssl = off #' and PostgreSQL read x' ssl = off #.
        ("x\\' ssl = off #", "'x\\\\'' ssl = off #'"),
    ],
)
def test_postgresql_string_is_read_back_as_written(value: str, line: str) -> None:
    assert postgresql_string(value) == line


@pytest.mark.parametrize(
    ("value", "line"),
    [
        # CONFIG GET pidfile: /tmp/we"ird\name #x.pid
        ('/tmp/we"ird\\name #x.pid', '"/tmp/we\\"ird\\\\name #x.pid"'),
        # CONFIG GET logfile: /tmp/redis test.log; unquoted, Redis 8.0.2 refuses the line
        # ("FATAL CONFIG FILE ERROR ... 'pidfile /tmp/my file.pid'").
        ("/tmp/redis test.log", '"/tmp/redis test.log"'),
    ],
)
def test_redis_string_is_read_back_as_written(value: str, line: str) -> None:
    assert redis_string(value) == line


@pytest.mark.parametrize("value", ['/etc/influxdb/"tls"/server.crt', "C:\\certs\\server.crt"])
def test_toml_string_is_read_back_as_written(value: str) -> None:
    assert tomllib.loads(f"tls-cert = {toml_string(value)}")["tls-cert"] == value


@pytest.mark.parametrize("value", INJECTIONS)
@pytest.mark.parametrize("quote", [postgresql_string, redis_string, toml_string])
def test_control_characters_never_reach_a_file(quote: Callable[[object], str], value: str) -> None:
    with pytest.raises(ValueError, match="cannot hold line breaks or control characters"):
        quote(value)
