"""PostgreSQL's own catalogue of settings, kept as data, and a value judged the way it reads it.

``settings_catalogue/pgN.json`` holds what a real server of each supported major version says
about every setting (``pg_settings``: type, unit, range, enum values, context; see the README
there for the servers and the query). The spec refuses what the server would refuse: an unknown
name, a value that does not parse for the setting's type and unit, a number outside its range,
a word that is not one of its enum values. The reload-or-restart decision reads ``context`` here
when the running server cannot answer for a name.

Parsing follows PostgreSQL's own functions (postgres/postgres, src/backend/utils/misc/guc.c:
``parse_int``, ``parse_real``, ``convert_to_base_unit`` and its ``memory_unit_conversion_table``
and ``time_unit_conversion_table``; src/backend/utils/adt/bool.c: ``parse_bool_with_len``;
guc.c ``config_enum_lookup_by_name``), and its answers were compared with PostgreSQL 17.12's own
for the same text (``postgres -c NAME=VALUE -C NAME``; tests/unit/timescaledb/test_catalogue.py).
"""

import difflib
import json
import math
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from datalayer.render import has_control_characters, postgresql_boolean
from datalayer.units import format_pg_memory

CATALOGUE_DIRECTORY = Path(__file__).resolve().parent / "settings_catalogue"
SUPPORTED_MAJORS = (15, 16, 17, 18)

SettingValue = str | int | float | bool
"""A setting's value as YAML gives it."""

Context = Literal[
    "internal", "postmaster", "sighup", "superuser-backend", "backend", "superuser", "user"
]

# guc.c memory_unit_conversion_table, in bytes; units are matched case-sensitively (strcmp).
_MEMORY_UNITS: dict[str, float] = {
    "B": 1,
    "kB": 1 << 10,
    "MB": 1 << 20,
    "GB": 1 << 30,
    "TB": 1 << 40,
}
# guc.c time_unit_conversion_table, in milliseconds.
_TIME_UNITS: dict[str, float] = {
    "us": 0.001,
    "ms": 1,
    "s": 1000,
    "min": 60_000,
    "h": 3_600_000,
    "d": 86_400_000,
}
# A setting's own unit (pg_settings.unit) as a multiple of one of the tables' units.
_BASE_UNITS: dict[str, tuple[dict[str, float], float]] = {
    "B": (_MEMORY_UNITS, 1),
    "kB": (_MEMORY_UNITS, 1 << 10),
    "8kB": (_MEMORY_UNITS, 8 << 10),
    "MB": (_MEMORY_UNITS, 1 << 20),
    "ms": (_TIME_UNITS, 1),
    "s": (_TIME_UNITS, 1000),
    "min": (_TIME_UNITS, 60_000),
}

