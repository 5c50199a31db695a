"""Where the repository's shared assets live, for code running from a checkout or an editable
install: one place, so that Pulumi, pyinfra and the tests read the same files."""

from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIRECTORY = REPOSITORY_ROOT / "templates"
SQL_DIRECTORY = REPOSITORY_ROOT / "sql"
