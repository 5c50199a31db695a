"""The one Jinja environment every template is rendered with.

Pyinfra uploads and Pulumi containers both take their files from here, so a rendered file is the
same bytes on every path. ``StrictUndefined`` makes a missing value an error instead of an empty
string: templates hold no defaults, the spec does.
"""

import re
from functools import cache
from typing import Any

import jinja2

from datalayer.paths import TEMPLATES_DIRECTORY

_BARE_VALUE = re.compile(r"^(-?[0-9]+(\.[0-9]+)?([kMGT]B|ms|s|min|h|d)?|on|off|true|false)$")
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def has_control_characters(text: str) -> bool:
    """Whether ``text`` holds a line break, tab or other control character, which no
    configuration file here can carry inside a value: the one rule, for the spec's types and
    for the filters below. Control characters are Unicode's (C0, DEL and C1, whose NEL is a line
    break to some readers), and the line and paragraph separators count as line breaks, as
    Python's own str.splitlines and many editors read them."""
    return _CONTROL_CHARACTER.search(text) is not None


def refuse_control_characters(text: str, what: str) -> str:
    """``text`` unchanged, or ValueError naming ``what`` (the spec's types refuse such text
    first; this is the templates' last guard)."""
    if has_control_characters(text):
        raise ValueError(f"{what} cannot hold line breaks or control characters: {text!r}")
    return text


def postgresql_string(value: object) -> str:
    """A quoted postgresql.conf string. PostgreSQL's lexer (src/backend/utils/misc/guc-file.l,
    rule STRING) ends a quoted string at a line break, reads a backslash as the start of an
    escape and two quotes as one: so backslashes and quotes are doubled here, and control
    characters refused."""
    text = refuse_control_characters(str(value), "a postgresql.conf value")
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def postgresql_boolean(value: bool) -> str:
    """A boolean as PostgreSQL spells it: ``on`` or ``off``, the words ``SHOW`` and
    ``current_setting`` answer with, and postgresql.conf reads."""
    return "on" if value else "off"


def postgresql_value(value: object) -> str:
    """A value as postgresql.conf wants it: numbers, sizes and booleans bare, the rest quoted."""
    if isinstance(value, bool):
        return postgresql_boolean(value)
    text = str(value)
    if _BARE_VALUE.match(text):
        return text
    return postgresql_string(text)


def _double_quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def redis_string(value: object) -> str:
    """A double-quoted redis.conf argument. Redis splits each line with ``sdssplitargs``
    (src/sds.c): inside double quotes a backslash escapes the next character, and the closing
    quote ends the argument; so backslashes and quotes are escaped, control characters refused.
    """
    return _double_quoted(refuse_control_characters(str(value), "a redis.conf value"))


def toml_string(value: object) -> str:
    """A TOML basic string (toml.io v1.0.0, 'Basic strings'): backslashes and quotes escaped as
    in redis.conf; control characters refused rather than written as escapes no path needs."""
    return _double_quoted(refuse_control_characters(str(value), "a config.toml value"))


@cache
def _jinja_environment() -> jinja2.Environment:
    jinja = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIRECTORY),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # configuration files, not HTML
    )
    jinja.filters["postgresql_value"] = postgresql_value
    jinja.filters["postgresql_string"] = postgresql_string
    jinja.filters["redis_string"] = redis_string
    jinja.filters["toml_string"] = toml_string
    return jinja


def render(template: str, **context: Any) -> str:
    """Render ``templates/<template>`` with ``context``; the template's name is in its header."""
    return _jinja_environment().get_template(template).render(template=template, **context)