# strtol(value, &end, 0): decimal, 0x hexadecimal or 0 octal; parse_int re-reads the text with
# strtod when strtol stops at '.', 'e' or 'E'.
_INTEGER = re.compile(r"\s*[+-]?(?:0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")
_REAL = re.compile(r"\s*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INT_MAX = 2**31 - 1


@dataclass(frozen=True)
class Setting:
    """One row of ``pg_settings``: what the server accepts for a setting and when it applies."""

    name: str
    vartype: Literal["bool", "integer", "real", "string", "enum"]
    unit: str | None
    min_val: str | None
    max_val: str | None
    enumvals: tuple[str, ...] | None
    context: Context

    @property
    def takes_memory_size(self) -> bool:
        """Whether the value is a memory size, whose bare number means this unit, not bytes."""
        return self.unit is not None and _BASE_UNITS[self.unit][0] is _MEMORY_UNITS


@dataclass(frozen=True)
class Catalogue:
    """The settings one server reported, by lower-cased name (PostgreSQL ignores case)."""

    timescaledb_version: str | None
    settings: dict[str, Setting]


@cache
def catalogue(major: int) -> Catalogue:
    """The catalogue read from a PostgreSQL ``major`` server."""
    document = json.loads((CATALOGUE_DIRECTORY / f"pg{major}.json").read_text())
    settings = {
        row["name"].lower(): Setting(
            name=row["name"],
            vartype=row["vartype"],
            unit=row["unit"],
            min_val=row["min_val"],
            max_val=row["max_val"],
            enumvals=None if row["enumvals"] is None else tuple(row["enumvals"]),
            context=row["context"],
        )
        for row in document["settings"]
    }
    return Catalogue(document["timescaledb_version"], settings)


def _extension_catalogues() -> list[Catalogue]:
    """Catalogues read with TimescaleDB loaded, newest TimescaleDB first: its settings follow the
    extension's version, not PostgreSQL's."""
    loaded = [
        catalogue(major) for major in SUPPORTED_MAJORS if catalogue(major).timescaledb_version
    ]

    def version_key(entry: Catalogue) -> tuple[int, ...]:
        return tuple(int(part) for part in (entry.timescaledb_version or "0").split("."))

    return sorted(loaded, key=version_key, reverse=True)


def lookup(major: int, name: str) -> Setting | None:
    """The setting ``name`` on PostgreSQL ``major``; an extension's (``prefix.name``) from the
    newest TimescaleDB extraction that lists it."""
    key = name.lower()
    if "." not in key:
        return catalogue(major).settings.get(key)
    for entry in _extension_catalogues():
        if key in entry.settings:
            return entry.settings[key]
    return None


def unknown_name(major: int, name: str) -> str:
    """Why ``name`` is refused, with the nearest known names."""
    names = list(catalogue(major).settings)
    if "." in name:
        names = sorted({key for entry in _extension_catalogues() for key in entry.settings})
    close = difflib.get_close_matches(name.lower(), names, n=3, cutoff=0.75)
    hint = f" (did you mean {' or '.join(close)}?)" if close else ""
    return f"is not a setting PostgreSQL {major} knows{hint}"


def setting_text(value: SettingValue) -> str:
    """A YAML value as postgresql.conf carries it: booleans as on/off, the rest as written."""
    if isinstance(value, bool):
        return postgresql_boolean(value)
    return str(value)


def judge(setting: Setting, value: SettingValue) -> None:
    """Raise ValueError with the reason PostgreSQL would refuse ``value`` for ``setting``.

    A memory size needs a unit ('64MB'): a bare number other than 0 or -1 (the usual "off" and
    "all") means the setting's own unit (kB or 8kB pages), never bytes, which is too easy to
    misread. A YAML boolean is only a boolean (or an
    on/off enum value), never a number.
    """
    if setting.context == "internal":
        raise ValueError(f"is fixed when PostgreSQL is built ({setting.name} is read-only)")
    if isinstance(value, bool) and setting.vartype not in ("bool", "enum"):
        raise ValueError(f"is a boolean, but {setting.name} is of type {setting.vartype}")
    text = setting_text(value)
    if has_control_characters(text):
        # guc-file.l ends a quoted value at a line break; no setting takes a control character.
        raise ValueError("holds a line break or control character, which postgresql.conf cannot")
    if setting.vartype == "bool":
        if _parse_bool(text) is None:
            raise ValueError("is not a boolean (on, off, true, false, yes, no, 1, 0)")
    elif setting.vartype == "enum":
        allowed = setting.enumvals or ()
        if text.lower() not in {option.lower() for option in allowed}:
            raise ValueError(f"is not one of {', '.join(allowed)}")
    elif setting.vartype in ("integer", "real"):
        _judge_number(setting, text)


def _parse_bool(text: str) -> bool | None:
    """bool.c ``parse_bool_with_len``: a case-insensitive prefix of true, false, yes, no; on or
    off (at least two letters, since 'o' is ambiguous); or exactly 1 or 0."""
    lowered = text.lower()
    if not lowered:
        return None
    for word, meaning in (("true", True), ("false", False), ("yes", True), ("no", False)):
        if word.startswith(lowered):
            return meaning
    if len(lowered) >= 2 and "on".startswith(lowered):
        return True
    if len(lowered) >= 2 and "off".startswith(lowered):
        return False
    return {"1": True, "0": False}.get(lowered)


def _judge_number(setting: Setting, text: str) -> None:
    number = _in_setting_unit(setting, text)
    low = float(setting.min_val) if setting.min_val is not None else -math.inf
    high = float(setting.max_val) if setting.max_val is not None else math.inf
    if not low <= number <= high:
        raise ValueError(
            f"is outside {setting.name}'s range "
            f"({_bound(setting, setting.min_val)} .. {_bound(setting, setting.max_val)})"
        )


def _in_setting_unit(setting: Setting, text: str) -> float:
    """``text`` as a number of the setting's own unit, as parse_int or parse_real computes it."""
    number, rest = _leading_number(text, integer=setting.vartype == "integer")
    if number is None or math.isnan(number):
        raise ValueError(f"is not a{'n integer' if setting.vartype == 'integer' else ' number'}")
    unit = rest.strip()
    if unit:
        if setting.unit is None:
            raise ValueError(f"takes no unit ({setting.name} is a plain number)")
        table, base = _BASE_UNITS[setting.unit]
        if unit not in table:
            raise ValueError(f"has an unknown unit {unit!r} (use one of {', '.join(table)})")
        number = number * table[unit] / base
    elif setting.takes_memory_size and number not in (0, -1):
        raise ValueError(f"needs a unit, e.g. '512MB' (a bare number counts {setting.unit})")
    if setting.vartype == "integer":
        # parse_int rounds (rint) after converting to the setting's unit.
        number = float(round(number))
        if abs(number) > _INT_MAX:
            raise ValueError("exceeds PostgreSQL's integer range")
    return number


def memory_bytes(major: int, name: str, value: SettingValue) -> int:
    """How many bytes the memory setting ``name = value`` stands for, as PostgreSQL reads it."""
    setting = lookup(major, name)
    assert setting is not None and setting.unit is not None, name
    return int(_in_setting_unit(setting, setting_text(value)) * _BASE_UNITS[setting.unit][1])


def _bound(setting: Setting, bound: str | None) -> str:
    """A range bound as a reader writes it: '128kB' rather than PostgreSQL's '16 8kB'."""
    if bound is None or setting.unit is None:
        return str(bound)
    table, base = _BASE_UNITS[setting.unit]
    if table is _MEMORY_UNITS and int(bound) > 0:
        return format_pg_memory(int(bound) * int(base))
    return f"{bound}{setting.unit}"


def _leading_number(text: str, *, integer: bool) -> tuple[float | None, str]:
    """The number ``text`` starts with and what follows, as parse_int or parse_real read it."""
    if integer:
        match = _INTEGER.match(text)
        if match and text[match.end() : match.end() + 1] not in (".", "e", "E"):
            digits = match.group().strip()
            unsigned = digits.lstrip("+-")
            if unsigned[:2] in ("0x", "0X"):
                magnitude = int(unsigned, 16)
            elif len(unsigned) > 1 and unsigned.startswith("0"):
                magnitude = int(unsigned, 8)
            else:
                magnitude = int(unsigned)
            return (-magnitude if digits.startswith("-") else magnitude), text[match.end() :]
    match = _REAL.match(text)
    if match is None:
        return None, text
    return float(match.group()), text[match.end() :]


def describe(name: str) -> str:
    """What PostgreSQL takes for ``name``, in words, for the README's reference table: type,
    unit and range or values; per major version where the versions differ."""
    by_text: dict[str, list[int]] = {}
    for major in SUPPORTED_MAJORS:
        setting = lookup(major, name)
        if setting is not None:
            by_text.setdefault(_summary(setting), []).append(major)
    if len(by_text) == 1:
        [(text, majors)] = by_text.items()
        scope = "" if len(majors) == len(SUPPORTED_MAJORS) else f" ({', '.join(map(str, majors))})"
        return f"pg_settings{scope}: {text}"
    return "; ".join(
        f"pg_settings ({', '.join(map(str, majors))}): {text}" for text, majors in by_text.items()
    )


def _summary(setting: Setting) -> str:
    if setting.vartype == "bool":
        return "on or off"
    if setting.vartype == "enum":
        return "one of " + ", ".join(setting.enumvals or ())
    if setting.vartype == "string":
        return "text"
    bounds = f"{_bound(setting, setting.min_val)} .. {_bound(setting, setting.max_val)}"
    return f"{setting.vartype} {bounds}"
