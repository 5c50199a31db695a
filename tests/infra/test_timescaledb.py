"""Verify a TimescaleDB host against its environment spec.

Runs against any host the deploy provisioned (sandbox droplets in this repository's CI, real
droplets from a laptop or a CI runner): packages, service, sockets, files, settings in effect,
the extension, and pg_hba as clients meet it.
"""

import ipaddress
from typing import Any

import psycopg
import pytest

from datalayer.monitoring.exporters import postgres_hba_lines
from datalayer.render import postgresql_boolean
from datalayer.spec import EnvironmentSpec
from datalayer.spec.timescaledb import PackageSource, TimescaleDb
from datalayer.timescaledb.config import hba_lines
from datalayer.timescaledb.layout import PostgresqlLayout
from datalayer.timescaledb.packages import package_plan
from tests.infra.conftest import Endpoint
from tests.infra.postgresql import connect, journal, query, role_password, same_setting

PROBE_ROLE = "datalayer_probe_nobody"


def test_postgresql_and_timescaledb_packages_are_installed(host: Any, spec: TimescaleDb) -> None:
    release = host.system_info
    plan = package_plan(spec, release.distribution, release.codename)
    missing = [name for name in plan.packages if not host.package(name).is_installed]
    assert missing == [], f"packages not installed: {missing}"


def test_server_runs_the_declared_major_version(
    host: Any, spec: TimescaleDb, layout: PostgresqlLayout
) -> None:
    assert host.package(f"postgresql-{spec.version}").version.startswith(f"{spec.version}.")
    assert int(query(host, layout, "SHOW server_version_num")) // 10000 == spec.version


def test_service_is_enabled_and_running(host: Any, layout: PostgresqlLayout) -> None:
    service = host.service(layout.service)
    assert service.is_running, journal(host, str(layout.service))
    assert service.is_enabled, journal(host, str(layout.service))


def _expected_listen_addresses(spec: TimescaleDb) -> tuple[set[str], set[str]]:
    """Addresses that must be listened on, and those that may be (localhost resolves to either)."""
    required: set[str] = set()
    allowed: set[str] = set()
    for address in spec.listen_addresses:
        if address == "*":
            required |= {"0.0.0.0"}
            allowed |= {"0.0.0.0", "::"}
        elif address == "localhost":
            allowed |= {"127.0.0.1", "::1"}
        else:
            required.add(address)
            allowed.add(address)
    return required, allowed | required


def test_listens_only_where_the_spec_says(host: Any, spec: TimescaleDb) -> None:
    listening = {
        ipaddress.ip_address(socket.split("://")[1].rsplit(":", 1)[0].strip("[]")).compressed
        for socket in host.socket.get_listening_sockets()
        if socket.startswith("tcp") and socket.rsplit(":", 1)[1] == str(spec.port)
    }
    required, allowed = _expected_listen_addresses(spec)
    assert listening, f"nothing listens on port {spec.port}"
    assert required <= listening
    assert listening <= allowed, f"listening on {sorted(listening - allowed)} beyond the spec"


@pytest.mark.parametrize(("file", "mode"), [("postgresql_conf", 0o644), ("pg_hba_conf", 0o640)])
def test_config_file_owner_and_mode(
    host: Any, layout: PostgresqlLayout, file: str, mode: int
) -> None:
    path = host.file(getattr(layout, file))
    assert path.user == "postgres"
    assert path.group == "postgres"
    assert path.mode == mode


def test_tuned_setting_is_in_effect(
    host: Any, layout: PostgresqlLayout, tuned_setting: tuple[str, str]
) -> None:
    name, expected = tuned_setting
    shown = query(host, layout, f"SHOW {name}")
    base_value = query(host, layout, f"SELECT setting FROM pg_settings WHERE name = '{name}'")
    assert same_setting(shown, base_value, expected), (
        f"SHOW {name} is {shown}, the spec says {expected}"
    )


