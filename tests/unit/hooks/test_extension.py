"""Which timescaledb version a database converges to, and when the hooks refuse to move it.

The versions are what Debian 13's postgresql-17-timescaledb 2.19.3+dfsg-1+deb13u1 answers on a
sandbox droplet: pg_available_extensions.default_version '2.19.3' (its timescaledb.control), and
pg_available_extension_versions lists only '2.19.3', the one version with an install script (the
package's timescaledb--OLD--2.19.3.sql update scripts add sources of updates, not versions to
create). Newer defaults are what Timescale's packages would install.
"""

import pytest

from datalayer.onhost.hooks.extension import ExtensionState, target_version, version_key
from datalayer.onhost.hooks.report import HookError


def state(installed: str | None, default: str = "2.19.3") -> ExtensionState:
    return ExtensionState("trading", installed, default, frozenset({default}))


def test_versions_order_numerically() -> None:
    assert sorted(["2.10.0", "2.9.1", "2.27.0-p0", "2.27.0"], key=version_key) == [
        "2.9.1",
        "2.10.0",
        "2.27.0",
        "2.27.0-p0",
    ]


def test_a_new_database_gets_the_package_default() -> None:
    assert target_version(state(None), pinned=None) == "2.19.3"


def test_a_package_upgrade_moves_the_target_to_its_default() -> None:
    assert target_version(state("2.19.3", default="2.22.1"), pinned=None) == "2.22.1"


def test_a_pin_holds_the_version_below_the_package_default() -> None:
    assert target_version(state("2.19.0", default="2.22.1"), pinned="2.19.3") == "2.19.3"


def test_a_pin_below_the_running_version_is_refused() -> None:
    with pytest.raises(HookError) as raised:
        target_version(state("2.19.3"), pinned="2.18.2")
    assert str(raised.value).startswith(
        "database trading runs timescaledb 2.19.3, newer than timescaledb.extension_version "
        "2.18.2: an extension is never downgraded in place"
    )


def test_a_package_default_below_the_running_version_is_refused() -> None:
    with pytest.raises(HookError, match=r"newer than the package default 2\.19\.3"):
        target_version(state("2.22.1"), pinned=None)


def test_a_new_database_pinned_to_a_version_the_package_cannot_install_is_refused() -> None:
    with pytest.raises(HookError) as raised:
        target_version(state(None), pinned="2.22.1")
    assert str(raised.value) == (
        "timescaledb.extension_version '2.22.1' is not installed on this server (the installed "
        "package installs 2.19.3): install the package that ships it, or change the pin"
    )


def test_a_running_database_pinned_higher_leaves_the_path_to_the_server() -> None:
    assert target_version(state("2.19.3"), pinned="2.22.1") == "2.22.1"
