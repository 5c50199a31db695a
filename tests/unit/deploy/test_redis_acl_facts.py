"""The host compares users.acl as acl_change compares two texts, and answers in words only:
its password hashes are never a fact's output, which ``pyinfra -vvv`` prints."""

import subprocess
import sys
from pathlib import Path

import pytest

from datalayer.redis.changes import AclChange, LoadedAcl, acl_change, acl_in_force
from deploy.redis.facts import RedisAclChange, RedisLoadedAcl
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


# --- What the running server has loaded --------------------------------------------------------

# ACL LIST of Redis 8.0.2 (Debian 13's redis-server in the sandbox image) after loading ACL:
# each user rebuilt from scratch, sanitize-payload printed, resetpass and resetkeys gone (Redis
# 8.0 src/acl.c:422-423 ACLCreateUser, :846-905 ACLDescribeUser), users sorted by name.
ACL_LIST = """user admin on sanitize-payload #aaaa resetchannels -@all +config|set
user app on sanitize-payload #bbbb ~price:* resetchannels -@all +@read +@write
user default off sanitize-payload resetchannels -@all
"""
# What redis-cli 8.0.2 prints when the server refuses the login (and carries on as default).
WRONGPASS = "AUTH failed: WRONGPASS invalid username-password pair or user is disabled.\n"
LOADED_CASES = {
    "loaded": (True, ACL_LIST, ACL, "in-force"),
    "another-password-in-the-file": (True, ACL_LIST, ACL.replace("#bbbb", "#cccc"), "not-in-force"),
    "admin-password-refused": (True, WRONGPASS, ACL, "admin-refused"),
    "server-not-running": (False, ACL_LIST, ACL, "unknown"),
}


def _loaded_on_host(
    running: bool, reply: str, wanted: str, directory: Path
) -> tuple[str, str, str]:
    """The fact's command under sh, with systemctl and redis-cli standing in for the host's
    (they answer as recorded above): its output, what redis-cli got on stdin, and its argv."""
    (directory / "reply").write_text(reply)
    for name, body in (
        ("systemctl", f"exit {0 if running else 3}"),
        (
            "redis-cli",
            f'cat > {directory}/stdin; echo "$@" > {directory}/argv; cat {directory}/reply',
        ),
    ):
        stub = directory / name
        stub.write_text(f"#!/bin/sh\n{body}\n")
        stub.chmod(0o755)
    socket = directory / "redis.sock"
    # A socket file for the command's `[ -S ... ]`: bound once, nobody listens.
    binder = f"import socket; socket.socket(socket.AF_UNIX).bind({str(socket)!r})"
    subprocess.run([sys.executable, "-c", binder], check=True)
    command = RedisLoadedAcl().command(str(socket), "redis-server.service")
    completed = subprocess.run(
        ["sh", "-c", command], input="admin-password\n" + wanted, capture_output=True,
        text=True, check=True, env={"PATH": f"{directory}:/usr/bin:/bin"},
    )  # fmt: skip
    seen = (directory / "stdin").read_text() if (directory / "stdin").exists() else ""
    argv = (directory / "argv").read_text() if (directory / "argv").exists() else ""
    return completed.stdout, seen, argv


@pytest.mark.parametrize(
    ("running", "reply", "wanted", "answer"), LOADED_CASES.values(), ids=LOADED_CASES.keys()
)
def test_host_judges_the_loaded_acl_as_acl_in_force_does(
    running: bool, reply: str, wanted: str, answer: str, tmp_path: Path
) -> None:
    output, _, _ = _loaded_on_host(running, reply, wanted, tmp_path)
    assert output.strip() == answer
    loaded = RedisLoadedAcl().process(output.splitlines())
    if answer in ("in-force", "not-in-force"):
        assert loaded == LoadedAcl(in_force=acl_in_force(reply.splitlines(), wanted))


def test_admin_password_reaches_redis_cli_on_stdin_only(tmp_path: Path) -> None:
    _, seen, argv = _loaded_on_host(True, ACL_LIST, ACL, tmp_path)
    assert (seen, "admin-password" in argv) == ("admin-password\n", False)
