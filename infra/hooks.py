"""The post-provision hooks' fingerprint: the one place the program imports ``datalayer.hooks``.

The hooks (schema migrations, roles, TimescaleDB policies) are their own package; the stack runs
them with ``python -m datalayer.hooks apply`` once the database is healthy, and again only when
this fingerprint (a hash over the SQL files, roles and policies, never a secret) or a secret they
use changes.
"""

import importlib
from collections.abc import Callable

from datalayer.spec import EnvironmentSpec

HOOKS_MODULE = "datalayer.hooks"


class HooksMissingError(RuntimeError):
    """The hooks package is not installed in this checkout."""


def post_provision_fingerprint(environment: EnvironmentSpec) -> str:
    """``datalayer.hooks.fingerprint(environment)``."""
    try:
        module = importlib.import_module(HOOKS_MODULE)
    except ImportError as error:
        raise HooksMissingError(
            f"{HOOKS_MODULE} cannot be imported ({error}): the stack runs the post-provision "
            "hooks, which this checkout lacks; update it to a version that has them"
        ) from None
    fingerprint: Callable[[EnvironmentSpec], str] = module.fingerprint
    return fingerprint(environment)
