"""A first deploy killed while it installs the packages, then deployed again.

Its own droplet, never deployed before (the shared one of conftest.py has its first deploy by the
time most tests run), in a sandbox state directory of its own so that its deploys meet no other
host. The deploy is cut where it spends most of its time and where a dropped SSH link or a reboot
most likely hits it: dpkg is killed on the droplet the moment pgBackRest is unpacked, before
postgresql-common's maintainer script has created the postgres user.
"""

import hashlib
import subprocess
from collections.abc import Iterator

import pytest

from datalayer.deploy_run import DeployResult
from datalayer.paths import REPOSITORY_ROOT
from tests.deploy.conftest import Deployment, timescaledb_droplet

pytestmark = pytest.mark.sandbox

DROPLET = "interrupt-" + hashlib.sha256(str(REPOSITORY_ROOT).encode()).hexdigest()[:8]

# Runs on the droplet, detached: waits until dpkg has unpacked pgbackrest, then kills dpkg as a
# reboot would. Bounded, so that a deploy that never gets there leaves nothing running.
KILL_DPKG_ONCE_PGBACKREST_IS_UNPACKED = (
    "timeout 300 sh -c \"until dpkg-query --show --showformat '\\${db:Status-Abbrev}' "
    "pgbackrest 2>/dev/null | grep -q '^iU'; do sleep 0.05; done; pkill -9 -x dpkg\""
)

# Stands for the interrupted run's apt still finishing when the next deploy starts: a process
# holding dpkg's frontend lock (an fcntl lock, as apt and dpkg take it) for 15 seconds.
HOLD_DPKG_LOCK = (
    'python3 -c \'import fcntl, time; lock = open("/var/lib/dpkg/lock-frontend", "w"); '
    "fcntl.lockf(lock, fcntl.LOCK_EX); time.sleep(15)'"
)


@pytest.fixture(scope="module")
def fresh_deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    yield from timescaledb_droplet("tests-interrupt", DROPLET, tmp_path_factory)


@pytest.fixture(scope="module")
def interrupted_deploy(fresh_deployment: Deployment) -> DeployResult:
    """The first deploy, with dpkg killed mid-install; asserts the host was left half-installed."""
    subprocess.run(
        ["docker", "exec", "--detach", fresh_deployment.container, "sh", "-c",
         KILL_DPKG_ONCE_PGBACKREST_IS_UNPACKED],
        check=True,
    )  # fmt: skip
    result = fresh_deployment.deploy()
    assert not result.succeeded, result.output
    assert fresh_deployment.sh("dpkg --audit"), "dpkg was not interrupted"
    assert fresh_deployment.sh("id -u postgres 2>/dev/null || echo missing") == "missing"
    return result


@pytest.fixture(scope="module")
def rerun(fresh_deployment: Deployment, interrupted_deploy: DeployResult) -> DeployResult:
    """The next deploy, started while a process still holds dpkg's lock."""
    subprocess.run(
        ["docker", "exec", "--detach", fresh_deployment.container, "sh", "-c", HOLD_DPKG_LOCK],
        check=True,
    )  # fmt: skip
    held = "sleep 1; lslocks --noheadings --output PATH | grep -c /var/lib/dpkg/lock-frontend"
    assert fresh_deployment.sh(held) == "1", "nothing holds dpkg's lock"
    return fresh_deployment.deploy()


def test_rerun_after_interrupted_install_converges(
    fresh_deployment: Deployment, rerun: DeployResult
) -> None:
    assert rerun.succeeded, rerun.output
    assert fresh_deployment.sh("dpkg --audit") == ""
    assert (
        fresh_deployment.sql(
            "SELECT extname FROM pg_extension WHERE extname = 'timescaledb'", "trading"
        )
        == "timescaledb"
    )


def test_deploy_after_the_converging_rerun_changes_nothing(
    fresh_deployment: Deployment, rerun: DeployResult
) -> None:
    assert rerun.succeeded, rerun.output
    third = fresh_deployment.deploy()
    assert third.succeeded, third.output
    assert third.changed == 0, third.output
