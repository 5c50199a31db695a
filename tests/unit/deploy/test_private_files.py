"""A file only its owner may read (a secret's) is never readable by others, not even while its
first upload is under way.

pyinfra uploads as the SSH user straight to the path (``pyinfra/connectors/ssh.py``, 3.10.0,
``put_file``: ``self._put_file(filename_or_io, remote_filename)`` when no sudo), and paramiko's
``putfo`` opens it with ``"wb"`` (``paramiko/sftp_client.py``, ``SFTPClient.putfo``), so a new
file is created by sftp-server with 0666 under its umask, 0644 on Debian, and its mode is set
only after the upload. An existing file keeps its mode when truncated, so only new files need
making private first.
"""

import pytest
from pyinfra.api.command import FileUploadCommand, StringCommand

from deploy.facts import PathState
from deploy.operations import WantedFile, file_commands
from tests.unit.deploy.recorded import RecordedHost, on

SECRET = WantedFile("/etc/default/prometheus-postgres-exporter", b"DATA_SOURCE_PASS=x\n", 0o600)


def planned(wanted: WantedFile, found: PathState | None) -> list[str]:
    """Each command ``file_commands`` yields, as text, the upload as ``upload PATH``."""
    with on(RecordedHost([])):
        return [
            f"upload {command.dest}"
            if isinstance(command, FileUploadCommand)
            else command.get_raw_value()
            for command in file_commands(wanted, found)
            if isinstance(command, FileUploadCommand | StringCommand)
        ]


def test_a_new_private_file_is_created_private_before_its_content_arrives() -> None:
    commands = planned(SECRET, None)
    upload = commands.index(f"upload {SECRET.path}")
    assert "umask 077" in " ".join(commands[:upload]), commands


@pytest.mark.parametrize("mode", [0o644, 0o640])
def test_a_file_others_may_read_is_uploaded_without_more(mode: int) -> None:
    wanted = WantedFile(SECRET.path, SECRET.content, mode)
    assert planned(wanted, None)[0] == f"upload {SECRET.path}"
