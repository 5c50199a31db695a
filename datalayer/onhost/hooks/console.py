"""Running the hooks for a person or a deploy: one printed line per item and an exit status.

Shared by the control machine's command line (``python -m datalayer.hooks``) and the droplet's
(``python3 -m datalayer.onhost.hooks.remote``), so both print and exit alike.
"""

import sys
from collections.abc import Mapping

import psycopg

from datalayer.onhost.hooks.context import Connect
from datalayer.onhost.hooks.plan import HookPlan
from datalayer.onhost.hooks.report import HookError, Outcome
from datalayer.onhost.hooks.runner import run_hooks
from datalayer.onhost.step import EXIT_DRIFT, EXIT_FAILED, EXIT_OK


def print_outcome(outcome: Outcome) -> None:
    print(outcome.line(), flush=True)


def execute(connect: Connect, plan: HookPlan, verifiers: Mapping[str, str], check: bool) -> int:
    """Run the hooks, print each item, and return the process's exit status."""
    try:
        outcomes = run_hooks(connect, plan, verifiers, check=check, report=print_outcome)
    except HookError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except psycopg.Error as error:
        print(f"error: {str(error).strip().splitlines()[0]}", file=sys.stderr)
        return EXIT_FAILED
    drift = [outcome for outcome in outcomes if outcome.drift]
    if check:
        print(f"check: {len(drift)} of {len(outcomes)} items differ from the spec")
        return EXIT_DRIFT if drift else EXIT_OK
    print(f"applied: {len(drift)} of {len(outcomes)} items created or changed")
    return EXIT_OK