def test_configuration_files_have_no_errors(host: Any, layout: PostgresqlLayout) -> None:
    settings = query(
        host, layout, "SELECT name, error FROM pg_file_settings WHERE error IS NOT NULL"
    )
    rules = query(
        host, layout, "SELECT line_number, error FROM pg_hba_file_rules WHERE error IS NOT NULL"
    )
    assert settings == ""
    assert rules == ""


def test_no_restart_is_pending(host: Any, layout: PostgresqlLayout) -> None:
    assert query(host, layout, "SELECT name FROM pg_settings WHERE pending_restart") == ""


def test_security_settings_are_in_effect(
    host: Any, layout: PostgresqlLayout, spec: TimescaleDb
) -> None:
    assert query(host, layout, "SHOW password_encryption") == "scram-sha-256"
    assert query(host, layout, "SHOW ssl") == postgresql_boolean(spec.tls.enabled)


def test_timescaledb_is_preloaded(host: Any, layout: PostgresqlLayout) -> None:
    assert "timescaledb" in query(host, layout, "SHOW shared_preload_libraries").split(",")


def _with_extension_rolled_back(host: Any, layout: PostgresqlLayout, sql: str) -> str:
    """``sql`` run right after CREATE EXTENSION timescaledb, in a transaction rolled back: proves
    the extension installs, and reads what only a loaded extension knows, leaving nothing."""
    output: str = host.check_output(
        "runuser -u postgres -- psql --cluster %s -XAtq -v ON_ERROR_STOP=1 -d postgres "
        "-c BEGIN -c 'CREATE EXTENSION timescaledb' -c %s -c ROLLBACK",
        layout.cluster_name,
        sql,
    )
    return output.strip()


def test_create_extension_works(host: Any, layout: PostgresqlLayout, writable_server: None) -> None:
    version = _with_extension_rolled_back(
        host, layout, "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'"
    )
    assert version.split(".")[0].isdigit(), version


def test_edition_matches_the_package_source(
    host: Any, layout: PostgresqlLayout, spec: TimescaleDb, writable_server: None
) -> None:
    license_ = _with_extension_rolled_back(host, layout, "SHOW timescaledb.license")
    expected = "apache" if spec.package_source is PackageSource.DISTRIBUTION else "timescale"
    assert license_ == expected


def test_pg_hba_in_effect_is_the_spec_in_order(
    host: Any, layout: PostgresqlLayout, environment: EnvironmentSpec, spec: TimescaleDb
) -> None:
    rows = query(
        host,
        layout,
        "SELECT type, array_to_string(database, ','), array_to_string(user_name, ','), "
        "coalesce(address || '/' || netmask, ''), auth_method "
        "FROM pg_hba_file_rules ORDER BY rule_number",
    ).splitlines()
    rows = [_with_cidr(row) for row in rows]
    if spec.cluster is not None:  # the members' own lines: tests/infra/test_patroni.py
        members_roles = (spec.cluster.replication_role, spec.cluster.rewind_role)
        rows = [row for row in rows if row.split("|")[2] not in members_roles]
    expected = []
    for line in hba_lines(spec, monitoring_lines=postgres_hba_lines(environment)):
        address = str(ipaddress.ip_network(line.address)) if line.address else ""
        expected.append("|".join((line.type, line.database, line.user, address, line.method)))
    assert rows == expected


def _with_cidr(row: str) -> str:
    """pg_hba_file_rules gives address and netmask apart ('10.0.0.0/255.255.255.0')."""
    fields = row.split("|")
    if fields[3]:
        address, netmask = fields[3].split("/")
        prefix = bin(int(ipaddress.ip_address(netmask))).count("1")  # IPv6 masks too ('::')
        fields[3] = str(ipaddress.ip_network(f"{address}/{prefix}"))
    return "|".join(fields)


