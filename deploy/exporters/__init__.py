"""The exporters deploy: Debian's Prometheus exporters on every host, by the groups it is in.

Run by ``deploy/site.py`` on every host of an environment that declares ``monitoring``, after
the services (the PostgreSQL exporter's role is made by the hooks); callable from any other
pyinfra deploy as ``exporters(environment, inputs)``.
"""

import os
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr
from pyinfra.api.command import StringCommand
from pyinfra.api.deploy import deploy
from pyinfra.api.host import Host
from pyinfra.api.operation import operation
from pyinfra.context import host

from datalayer.monitoring.exporters import (
    RenderedExporter,
    render_node_exporter,
    render_postgres_exporter,
    render_redis_exporter,
)
from datalayer.redis.passwords import MONITOR_USER
from datalayer.secrets import read_secret
from datalayer.spec import EnvironmentSpec
from datalayer.timescaledb.layout import debian_layout, patroni_layout
from deploy import dpkg
from deploy.facts import PathStates, UnitStates
from deploy.inventory import private_address
from deploy.operations import (
    WantedFile,
    file_commands,
    packages_installed,
    unit_id,
    units_enabled_and_running,
)
from deploy.redis import redis_section


@dataclass(frozen=True)
class ExporterInputs:
    """What one host's exporters read, judged before pyinfra connects (``deploy/preflight``).

    + private_address: the host's ``private_address``, the one address they listen on
    + postgres_password: the PostgreSQL monitoring role's, on a ``timescaledb`` host
    + redis_password: the Redis monitoring user's, on a ``redis`` host
    """

    private_address: str
    postgres_password: SecretStr | None
    redis_password: SecretStr | None


def exporter_inputs(
    environment: EnvironmentSpec, host: Host, environ: Mapping[str, str] = os.environ
) -> ExporterInputs | None:
    """``host``'s exporter inputs when the environment declares ``monitoring`` (else None); a
    :class:`SpecError` or :class:`SecretError` names the first problem."""
    if environment.monitoring is None:
        return None
    exporters = environment.monitoring.exporters
    groups = host.groups
    return ExporterInputs(
        private_address=private_address(
            host.name,
            host.data,
            "the IP address its exporters listen on, as monitoring is declared",
        ),
        postgres_password=read_secret(exporters.postgres_password_secret, environ)
        if "timescaledb" in groups
        else None,
        redis_password=read_secret(exporters.redis_password_secret, environ)
        if "redis" in groups
        else None,
    )


def redis_monitor_password(inputs: ExporterInputs | None) -> dict[str, SecretStr]:
    """The Redis monitoring user's password by user name, for the Redis deploy's users.acl
    (``datalayer.redis.config.acl_lines``); empty where no exporter logs in to Redis."""
    if inputs is None or inputs.redis_password is None:
        return {}
    return {MONITOR_USER: inputs.redis_password}


def postgres_monitor_password(
    environment: EnvironmentSpec, inputs: ExporterInputs | None
) -> dict[str, SecretStr]:
    """The PostgreSQL monitoring role's password by role name, for the hooks, which set it as
    they set every login role's; empty where no exporter logs in to PostgreSQL."""
    if environment.monitoring is None or inputs is None or inputs.postgres_password is None:
        return {}
    return {environment.monitoring.exporters.postgres_role: inputs.postgres_password}


@deploy("Exporters")
def exporters(environment: EnvironmentSpec, inputs: ExporterInputs) -> None:
    """Install, configure and start the exporters this host's groups call for.

    + environment: the validated environment spec, with ``monitoring``
    + inputs: the host's private address and the monitoring identities' passwords

    The EnvironmentFiles are written before the packages are installed, so that the packages'
    first start already listens on the private address alone (Debian's default is every
    address); dpkg keeps a conffile that is already there (``--force-confold``, which pyinfra's
    ``noninteractive_apt`` passes: pyinfra/facts/apt.py:233-247 at 3.10), but
    prometheus-postgres-exporter's postinst then makes its file prometheus's, mode 0640 (seen
    on Debian 13), so the same step runs again after the install and puts it back.
    """
    assert environment.monitoring is not None
    settings = environment.monitoring.exporters
    rendered = [render_node_exporter(environment.name, settings, inputs.private_address)]
    if inputs.postgres_password is not None:
        spec = environment.timescaledb
        layout = debian_layout(spec) if spec.cluster is None else patroni_layout(spec)
        rendered.append(
            render_postgres_exporter(
                environment.name,
                settings,
                spec,
                layout.socket_directory,
                inputs.private_address,
                inputs.postgres_password,
            )
        )
    if inputs.redis_password is not None:
        rendered.append(
            render_redis_exporter(
                environment.name,
                settings,
                redis_section(environment, host.name),
                inputs.private_address,
                inputs.redis_password,
            )
        )
    dpkg.finish_interrupted_install(
        name="Finish an interrupted package install, waiting for a running apt or dpkg",
    )
    packages = [each.exporter.package for each in rendered]
    configuration(
        name=f"Install the EnvironmentFiles of {', '.join(packages)}; restart those that changed",
        rendered=rendered,
    )
    packages_installed(name=f"Install {', '.join(packages)}", packages=packages)
    configuration(
        name="Keep the EnvironmentFiles root-only after the packages' postinst",
        rendered=rendered,
    )
    units_enabled_and_running(
        name=f"Enable and start {', '.join(packages)}",
        units=[each.exporter.service for each in rendered],
    )


@operation()
def configuration(rendered: Sequence[RenderedExporter]) -> Generator[Any, None, None]:
    """Install each exporter's EnvironmentFile; restart a running exporter onto a changed one.

    + rendered: each exporter with its file's content and mode

    The exporters read their options only when they start, so a changed file restarts a
    running one; one not running yet (not installed) starts on it. A file holding a password
    is never shown, not even by ``--diff``.
    """
    paths = tuple(each.exporter.environment_file for each in rendered)
    found = host.get_fact(PathStates, paths=paths)
    units = host.get_fact(UnitStates, units=tuple(each.exporter.service for each in rendered))
    changed = False
    for each in rendered:
        wanted = WantedFile(each.exporter.environment_file, each.content.encode(), mode=each.mode)
        current = found.get(wanted.path)
        commands = list(file_commands(wanted, current, show_diff=each.mode == 0o644))
        if not commands:
            continue
        changed = True
        yield from commands
        if current is not None and current.holds(wanted.content):
            continue  # only its owner or mode changed
        unit = units.get(unit_id(each.exporter.service))
        if unit is not None and unit.running:
            yield StringCommand(
                f"systemctl restart {each.exporter.service}", "#", f"{wanted.path} changed"
            )
    if not changed:
        host.noop(f"{', '.join(paths)} in place")
