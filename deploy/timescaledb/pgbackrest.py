"""pyinfra operations for pgBackRest: the stanza, the archiving check, the files of secrets.

Each reads a fact (``deploy.timescaledb.facts``), compares it with the wanted state, and yields
commands or says ``noop``. pgBackRest always runs as postgres: it owns the data directory and the
repository, and a lock or log file left behind by root would stop the next ``archive-push``.
"""

import hashlib
from collections.abc import Generator
from dataclasses import dataclass

from pydantic import SecretStr
from pyinfra.api.command import StringCommand
from pyinfra.api.operation import OperationMeta, operation
from pyinfra.context import host
from pyinfra.facts.files import File, Sha256File

from datalayer.timescaledb.backup.archiving import check_reason
from deploy.timescaledb.facts import PgbackrestStanza, PostgresqlArchiver, pgbackrest_arguments


def pgbackrest(stanza: str, command: str, *options: str) -> str:
    """The shell command that runs pgBackRest ``command`` on ``stanza`` as postgres."""
    return "runuser -u postgres -- " + pgbackrest_arguments(stanza, command, *options)


@operation()
def stanza(stanza: str) -> Generator[StringCommand, None, None]:
    """Create the stanza in the repository unless it is there already.

    + stanza: the stanza's name

    The fact is read when the operation runs, after pgBackRest's configuration is in place, so
    a deploy that moves the repository creates the stanza in the new one. Runs offline
    (``--no-online``: the cluster's identity comes from pg_control), so it can come before the
    server restarts with archive_mode on, and no WAL segment is ever pushed to a stanza that
    does not exist yet.

    Will not touch a stanza that exists, not even one of another cluster (a replacement
    droplet's deploy meets its predecessor's stanza): ``pgbackrest check`` then fails the deploy
    ("backup and archive info files exist but do not match the database") until the
    predecessor is restored onto the new droplet.
    """
    status = host.get_fact(PgbackrestStanza, stanza=stanza)
    if status is not None and status.exists:
        host.noop(f"stanza {stanza} exists ({status.message})")
        return
    yield StringCommand(
        pgbackrest(stanza, "stanza-create", "--no-online"), "#", f"stanza {stanza} is missing"
    )


REPOSITORY_WAIT_SECONDS = 300
"""How long a member waits for an SFTP repository host deployed in the same run: under
``pyinfra --no-wait`` (``datalayer.deploy_run``) each host runs its operations on its own
(``_run_no_wait_ops``, pyinfra/api/operations.py:297-310), so a member may reach its stanza
before the repository host has its user, key and sshd drop-in."""
REPOSITORY_POLL_SECONDS = 5


@operation()
def repository_answers(stanza: str) -> Generator[StringCommand, None, None]:
    """Wait until pgBackRest reaches the stanza's SFTP repository (``pgbackrest repo-ls``).

    + stanza: the stanza's name

    The repository host's deploy installs the members' key only after the repository's
    directories, and sshd looks for it only once the drop-in that names its file is loaded:
    a login that succeeds means the repository is ready. Gives up after
    ``REPOSITORY_WAIT_SECONDS``, failing the deploy with pgBackRest's own error. Run only when
    the member's repository files changed; otherwise its archiver is the evidence.
    """
    attempts = REPOSITORY_WAIT_SECONDS // REPOSITORY_POLL_SECONDS
    listing = pgbackrest(stanza, "repo-ls")
    yield StringCommand(
        f"for attempt in $(seq {attempts}); do {listing} > /dev/null 2>&1 && exit 0; "
        f"sleep {REPOSITORY_POLL_SECONDS}; done; {listing} > /dev/null",
        "#",
        f"until the repository answers, at most {REPOSITORY_WAIT_SECONDS} s",
    )


@operation()
def check(
    stanza: str,
    version: int,
    cluster: str,
    archive_command: str,
    repository_operations: tuple[OperationMeta, ...],
) -> Generator[StringCommand, None, None]:
    """Prove that the server archives to the stanza's repository (``pgbackrest check``).

    + stanza: the stanza's name
    + version, cluster: the PostgreSQL cluster
    + archive_command: the archive_command the server should be running with
    + repository_operations: the operations that install pgBackRest's configuration and keys
      and create the stanza: the repository changes in this deploy when one of them does

    A failed check fails the deploy. The check runs only when something it proves may have
    changed, or the server reports that archiving fails (``check_reason``); otherwise the
    archiver's counters are the evidence and the operation changes nothing.
    """
    # Executed operations say whether they changed something; while pyinfra only plans (a run
    # without --yes), whether they will.
    repository_changing = any(
        operation.did_change() if operation.is_complete() else operation.will_change
        for operation in repository_operations
    )
    archiver = host.get_fact(PostgresqlArchiver, version=version, cluster=cluster)
    reason = check_reason(archiver, archive_command, repository_changing)
    if reason is None:
        assert archiver is not None
        host.noop(
            f"archiving to stanza {stanza} works ({archiver.archived_count} WAL files archived, "
            f"last {archiver.last_archived_wal or 'none yet'}, no failure since)"
        )
        return
    yield StringCommand(pgbackrest(stanza, "check"), "#", reason)


@dataclass(frozen=True)
class SecretFileOwner:
    """Who owns a file holding a secret, and its permission bits as ``stat -c %a`` shows them."""

    user: str
    group: str
    mode: int


S3_KEYS_FILE_OWNER = SecretFileOwner("root", "postgres", 640)
"""pgBackRest (as postgres) reads the S3 keys file and cannot change it."""
SFTP_PRIVATE_KEY_OWNER = SecretFileOwner("postgres", "postgres", 600)
"""libssh2 reads the private key as postgres; nobody else may read it, as ssh requires."""


@operation()
def secret_file(
    path: str, content: SecretStr | None, owner: SecretFileOwner, what: str
) -> Generator[StringCommand, None, None]:
    """Install a file holding a secret without ever printing it, or remove it.

    + path: the file
    + content: the whole file (``render_repository_keys``, an SSH private key); None when the
      repository needs no such file, which removes one left from an earlier repository
    + owner: its owner, group and mode
    + what: what it holds, for the masked command line (``# repository keys ***``)

    The file goes over the SSH session's stdin, never argv, and is compared by its SHA-256 only,
    so neither the secret nor a diff of it reach pyinfra's output (even with ``--diff``).
    """
    current = host.get_fact(Sha256File, path=path)
    if content is None:
        if current is None:
            host.noop(f"{path} is absent")
            return
        yield StringCommand("rm -f", path)
        return
    text = content.get_secret_value()
    stat = host.get_fact(File, path=path)
    if (
        current == hashlib.sha256(text.encode()).hexdigest()
        and stat
        and (stat["user"], stat["group"], stat["mode"]) == (owner.user, owner.group, owner.mode)
    ):
        host.noop(f"{path} is current")
        return
    yield StringCommand(
        f"install -m {owner.mode} -o {owner.user} -g {owner.group} /dev/stdin",
        path,
        "#",
        f"{what} ***",
        _stdin=text,
    )
