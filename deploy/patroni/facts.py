"""What a member's Patroni and its data directory say, each in one command."""

import json
import shlex
from typing import Any

from pyinfra.api.facts import FactBase

PATRONI_DYNAMIC_CACHE = "patroni.dynamic.json"
"""The file Patroni keeps its dynamic configuration in, in the data directory
(``patroni/config.py:88,147``, v4.0.7): a data directory Patroni has run."""


class DataDirectoryState(FactBase[str]):
    """Who owns the data directory: ``absent``, ``patroni`` (Patroni has run it), or
    ``databases N``: a cluster Patroni never ran, holding N databases (``base/*``: a fresh
    initdb holds template1, template0 and postgres, 3)."""

    def command(self, data_directory: str) -> str:
        directory = shlex.quote(data_directory)
        cache = shlex.quote(f"{data_directory}/{PATRONI_DYNAMIC_CACHE}")
        return (
            f"if [ -e {cache} ]; then echo patroni; elif [ -d {directory}/base ]; then "
            f"echo databases $(find {directory}/base -mindepth 1 -maxdepth 1 -type d | wc -l); "
            f"elif [ -e {directory} ]; then echo databases unknown; else echo absent; fi"
        )

    def process(self, output: list[str]) -> str:
        return output[0].strip()


def rest_api_get(address: str, port: int, path: str) -> str:
    """A GET of Patroni's REST API printing the JSON answer, or ``{}`` when nothing answers.

    Any HTTP status is an answer (Patroni's ``/patroni`` is 503 on a member not running
    PostgreSQL); only a failed connection (curl's exit status) means Patroni is not running.
    """
    url = shlex.quote(f"http://{address}:{port}{path}")
    return f'if answer=$(curl -s --max-time 5 {url}); then echo "$answer"; else echo "{{}}"; fi'


def rest_api_answer(output: list[str]) -> dict[str, Any]:
    """The JSON the REST API answered (``{}``: nothing answered)."""
    answer: dict[str, Any] = json.loads("\n".join(output) or "{}")
    return answer


class PatroniMemberStatus(FactBase[dict[str, Any]]):
    """``GET /patroni``: the member's ``role`` (``primary``, ``replica``), ``state``
    (``running``...) and ``pending_restart`` with its reasons (``patroni/api.py:180-215`` at
    v4.0.7); ``{}`` when Patroni is not running."""

    def command(self, address: str, port: int) -> str:
        return rest_api_get(address, port, "/patroni")

    def process(self, output: list[str]) -> dict[str, Any]:
        return rest_api_answer(output)


DCS_CONFIGURATION_WAIT = 30
"""Seconds to wait for the leader's DCS configuration, which it writes in a loop after it
bootstraps: until then ``GET /config`` is 502 with an HTML body (``do_GET_config``,
``patroni/api.py:510-523`` at v4.0.7), seen on the sandbox right after a first deploy."""


class PatroniDynamicConfiguration(FactBase[dict[str, Any]]):
    """``GET /config``: the dynamic configuration Patroni holds in the DCS, waited for up to
    ``DCS_CONFIGURATION_WAIT`` seconds; ``{}`` when Patroni has none to give by then."""

    def command(self, address: str, port: int) -> str:
        url = shlex.quote(f"http://{address}:{port}/config")
        return (
            f"for second in $(seq {DCS_CONFIGURATION_WAIT}); do "
            f'if answer=$(curl -sf --max-time 5 {url}); then echo "$answer"; exit 0; fi; '
            'sleep 1; done; echo "{}"'
        )

    def process(self, output: list[str]) -> dict[str, Any]:
        return rest_api_answer(output)
