"""The host compares users.acl as acl_change compares two texts, and answers in words only:
its password hashes are never a fact's output, which ``pyinfra -vvv`` prints."""

import subprocess
import sys
from pathlib import Path

import pytest

from datalayer.redis.changes import AclChange, acl_change
from deploy.redis.facts import RedisAclChange
from deploy.stdin import hidden_stdin

ACL = """user default off resetpass resetkeys resetchannels -@all
user admin on #aaaa resetkeys resetchannels -@all +config|set
user app on #bbbb ~price:* resetchannels -@all +@read +@write
"""
CASES = {
    "same": (ACL, ACL),
    "app-password": (ACL, ACL.replace("#bbbb", "#cccc")),
    "admin-password": (ACL, ACL.replace("#aaaa", "#dddd")),
    "no-file-yet": (None, ACL),
    "trailing-newline-only": (ACL.rstrip("\n"), ACL),
    "admin-removed": (ACL, ACL.replace("user admin on #aaaa", "user root on #aaaa")),
    "extra-spaces-in-admin-rules": (ACL, ACL.replace("user admin on", "user admin  on")),
}


def _on_host(current: str | None, wanted: str, directory: Path) -> tuple[str, AclChange]:
    """Run the fact's command in a shell, as pyinfra does on the host; its output and reading."""
    path = directory / "users.acl"
    if current is not None:
        path.write_text(current)
    command = RedisAclChange().command(str(path), "admin")
    completed = subprocess.run(
        ["sh", "-c", command], input=wanted, capture_output=True, text=True, check=True
    )
    return completed.stdout, RedisAclChange().process(completed.stdout.splitlines())


@pytest.mark.parametrize(("current", "wanted"), CASES.values(), ids=CASES.keys())
def test_host_compares_as_acl_change_does(current: str | None, wanted: str, tmp_path: Path) -> None:
    _, answer = _on_host(current, wanted, tmp_path)
    assert answer == acl_change(current, wanted, "admin")


@pytest.mark.parametrize(("current", "wanted"), CASES.values(), ids=CASES.keys())
def test_host_answers_without_any_hash(current: str | None, wanted: str, tmp_path: Path) -> None:
    output, _ = _on_host(current, wanted, tmp_path)
    assert output.strip() in {"same", "changed", "admin-changed"}


def test_wanted_file_travels_on_stdin_not_the_command_line() -> None:
    assert "#aaaa" not in RedisAclChange().command("/etc/redis/users.acl", "admin")


def test_pyinfra_vvv_shows_no_hash_of_either_file(tmp_path: Path) -> None:
    """The real pyinfra at -vvv (every command, every fact's output and arguments), on @local."""
    acl = tmp_path / "users.acl"
    acl.write_text(ACL)
    deploy = tmp_path / "compare_acl.py"
    deploy.write_text(
        "from pyinfra.context import host\n"
        "from deploy.redis.facts import RedisAclChange\n"
        "from deploy.stdin import hidden_stdin\n"
        f"wanted = {ACL.replace('#bbbb', '#cccc')!r}\n"
        f"print(host.get_fact(RedisAclChange, path={str(acl)!r}, admin_user='admin',\n"
        "                     _stdin=hidden_stdin(wanted)))\n"
    )
    pyinfra = Path(sys.executable).with_name("pyinfra")
    completed = subprocess.run(
        [str(pyinfra), "-vvv", "--dry", "@local", str(deploy)],
        cwd=tmp_path, capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    output = completed.stdout + completed.stderr
    assert "AclChange(changed=True, admin_changed=False)" in output, output
    assert "#bbbb" not in output
    assert "#cccc" not in output
    assert "_stdin='***'" in output


def test_hidden_stdin_sends_every_line_and_shows_none() -> None:
    lines = hidden_stdin(ACL)
    assert "".join(lines) == ACL
    assert str(lines) == repr(lines) == "'***'"
