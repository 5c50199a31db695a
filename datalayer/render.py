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


def postgresql_value(value: object) -> str:
    """A value as postgresql.conf wants it: numbers, sizes and booleans bare, the rest quoted."""
    if isinstance(value, bool):
        return "on" if value else "off"
    text = str(value)
    if _BARE_VALUE.match(text):
        return text
    return "'" + text.replace("'", "''") + "'"


@cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIRECTORY),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # configuration files, not HTML
    )
    environment.filters["postgresql_value"] = postgresql_value
    return environment


def render(template: str, **context: Any) -> str:
    """Render ``templates/<template>`` with ``context``; the template's name is in its header."""
    return _environment().get_template(template).render(template=template, **context)
