"""Facts about InfluxDB's setup, read on the droplet as root.

It needs no secret: what the setup step still has to do comes from the public setup status and
the stored scoped tokens.
"""

import shlex

from pyinfra.api.facts import FactBase


class InfluxdbSetupPending(FactBase[list[str]]):
    """What the setup step would still do, one line each (``setup.py --check``); empty when
    the server is as the spec says. Before the script is uploaded or while the service is not
    running, everything is pending."""

    def command(self, script: str, service: str, plan_json: str) -> str:
        return (
            f"if [ -f {shlex.quote(script)} ] && systemctl is-active --quiet {service}; then "
            f"python3 {shlex.quote(script)} --check {shlex.quote(plan_json)}; "
            "else echo 'InfluxDB is not installed and running yet'; fi"
        )

    @staticmethod
    def default() -> list[str]:
        return []

    def process(self, output: list[str]) -> list[str]:
        return [line.strip() for line in output if line.strip()]
