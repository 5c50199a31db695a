"""Helpers the TimescaleDB suites use: ask the host's PostgreSQL as postgres over its socket, or
log in over the network as a client would."""

from typing import Any

import psycopg

from datalayer.secrets import read_secret
from datalayer.spec.timescaledb import TimescaleDb
from datalayer.timescaledb.layout import PostgresqlLayout
from datalayer.units import parse_memory
from tests.infra.conftest import Endpoint
from tests.infra.redaction import revealed


def query(host: Any, layout: PostgresqlLayout, sql: str, database: str = "postgres") -> str:
    """The unaligned, tuples-only output of ``sql`` (commands as root, so ``runuser``)."""
    output: str = host.check_output(
        "runuser -u postgres -- psql --cluster %s -XAtq -v ON_ERROR_STOP=1 -d %s -c %s",
        layout.cluster_name,
        database,
        sql,
    )
    return output


def journal(host: Any, service: str) -> str:
    """The unit's last journal lines, for the failure message of a service test."""
    result = host.run("journalctl --no-pager -n 40 -u %s", service)
    return f"journal of {service}:\n{result.stdout}{result.stderr}"


def same_setting(shown: str, base_value: str, expected: str) -> bool:
    """Whether a setting in effect is the value the spec asked for.

    + shown: ``SHOW name``, with PostgreSQL's normalised unit ('10s', '256MB')
    + base_value: ``pg_settings.setting``, in the setting's base unit ('10' seconds)
    + expected: the value as written in postgresql.conf ('10', '256MB')
    """
    if expected in (shown, base_value):
        return True
    try:
        return parse_memory(shown) == parse_memory(expected)
    except ValueError:
        pass
    try:
        return float(shown) == float(expected)
    except ValueError:
        return shown.lower() == expected.lower()


def connect(
    spec: TimescaleDb, endpoint: Endpoint, user: str, password: str, **options: Any
) -> psycopg.Connection[tuple[Any, ...]]:
    """A client connection from where pytest runs, with TLS whenever the spec enables it."""
    return psycopg.connect(
        host=endpoint.address,
        port=endpoint.port,
        dbname=options.pop("dbname", spec.database),
        user=user,
        password=password,
        sslmode=options.pop("sslmode", "require" if spec.tls.enabled else "disable"),
        connect_timeout=10,
        **options,
    )


def role_password(spec: TimescaleDb, role: str) -> str:
    """The login role's password, from the secret its spec names."""
    variable = next(r.password_secret for r in spec.roles if r.name == role)
    return revealed(read_secret(variable).get_secret_value())
