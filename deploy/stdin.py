"""Text for a fact's stdin that pyinfra's output never shows.

pyinfra logs every loaded fact with all its arguments, ``_stdin`` included, formatted with
``str()``: ``Loaded fact NAME (_stdin=..., path=...)`` (``pyinfra/api/facts.py:377-381``,
``get_kwargs_str`` in ``pyinfra/api/util.py:55-64``), at ``-v`` and in debug logs. The connector
writes a list's lines one by one (``write_stdin``, ``pyinfra/connectors/util.py:227-238``), so
a list whose own text is ``***`` reaches the host whole and the log masked.
"""


class HiddenLines(list[str]):
    """Lines to send on stdin, shown as ``***`` wherever pyinfra prints them."""

    def __repr__(self) -> str:
        return "'***'"

    __str__ = __repr__


def hidden_stdin(text: str) -> HiddenLines:
    """``text`` as stdin for a fact, each line keeping its newline."""
    return HiddenLines(text.splitlines(keepends=True))
