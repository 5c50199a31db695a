"""From the environment spec and ``sql/`` to a :class:`HookPlan`, on the control machine.

Everything that can be wrong without a database is found here, before any change: a policy on a
table the migrations do not create, a continuous aggregate without its SQL file, a migration file
misnamed. The spec itself already refused bad intervals and compress-after beyond drop-after.
"""

import hashlib
from collections.abc import Mapping
from pathlib import Path

from pydantic import SecretStr

from datalayer import scram
from datalayer.hooks.sources import Migration, SqlSources, read_sources
from datalayer.onhost.hooks.plan import (
    CompressionPlan,
    ContinuousAggregatePlan,
    HookPlan,
    HypertablePlan,
    LoginRolePlan,
    MigrationPlan,
    MonitorRolePlan,
    RetentionPlan,
)
from datalayer.paths import SQL_DIRECTORY
from datalayer.spec import EnvironmentSpec, SpecError
from datalayer.spec.policies import Hypertable
from datalayer.spec.timescaledb import LoginRole, TimescaleDb
from datalayer.timescaledb.catalogue import setting_text


def build_plan(environment: EnvironmentSpec, sql_directory: Path = SQL_DIRECTORY) -> HookPlan:
    """The hooks' plan for ``environment``; a :class:`SpecError` names what does not fit."""
    spec = environment.timescaledb
    sources = read_sources(sql_directory)
    where = f"Pulumi.{environment.name}.yaml: datalayer:timescaledb"
    _check_policy_tables(spec, sources, where)
    return HookPlan(
        environment=environment.name,
        database=spec.database,
        owner=spec.owner,
        extension_version=spec.extension_version,
        schemas=sources.schemas,
        login_roles=tuple(_login_role(role) for role in spec.roles),
        migrations=tuple(_migration(migration) for migration in sources.migrations),
        hypertables=tuple(_hypertable(table, policy) for table, policy in spec.hypertables.items()),
        continuous_aggregates=_continuous_aggregates(spec, sources, where),
        unlisted_aggregates=tuple(
            definition.view
            for definition in sources.aggregates
            if definition.view not in spec.continuous_aggregates
        ),
        monitor_role=None
        if environment.monitoring is None
        else MonitorRolePlan(
            environment.monitoring.exporters.postgres_role,
            environment.monitoring.exporters.postgres_connection_limit,
        ),
    )


def _login_role(role: LoginRole) -> LoginRolePlan:
    return LoginRolePlan(
        name=role.name,
        access=role.access.value,
        connection_limit=role.connection_limit,
        settings={name: setting_text(value) for name, value in role.settings.items()},
    )


def _migration(migration: Migration) -> MigrationPlan:
    return MigrationPlan(
        migration.version, migration.name, migration.source, migration.text, migration.checksum
    )


def _hypertable(table: str, policy: Hypertable) -> HypertablePlan:
    compression, retention = policy.compression, policy.retention
    return HypertablePlan(
        table=table,
        chunk_interval=policy.chunk_interval,
        compression=None
        if compression is None
        else CompressionPlan(
            segment_by=tuple(compression.segment_by),
            order_by=tuple(compression.order_by),
            compress_after=compression.compress_after,
            optional=compression.optional,
        ),
        retention=None
        if retention is None
        else RetentionPlan(retention.drop_after, retention.optional),
    )


def _continuous_aggregates(
    spec: TimescaleDb, sources: SqlSources, where: str
) -> tuple[ContinuousAggregatePlan, ...]:
    """Each continuous aggregate the spec names, with the SQL file that defines it; a
    :class:`SpecError` for one that no file defines."""
    definitions = {definition.view: definition for definition in sources.aggregates}
    for view in spec.continuous_aggregates:
        if view not in definitions:
            raise SpecError(
                f"{where}.continuous_aggregates.{view}: no sql/continuous_aggregates/{view}.sql "
                f"defines it (defined: {', '.join(definitions) or 'none'})"
            )
    return tuple(
        ContinuousAggregatePlan(
            view=view,
            source=definitions[view].source,
            sql=definitions[view].text,
            checksum=definitions[view].checksum,
            start_offset=policy.start_offset,
            end_offset=policy.end_offset,
            schedule_interval=policy.schedule_interval,
            materialized_only=policy.materialized_only,
            materialize_history=policy.materialize_history,
            history_window=policy.history_window,
            optional=policy.optional,
        )
        for view, policy in spec.continuous_aggregates.items()
    )


def _check_policy_tables(spec: TimescaleDb, sources: SqlSources, where: str) -> None:
    hypertables = sources.hypertables
    for table in spec.hypertables:
        if table not in hypertables:
            raise SpecError(
                f"{where}.hypertables.{table}: unknown table; sql/migrations makes these "
                f"hypertables: {', '.join(hypertables) or 'none'}"
            )


def fingerprint(plan: HookPlan) -> str:
    """SHA-256 of everything the hooks converge to except passwords: the SQL, the roles and the
    policies. Equal fingerprints, nothing for the hooks to do (unless a password changed or
    someone changed the database by hand: ``check`` finds that)."""
    return hashlib.sha256(plan.to_json().encode()).hexdigest()


def password_changes(
    passwords: Mapping[str, SecretStr], stored: Mapping[str, str | None]
) -> dict[str, str]:
    """New SCRAM verifiers for the roles whose stored verifier does not match their password.

    Only verifiers leave the control machine; a role whose password is current gets none, so
    a second run sets nothing.
    """
    changes: dict[str, str] = {}
    for role, password in passwords.items():
        secret = password.get_secret_value()
        if not scram.matches(secret, stored.get(role)):
            changes[role] = scram.verifier(secret)
    return changes
