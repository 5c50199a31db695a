"""The etcd deploy on three sandbox droplets of the ``etcd`` group: one cluster of the
inventory's hosts, authentication on, Patroni's user confined to its scope, reruns that change
and restart nothing, data that outlives a restart, and a quorum that outlives one droplet.

Until Patroni lands, the droplets are in the ``etcd`` group only, so ``deploy/site.py``
deploys etcd and nothing else on them.
"""

import secrets
import subprocess
from pathlib import Path

import pytest

from datalayer.deploy_run import DeployResult
from datalayer.etcd.authentication import PATRONI_USER, ROOT_USER, patroni_prefix
from datalayer.etcd.config import local_client_url
from datalayer.etcd.layout import DEBIAN_LAYOUT
from datalayer.spec import load_environment
from datalayer.spec.cluster import Cluster
from tests.cluster.conftest import ENVIRONMENT, ClusterSandbox

_cluster = load_environment(ENVIRONMENT).timescaledb.cluster
assert isinstance(_cluster, Cluster)
CLUSTER: Cluster = _cluster
PREFIX = patroni_prefix(CLUSTER.scope)


@pytest.fixture(scope="module")
def cluster_groups() -> tuple[str, ...]:
    return ("etcd",)


@pytest.fixture(scope="module")
def cluster_prefix() -> str:
    return "etcd"


@pytest.fixture(scope="module")
def first_deploy(cluster_sandbox: ClusterSandbox) -> DeployResult:
    result = cluster_sandbox.deploy(verbose=True)
    assert result.succeeded, result.output
    return result


def etcdctl(
    cluster: ClusterSandbox, host: str, arguments: str, user: str | None = None
) -> subprocess.CompletedProcess[str]:
    """etcdctl on ``host`` against its own member, logged in as ``user`` (anonymous: None) with
    the deploy's password for it, sent on stdin."""
    login = ""
    password = ""
    if user is not None:
        secret = {
            ROOT_USER: CLUSTER.etcd.root_password_secret,
            PATRONI_USER: CLUSTER.etcd.password_secret,
        }[user]
        password = cluster.passwords[secret] + "\n"
        login = f'IFS= read -r password; ETCDCTL_USER={user} ETCDCTL_PASSWORD="$password" '
    endpoint = local_client_url(CLUSTER.etcd)
    return cluster.run(
        host, f"{login}etcdctl --endpoints={endpoint} {arguments}", stdin=password, check=False
    )


def main_pids(cluster: ClusterSandbox) -> dict[str, str]:
    return {
        name: cluster.sh(name, f"systemctl show --property MainPID --value {DEBIAN_LAYOUT.service}")
        for name in cluster.names
    }


def test_members_are_the_inventory_hosts(
    cluster_sandbox: ClusterSandbox, first_deploy: DeployResult
) -> None:
    assert members(cluster_sandbox) == inventory_members(cluster_sandbox)


@pytest.mark.parametrize("index", range(3))
def test_every_member_is_healthy(
    cluster_sandbox: ClusterSandbox, first_deploy: DeployResult, index: int
) -> None:
    health = etcdctl(cluster_sandbox, cluster_sandbox.names[index], "endpoint health", ROOT_USER)
    assert health.returncode == 0, health.stdout + health.stderr
    assert "is healthy" in health.stdout + health.stderr


@pytest.mark.parametrize("index", range(3))
def test_package_never_bootstrapped_its_own_cluster(
    cluster_sandbox: ClusterSandbox, first_deploy: DeployResult, index: int
) -> None:
    # Debian's unit starts etcd with ETCD_DATA_DIR=/var/lib/etcd/default unless told otherwise.
    found = cluster_sandbox.run(cluster_sandbox.names[index], "ls /var/lib/etcd", check=False)
    assert found.stdout.split() == [Path(DEBIAN_LAYOUT.data_directory).name]


def members(cluster: ClusterSandbox) -> list[tuple[str, str]]:
    """The started members' names and peer URLs, as the first host's etcd lists them."""
    listed = etcdctl(cluster, cluster.names[0], "member list", ROOT_USER)
    assert listed.returncode == 0, listed.stderr
    return sorted(
        (fields[2], fields[3])
        for fields in (line.split(", ") for line in listed.stdout.splitlines())
        if fields[1] == "started"
    )


def inventory_members(cluster: ClusterSandbox) -> list[tuple[str, str]]:
    return sorted(
        (droplet.name, f"http://{droplet.private_address}:{CLUSTER.etcd.peer_port}")
        for droplet in cluster.droplets
    )


def test_deploy_output_shows_no_password(
    cluster_sandbox: ClusterSandbox, first_deploy: DeployResult
) -> None:
    shown = [
        name for name, value in cluster_sandbox.passwords.items() if value in first_deploy.output
    ]
    assert shown == []


@pytest.fixture(scope="module")
def second_deploy(
    cluster_sandbox: ClusterSandbox, first_deploy: DeployResult
) -> tuple[DeployResult, dict[str, str], dict[str, str]]:
    before = main_pids(cluster_sandbox)
    result = cluster_sandbox.deploy()
    return result, before, main_pids(cluster_sandbox)


def test_second_deploy_changes_nothing(
    second_deploy: tuple[DeployResult, dict[str, str], dict[str, str]],
) -> None:
    result, _, _ = second_deploy
    assert result.succeeded, result.output
    assert result.changed == 0, result.output


def test_second_deploy_restarts_nothing(
    second_deploy: tuple[DeployResult, dict[str, str], dict[str, str]],
) -> None:
    _, before, after = second_deploy
    assert after == before


