"""``pulumi up``'s entry: read the stack, fingerprint the post-provision hooks, declare the graph.

A bad stack file (or a hook policy on a table the migrations do not create) stops here with one
plain message (Pulumi's RunError prints no traceback), before any resource is declared.
"""

import pulumi

from datalayer.secrets import SecretError
from datalayer.spec import SpecError
from infra.hooks import post_provision_fingerprint
from infra.program import build
from infra.stack_config import read_stack_config

try:
    stack = read_stack_config()
    fingerprint = post_provision_fingerprint(stack.environment)
except (SpecError, SecretError) as error:
    raise pulumi.RunError(str(error)) from None

build(stack, hooks_fingerprint=fingerprint)
