"""The post-provision hooks' fingerprint, which decides when the stack re-runs them.

The stack runs ``python -m datalayer.hooks apply`` once the database is healthy, and again only
when this fingerprint (a hash over the SQL files, the roles and the policies, never a secret) or
a secret the hooks use changes.
"""

from datalayer.hooks.build import build_plan, fingerprint
from datalayer.spec import EnvironmentSpec


def post_provision_fingerprint(environment: EnvironmentSpec) -> str:
    """The fingerprint of the hooks' plan for ``environment``; building the plan refuses, with a
    :class:`SpecError`, a policy on a table the migrations do not create."""
    return fingerprint(build_plan(environment))
