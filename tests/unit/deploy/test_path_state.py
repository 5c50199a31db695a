"""When a path that ``PathStates`` found holds a file's content: only a regular file whose
SHA-256 is that content's."""

import hashlib

import pytest

from deploy.facts import PathState

CONTENT = b"[global]\nrepo1-path=/var/lib/pgbackrest\n"
FILE = PathState("f", "root", "postgres", 0o640, hashlib.sha256(CONTENT).hexdigest())


@pytest.mark.parametrize(
    ("found", "content", "holds"),
    [
        (FILE, CONTENT, True),
        (FILE, CONTENT + b"\n", False),
        (FILE, b"", False),
        (PathState("d", "root", "root", 0o755), b"", False),
    ],
    ids=["its-content", "other-content", "empty-content", "directory"],
)
def test_a_path_holds_only_the_content_of_its_digest(
    found: PathState, content: bytes, holds: bool
) -> None:
    assert found.holds(content) is holds
