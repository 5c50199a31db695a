"""The one map of Redis users to their password secrets, which the deploy, the container and the
Pulumi stack all take passwords through."""

import pytest

from datalayer.redis.passwords import user_secrets
from datalayer.secrets import secret_variables
from datalayer.spec import load_environment


def test_each_user_has_its_own_secret() -> None:
    spec = load_environment("sandbox").redis
    assert spec is not None
    assert user_secrets(spec) == {
        "app": "DATALAYER_REDIS_APP_PASSWORD",
        "reader": "DATALAYER_REDIS_READER_PASSWORD",
        "admin": "DATALAYER_REDIS_ADMIN_PASSWORD",
    }


@pytest.mark.parametrize("environment_name", ["sandbox", "dev", "prod"])
def test_the_map_covers_every_secret_the_pulumi_walk_finds(environment_name: str) -> None:
    """The stack reads secrets by ``secret_variables``; each must belong to one user here."""
    spec = load_environment(environment_name).redis
    assert spec is not None
    assert sorted(user_secrets(spec).values()) == sorted(secret_variables(spec))