def test_anonymous_read_is_refused(
    cluster_sandbox: ClusterSandbox, first_deploy: DeployResult
) -> None:
    read = etcdctl(cluster_sandbox, cluster_sandbox.names[0], f"get --prefix {PREFIX}")
    assert read.returncode != 0
    assert "user name is empty" in read.stderr


def test_patroni_writes_under_its_scope(
    cluster_sandbox: ClusterSandbox, first_deploy: DeployResult
) -> None:
    key = f"{PREFIX}datalayer-test"
    written = etcdctl(cluster_sandbox, cluster_sandbox.names[1], f"put {key} written", PATRONI_USER)
    assert written.returncode == 0, written.stderr
    read = etcdctl(
        cluster_sandbox, cluster_sandbox.names[2], f"get --print-value-only {key}", PATRONI_USER
    )
    assert read.stdout.strip() == "written"


@pytest.mark.parametrize(
    "key", ["/other", f"/service/{CLUSTER.scope}-other/leader", "/service/other/leader"]
)
def test_patroni_cannot_write_elsewhere(
    cluster_sandbox: ClusterSandbox, first_deploy: DeployResult, key: str
) -> None:
    written = etcdctl(cluster_sandbox, cluster_sandbox.names[0], f"put {key} x", PATRONI_USER)
    assert written.returncode != 0
    assert "permission denied" in written.stderr


def test_data_outlives_a_redeploy_that_restarts_etcd(
    cluster_sandbox: ClusterSandbox, second_deploy: object
) -> None:
    key = f"{PREFIX}kept"
    first = cluster_sandbox.names[0]
    assert etcdctl(cluster_sandbox, first, f"put {key} kept", PATRONI_USER).returncode == 0
    # Drift by hand: the redeploy writes the file back and restarts every member onto it.
    for name in cluster_sandbox.names:
        cluster_sandbox.sh(name, f"echo '# edited' >> {DEBIAN_LAYOUT.environment_file}")
    before = main_pids(cluster_sandbox)
    result = cluster_sandbox.deploy()
    assert result.succeeded, result.output
    assert all(after != before[name] for name, after in main_pids(cluster_sandbox).items())
    read = etcdctl(cluster_sandbox, first, f"get --print-value-only {key}", PATRONI_USER)
    assert read.stdout.strip() == "kept", read.stderr


@pytest.fixture(scope="module")
def rotated_deploy(cluster_sandbox: ClusterSandbox, second_deploy: object) -> DeployResult:
    """A deploy after patroni's password changed in its secret."""
    cluster_sandbox.set_password(CLUSTER.etcd.password_secret, secrets.token_urlsafe(24))
    return cluster_sandbox.deploy(verbose=True)


def test_rotated_patroni_password_is_set_and_nothing_else(
    cluster_sandbox: ClusterSandbox, rotated_deploy: DeployResult
) -> None:
    assert rotated_deploy.succeeded, rotated_deploy.output
    assert rotated_deploy.changed == 1, rotated_deploy.output
    login = etcdctl(cluster_sandbox, cluster_sandbox.names[0], f"get {PREFIX}x", PATRONI_USER)
    assert login.returncode == 0, login.stderr


def test_rotated_password_is_masked_in_the_output(
    cluster_sandbox: ClusterSandbox, rotated_deploy: DeployResult
) -> None:
    assert "user passwd patroni" in rotated_deploy.output
    assert cluster_sandbox.passwords[CLUSTER.etcd.password_secret] not in rotated_deploy.output


def test_verify_passes(
    cluster_sandbox: ClusterSandbox, first_deploy: DeployResult, tmp_path: Path
) -> None:
    completed = cluster_sandbox.verify(tmp_path)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_losing_one_member_keeps_the_cluster_writable(
    cluster_sandbox: ClusterSandbox, second_deploy: object
) -> None:
    lost = cluster_sandbox.names[-1]
    cluster_sandbox.stop(lost)
    try:
        written = etcdctl(
            cluster_sandbox, cluster_sandbox.names[0], f"put {PREFIX}after-loss yes", PATRONI_USER
        )
        assert written.returncode == 0, written.stderr
    finally:
        cluster_sandbox.start([lost])


PURGE = (
    f"systemctl stop {DEBIAN_LAYOUT.service} && "
    f"DEBIAN_FRONTEND=noninteractive apt-get purge -y -q {DEBIAN_LAYOUT.server_package} "
    f"{DEBIAN_LAYOUT.client_package} >/dev/null && "
    f"rm -rf /var/lib/etcd {DEBIAN_LAYOUT.environment_file}"
)


def test_deploy_forms_the_cluster_over_a_package_that_started_on_its_own(
    cluster_sandbox: ClusterSandbox, second_deploy: object
) -> None:
    # Last: it replaces the cluster. The package installed by hand starts etcd on Debian's
    # defaults, a one-member cluster in /var/lib/etcd/default on each host.
    install = (
        "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "
        f"{DEBIAN_LAYOUT.server_package} {DEBIAN_LAYOUT.client_package} >/dev/null"
    )
    for name in cluster_sandbox.names:
        cluster_sandbox.sh(name, f"{PURGE} && {install}")
        alone = cluster_sandbox.sh(name, "etcdctl member list")
        assert len(alone.splitlines()) == 1, alone
    try:
        result = cluster_sandbox.deploy()
        assert result.succeeded, result.output
        assert members(cluster_sandbox) == inventory_members(cluster_sandbox)
    finally:
        # The package's own cluster is left by the deploy (not its to delete); the next run of
        # this module starts from droplets without it.
        for name in cluster_sandbox.names:
            cluster_sandbox.sh(name, "rm -rf /var/lib/etcd/default")
