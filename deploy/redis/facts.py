"""Facts about a Redis host that keep its secrets on it.

users.acl holds each user's password as an unsalted SHA-256 (``#<hex>``): read back as a file
(pyinfra's ``FileContents``), it would be printed by ``pyinfra -vvv``, which shows every fact's
output (``pyinfra/api/facts.py:322-326``; ``-vvv`` sets ``print_fact_output``,
``pyinfra_cli/cli.py:624-626``), and a hash without salt is a fast password-guessing oracle.
"""

import shlex
from collections.abc import Sequence

from pyinfra.api.facts import FactBase

from datalayer.redis.changes import NO_OP_RULES, AclChange, LoadedAcl
from datalayer.redis.passwords import ADMIN_USER


def admin_call(socket: str, arguments: Sequence[str]) -> str:
    """redis-cli as the admin user over the Unix socket, the password read from stdin."""
    return shlex.join(["redis-cli", "-s", socket, "--user", ADMIN_USER, "--askpass", *arguments])


class RedisAclChange(FactBase[AclChange]):
    """How the users.acl at ``path`` differs from the one sent on the fact's stdin, compared on
    the host as :func:`datalayer.redis.changes.acl_change` compares two texts: the whole file,
    then the admin user's rules (its first ``user ADMIN`` line, after the name). Only the words
    ``same``, ``changed`` or ``admin-changed`` come back. Call with ``_stdin=wanted_acl``."""

    def command(self, path: str, admin_user: str) -> str:
        rules = (
            f'$1 == "user" && $2 == "{admin_user}" '
            '{ sub(/^[ \t]*[^ \t]+[ \t]+[^ \t]+[ \t]*/, ""); print "=" $0; exit }'
        )
        # $(...) drops trailing newlines: an "x" after the text keeps them, then is cut off. A
        # missing file reads as empty, as acl_change takes None.
        return (
            "wanted=$(cat; printf x); wanted=${wanted%x}; "
            f"current=$(cat {shlex.quote(path)} 2>/dev/null; printf x); current=${{current%x}}; "
            'if [ "$current" = "$wanted" ]; then echo same; '
            f'elif [ "$(printf %s "$current" | awk \'{rules}\')" = '
            f'"$(printf %s "$wanted" | awk \'{rules}\')" ]; then echo changed; '
            "else echo admin-changed; fi"
        )

    def process(self, output: list[str]) -> AclChange:
        answer = output[-1].strip()
        return AclChange(changed=answer != "same", admin_changed=answer == "admin-changed")


# ACL LIST's and users.acl's user lines, the no-op rules left out, in one order: the shell form
# of datalayer.redis.changes.acl_in_force (LC_ALL=C sort orders as Python's sorted does).
_USERS = (
    'awk \'$1 == "user" { line = ""; for (i = 1; i <= NF; i++) if ('
    + " && ".join(f'$i != "{rule}"' for rule in sorted(NO_OP_RULES))
    + ') line = line (line == "" ? "" : " ") $i; print line }\' | LC_ALL=C sort'
)


class RedisSettings(FactBase[str | None]):
    """The settings file at ``path``, its secret settings compared on the host with the wanted
    file sent on stdin: a line of ``secret_names`` (``masterauth``) comes back as ``NAME same``
    or ``NAME changed``, never with its value; every other line as it is. None where the file
    does not exist. Call with ``_stdin=hidden_stdin(wanted_file)``.
    """

    def command(self, path: str, secret_names: tuple[str, ...]) -> str:
        program = (
            'BEGIN { n = split(names, list, " "); for (i = 1; i <= n; i++) secret[list[i]] = 1 } '
            "NR == FNR { if ($1 in secret) wanted[$1] = $0; next } "
            '$1 in secret { print $1, ($0 == wanted[$1] ? "same" : "changed"); next } '
            "{ print }"
        )
        names = shlex.quote(" ".join(secret_names))
        return (
            f"if [ -f {shlex.quote(path)} ]; then awk -v names={names} {shlex.quote(program)} - "
            f"{shlex.quote(path)}; else cat >/dev/null; echo absent; fi"
        )

    def process(self, output: list[str]) -> str | None:
        if output == ["absent"]:
            return None
        return "\n".join(output) + "\n"


class RedisLoadedAcl(FactBase[LoadedAcl | None]):
    """Whether the running server has loaded the users.acl the deploy wants, compared on the
    host (``ACL LIST`` as the admin user against the wanted file): only ``in-force``,
    ``not-in-force``, ``admin-refused`` or ``unknown`` come back, never a hash. None (unknown)
    while the server is not running or does not answer: the files alone then decide.

    Call with ``_stdin=hidden_stdin(ADMIN_PASSWORD + "\\n" + wanted_acl)``: the first line is the
    admin password, which goes to redis-cli through a shell builtin, on no command line.
    """

    def command(self, socket: str, service: str) -> str:
        listed = admin_call(socket, ["ACL", "LIST"])
        return (
            f"if systemctl is-active --quiet {shlex.quote(service)} && "
            f"[ -S {shlex.quote(socket)} ]; then IFS= read -r password; wanted=$(cat); "
            f"reply=$(printf '%s\\n' \"$password\" | {listed} 2>&1); "
            'case "$reply" in *WRONGPASS*) echo admin-refused ;; '
            f'user\\ *) if [ "$(printf \'%s\\n\' "$reply" | {_USERS})" = '
            f'"$(printf \'%s\\n\' "$wanted" | {_USERS})" ]; then echo in-force; '
            "else echo not-in-force; fi ;; *) echo unknown ;; esac; "
            "else cat >/dev/null; echo unknown; fi"
        )

    def process(self, output: list[str]) -> LoadedAcl | None:
        answer = output[-1].strip() if output else "unknown"
        if answer == "admin-refused":
            return LoadedAcl(in_force=False, admin_refused=True)
        if answer in ("in-force", "not-in-force"):
            return LoadedAcl(in_force=answer == "in-force")
        return None


