"""The environment spec: one typed, validated description that every path reads."""

from datalayer.spec.environment import EnvironmentSpec
from datalayer.spec.errors import SpecError
from datalayer.spec.load import known_environments, load_environment, parse_environment

__all__ = [
    "EnvironmentSpec",
    "SpecError",
    "known_environments",
    "load_environment",
    "parse_environment",
]
