"""The one error type a bad environment description raises, and how its lines show a value.

Every caller (pyinfra deploy, Pulumi program, command line, tests) prints the same text, so the
message itself must name the file, the key and the value on one line per problem: a value cut
short, and never one that sits under a secret-named key.
"""

from typing import Any

PROJECT_NAMESPACE = "datalayer"
"""The Pulumi project's config namespace: every key an error line names is ``datalayer:KEY``."""

MOST_SHOWN = 80
"""The most characters of a value an error line repeats; the rest is cut at an ellipsis."""

SECRET_ENDINGS = ("_secret", "password", "token", "passphrase")
"""How the name of a key that may hold a secret ends: every ``*_secret`` key (meant to hold a
variable's name, which is where a pasted password lands) and their kin. ``tokens`` (a list of
token files) is not one."""

MASK = "***"


class SpecError(ValueError):
    """An environment description that cannot be used; raised before any host is touched."""


def not_set_line(source: str, key: str, reason: str) -> str:
    """The one wording of a section or key an environment lacks, wherever that is found: the
    spec's own checks, the stacks (which need ``containers``), the deploy (a host in a group
    whose section is missing). ``key`` is dotted, without the namespace."""
    return f"{source}: {PROJECT_NAMESPACE}:{key} is not set: {reason}"


def is_secret_key(name: object) -> bool:
    """Whether a key of this name may hold a secret."""
    return isinstance(name, str) and name.lower().endswith(SECRET_ENDINGS)


def masked(value: Any) -> Any:
    """``value`` with whatever sits under a secret-named key replaced by ``***``."""
    if isinstance(value, dict):
        return {key: MASK if is_secret_key(key) else masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [masked(item) for item in value]
    return value


def shortened(text: str, most: int = MOST_SHOWN) -> str:
    """``text`` on one line of at most ``most`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= most else text[: most - 1] + "…"


def shown(value: Any) -> str:
    """How an error line repeats ``value``: its repr, secrets masked, shortened."""
    return shortened(repr(masked(value)))