def test_no_network_line_uses_trust_or_md5(host: Any, layout: PostgresqlLayout) -> None:
    weak = query(
        host,
        layout,
        "SELECT line_number, auth_method FROM pg_hba_file_rules "
        "WHERE type <> 'local' AND auth_method IN ('trust', 'md5', 'password')",
    )
    assert weak == ""


# --- Logins as clients meet them, from where pytest runs -------------------------------------


def _login_roles(spec: TimescaleDb) -> list[str]:
    return [role.name for role in spec.roles]


@pytest.fixture(params=["app", "reader"])
def login_role(request: pytest.FixtureRequest, spec: TimescaleDb) -> str:
    if request.param not in _login_roles(spec):
        pytest.skip(f"the spec declares no {request.param} role")
    return str(request.param)


def test_allowed_login_succeeds_with_scram(
    spec: TimescaleDb, endpoint: Endpoint, login_role: str
) -> None:
    with connect(
        spec, endpoint, login_role, role_password(spec, login_role), require_auth="scram-sha-256"
    ) as connection:
        row = connection.execute(
            "SELECT current_user, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        ).fetchone()
    assert row == (login_role, spec.tls.enabled)


def test_wrong_password_is_rejected(spec: TimescaleDb, endpoint: Endpoint, login_role: str) -> None:
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        connect(spec, endpoint, login_role, "not-the-password-" + "x" * 16)


def test_password_is_never_sent_in_plaintext(
    spec: TimescaleDb, endpoint: Endpoint, login_role: str
) -> None:
    # The client refuses any method but cleartext/md5: the server must insist on SCRAM.
    with pytest.raises(psycopg.OperationalError, match="server requested SASL authentication"):
        connect(
            spec, endpoint, login_role, role_password(spec, login_role), require_auth="password,md5"
        )


def test_unknown_user_is_rejected_by_pg_hba(spec: TimescaleDb, endpoint: Endpoint) -> None:
    with pytest.raises(
        psycopg.OperationalError, match=r"pg_hba\.conf rejects connection.*" + PROBE_ROLE
    ):
        connect(spec, endpoint, PROBE_ROLE, "irrelevant-" + "x" * 16)


def test_database_outside_the_rules_is_rejected(
    spec: TimescaleDb, endpoint: Endpoint, login_role: str
) -> None:
    with pytest.raises(
        psycopg.OperationalError, match=r"pg_hba\.conf rejects connection.*database \"postgres\""
    ):
        connect(spec, endpoint, login_role, role_password(spec, login_role), dbname="postgres")


def test_unencrypted_login_is_rejected_when_tls_is_on(
    spec: TimescaleDb, endpoint: Endpoint, login_role: str
) -> None:
    if not spec.tls.enabled:
        pytest.skip("TLS is off in this environment")
    with pytest.raises(
        psycopg.OperationalError, match=r"pg_hba\.conf rejects connection.*no encryption"
    ):
        connect(spec, endpoint, login_role, role_password(spec, login_role), sslmode="disable")


def test_address_outside_the_rules_is_rejected(
    host: Any, spec: TimescaleDb, layout: PostgresqlLayout
) -> None:
    # From the host's own loopback, which the sandbox and prod rules do not cover; rejected by
    # pg_hba before any password is asked, so none is needed.
    loopback = ipaddress.ip_address("127.0.0.1")
    if any(rule.address is not None and loopback in rule.address for rule in spec.hba):
        pytest.skip("the spec allows logins from 127.0.0.1; no uncovered address to try from")
    if not {"*", "localhost", "127.0.0.1"} & set(spec.listen_addresses):
        pytest.skip("the server does not listen on the loopback address")
    role = _login_roles(spec)[0] if spec.roles else PROBE_ROLE
    result = host.run(
        "runuser -u postgres -- psql -Xw -c 'SELECT 1' %s",
        f"host=127.0.0.1 port={spec.port} user={role} dbname={spec.database} sslmode=prefer",
    )
    assert result.rc != 0
    assert 'pg_hba.conf rejects connection for host "127.0.0.1"' in result.stderr
