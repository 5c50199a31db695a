"""The one error type a bad environment description raises.

Every caller (pyinfra deploy, Pulumi program, command line, tests) prints the same text, so the
message itself must name the file, the key and the value on one line per problem.
"""


class SpecError(ValueError):
    """An environment description that cannot be used; raised before any host is touched."""
