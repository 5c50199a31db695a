"""What the PathStates fact makes of its command's output: recorded on a deployed sandbox
droplet (Debian 13, GNU findutils 4.10) by running the fact's command for pgBackRest's
directories, its configuration and the keys file, which a posix repository does not have."""

import pytest

from deploy.facts import PathState, PathStates

CONF = "/etc/pgbackrest/pgbackrest.conf"
CONF_SHA256 = "36f082a00df3ce290b82b95be1fd1382484c4f57838c98713c99423164441c60"
RECORDED = [
    "stat|d|root|root|755|/etc/pgbackrest",
    "stat|d|root|postgres|750|/etc/pgbackrest/conf.d",
    "stat|d|postgres|postgres|750|/var/lib/pgbackrest",
    f"stat|f|root|postgres|640|{CONF}",
    f"{CONF_SHA256}  {CONF}",
]


def test_each_existing_path_has_its_kind_owner_mode_and_a_file_its_digest() -> None:
    assert PathStates().process(RECORDED) == {
        "/etc/pgbackrest": PathState("d", "root", "root", 0o755),
        "/etc/pgbackrest/conf.d": PathState("d", "root", "postgres", 0o750),
        "/var/lib/pgbackrest": PathState("d", "postgres", "postgres", 0o750),
        CONF: PathState("f", "root", "postgres", 0o640, CONF_SHA256),
    }


def test_a_path_that_does_not_exist_is_left_out() -> None:
    assert "/etc/pgbackrest/conf.d/repository-keys.conf" not in PathStates().process(RECORDED)


@pytest.mark.parametrize(
    ("content", "holds"),
    [(b"other\n", False), (b"", False)],
    ids=["other-content", "empty"],
)
def test_a_file_holds_only_the_content_of_its_digest(content: bytes, holds: bool) -> None:
    assert PathStates().process(RECORDED)[CONF].holds(content) is holds


def test_a_directory_holds_no_content() -> None:
    assert not PathStates().process(RECORDED)["/etc/pgbackrest"].holds(b"")


def test_missing_paths_are_dropped_before_find_runs() -> None:
    command = PathStates().command(paths=("/etc/pgbackrest", "/etc/x y"))
    assert command == (
        "set --; for path in /etc/pgbackrest '/etc/x y'; do "
        'if [ -e "$path" ] || [ -L "$path" ]; then set -- "$@" "$path"; fi; done; '
        'if [ $# -gt 0 ]; then find "$@" -maxdepth 0 '
        "-printf 'stat|%y|%u|%g|%m|%p\\n' -type f -exec sha256sum {} +; fi"
    )
