"""Facts about InfluxDB's setup, read on the droplet as root.

It needs no secret: what the setup step still has to do comes from the public setup status and
the stored scoped tokens.
"""

import shlex

from pyinfra.api.facts import FactBase

from deploy.onhost import check_command


class InfluxdbSetupPending(FactBase[list[str]]):
    """What the setup step would still do, one line each (its ``check``, whose drift status is
    an answer); empty when the server is as the spec says. Before the step and its plan are
    uploaded or while the service is not running, everything is pending."""

    def command(self, script: str, plan: str, service: str, command: str) -> str:
        return (
            f"if [ -f {shlex.quote(script)} ] && [ -f {shlex.quote(plan)} ] "
            f"&& systemctl is-active --quiet {service}; then {check_command(command)}; "
            "else echo 'InfluxDB is not installed and running yet'; fi"
        )

    @staticmethod
    def default() -> list[str]:
        return []

    def process(self, output: list[str]) -> list[str]:
        return [line.strip() for line in output if line.strip()]
