"""What the UnitStates fact makes of ``systemctl show``: recorded on a deployed sandbox droplet
(systemd 257, Debian 13) by running the fact's command for the cluster's service, a backup timer
and a timer no unit file defines."""

from deploy.facts import UnitState, UnitStates
from deploy.operations import unit_id

RECORDED = [
    "Id=postgresql@17-main.service",
    "ActiveState=active",
    "UnitFileState=enabled",
    "",
    "Id=pgbackrest-backup-full.timer",
    "ActiveState=active",
    "UnitFileState=enabled",
    "",
    "Id=nosuch.timer",
    "ActiveState=inactive",
    "UnitFileState=",
]


def test_each_unit_has_its_active_and_unit_file_state() -> None:
    assert UnitStates().process(RECORDED) == {
        "postgresql@17-main.service": UnitState("active", "enabled"),
        "pgbackrest-backup-full.timer": UnitState("active", "enabled"),
        "nosuch.timer": UnitState("inactive", ""),
    }


def test_an_unknown_unit_is_neither_enabled_nor_running() -> None:
    unknown = UnitStates().process(RECORDED)["nosuch.timer"]
    assert (unknown.enabled, unknown.running) == (False, False)


def test_a_unit_named_without_its_type_is_found_as_a_service() -> None:
    assert unit_id("postgresql@17-main") in UnitStates().process(RECORDED)


def test_one_command_asks_for_every_unit() -> None:
    assert UnitStates().command(units=("postgresql@17-main", "nosuch.timer")) == (
        "systemctl show --property Id,ActiveState,UnitFileState postgresql@17-main nosuch.timer"
    )
