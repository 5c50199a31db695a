"""The sandbox cluster's spec and three members, as the deploy would see them."""

import pytest
from pydantic import SecretStr

from datalayer.cluster.members import ClusterSecrets
from datalayer.etcd.topology import ClusterHost
from datalayer.spec import EnvironmentSpec, load_environment

ENVIRONMENT = "sandbox-cluster"
MEMBERS = tuple(ClusterHost(f"patroni-{index}", f"172.30.57.{10 + index}") for index in (1, 2, 3))
SECRETS = ClusterSecrets(
    rest_api=SecretStr("rest-api-password"),
    replication=SecretStr("replication-password"),
    rewind=SecretStr("rewind-password"),
    etcd=SecretStr("etcd-password"),
)


@pytest.fixture(scope="module")
def environment() -> EnvironmentSpec:
    return load_environment(ENVIRONMENT)
