"""The README's spec table is the one the models generate."""

from datalayer.paths import REPOSITORY_ROOT
from datalayer.spec.reference import BEGIN_MARKER, END_MARKER, reference_table


def test_readme_spec_table_is_current() -> None:
    readme = (REPOSITORY_ROOT / "README.md").read_text()
    embedded = readme[readme.index(BEGIN_MARKER) + len(BEGIN_MARKER) : readme.index(END_MARKER)]
    assert embedded.strip() == reference_table().strip(), "run: python -m datalayer.spec.reference"