class SeededFiles(FactBase[frozenset[str]]):
    """Those of ``paths`` that hold ``marker`` as a whole line: the files the deploy seeded,
    which are their servers' own from then on (``datalayer.redis.sentinel``)."""

    def command(self, paths: tuple[str, ...], marker: str) -> str:
        return (
            "".join(
                f"if grep -qxF {shlex.quote(marker)} {shlex.quote(path)} 2>/dev/null; then "
                f"echo {shlex.quote(path)}; fi; "
                for path in paths
            )
            + "true"
        )

    @staticmethod
    def default() -> frozenset[str]:
        return frozenset()

    def process(self, output: list[str]) -> frozenset[str]:
        return frozenset(line.strip() for line in output if line.strip())


class SentinelKnownMasters(FactBase[tuple[str, ...]]):
    """The master address each of the ``addresses``' Sentinels answers for ``master_name``
    (``SENTINEL GET-MASTER-ADDR-BY-NAME``, as the admin user), in order; empty when none knows
    one (the first deploy, where no Sentinel of ours runs yet).

    Call with ``_stdin=hidden_stdin(ADMIN_PASSWORD + "\\n")``. A Sentinel that is not ours (the
    package's, before the deploy replaced its file) may answer anything: the caller keeps only
    answers that are hosts of its group.
    """

    def command(self, addresses: tuple[str, ...], port: int, master_name: str) -> str:
        asks = "".join(
            "printf '%s\\n' \"$password\" | timeout 3 "
            + shlex.join(["redis-cli", "-h", address, "-p", str(port), "--user", ADMIN_USER])
            + " --askpass SENTINEL GET-MASTER-ADDR-BY-NAME "
            + shlex.quote(master_name)
            + " 2>/dev/null | head -n 1; "
            for address in addresses
        )
        return f"IFS= read -r password; {{ {asks}}} | grep -v '^$' || true"

    @staticmethod
    def default() -> tuple[str, ...]:
        return ()

    def process(self, output: list[str]) -> tuple[str, ...]:
        return tuple(line.strip() for line in output if line.strip())


class SentinelSettings(FactBase[dict[str, str] | None]):
    """What the local Sentinel says of the master it monitors as ``master_name`` (``SENTINEL
    MASTER``, as the admin user over its socket): every field by name, e.g. ``quorum``,
    ``down-after-milliseconds``; None while Sentinel is not running or does not know it.

    Call with ``_stdin=hidden_stdin(ADMIN_PASSWORD + "\\n")``; the answer holds no secret.
    """

    def command(self, socket: str, master_name: str) -> str:
        asked = admin_call(socket, ["SENTINEL", "MASTER", master_name])
        return (
            f"if [ -S {shlex.quote(socket)} ]; then IFS= read -r password; "
            f"printf '%s\\n' \"$password\" | {asked} 2>&1; else cat >/dev/null; fi"
        )

    def process(self, output: list[str]) -> dict[str, str] | None:
        # An error (no such master, a refused login) is one line, not the fields from 'name'.
        if len(output) < 2 or len(output) % 2 or output[0] != "name":
            return None
        return dict(zip(output[::2], output[1::2], strict=True))


class SentinelSecretsInForce(FactBase[bool | None]):
    """Whether Sentinel's own file holds the wanted password of the sentinel user, both where
    Sentinel logs in to Redis (``sentinel auth-pass NAME``) and to its peers (``sentinel
    sentinel-pass``), compared on the host: only ``same`` or ``changed`` come back. None when
    the file has no such lines (not seeded yet).

    Call with ``_stdin=hidden_stdin(SENTINEL_PASSWORD + "\\n")``. Sentinel writes the password
    bare, where the seed quotes it; both are read.
    """

    def command(self, path: str, master_name: str) -> str:
        found = (
            "awk -v name=" + shlex.quote(master_name) + " '"
            '$1 == "sentinel" && (($2 == "auth-pass" && $3 == name) || $2 == "sentinel-pass") '
            '{ value = $NF; gsub(/^"|"$/, "", value); print value }'
            "' " + shlex.quote(path)
        )
        return (
            f"IFS= read -r wanted; found=$({found} 2>/dev/null | sort -u); "
            'if [ -z "$found" ]; then echo unknown; '
            'elif [ "$found" = "$wanted" ]; then echo same; else echo changed; fi'
        )

    def process(self, output: list[str]) -> bool | None:
        answer = output[-1].strip() if output else "unknown"
        return None if answer == "unknown" else answer == "same"
