"""``isType``: the value parses as a given field type."""

from __future__ import annotations

from typing import Literal

import ibis
from pydantic import BaseModel, ConfigDict

from . import ALIASES, register
from .base import RowRule

FieldType = Literal["Integral", "Fractional", "Boolean", "Date", "Timestamp", "String"]

# The patterns use only constructs every engine's regex flavour reads the same way
# (character classes, groups, alternation, ^ $; no backslashes, no case-insensitive flag),
# and spell both letter cases, so MySQL's case-insensitive REGEXP agrees with the others.
_INTEGRAL = "[+-]?[0-9]+"
_FRACTIONAL = (
    "[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?|[+-]?([Nn][Aa][Nn]|[Ii][Nn][Ff]([Ii][Nn][Ii][Tt][Yy])?)"
)
_BOOLEAN = "[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|[Tt]|[Ff]|[Yy][Ee][Ss]|[Nn][Oo]|[Yy]|[Nn]|1|0"
_DATE = "[0-9]{4}-((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-9])|(0[13-9]|1[0-2])-30|(0[13578]|1[02])-31)"
_TIME = "([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]+)?)?([Zz]|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?)?"
_TIMESTAMP = f"{_DATE}([Tt ]{_TIME})?"

#: field_type -> the whole-text pattern a string must match to parse as that type.
PATTERNS: dict[str, str] = {
    "Integral": _INTEGRAL,
    "Fractional": _FRACTIONAL,
    "Boolean": _BOOLEAN,
    "Date": _DATE,
    "Timestamp": _TIMESTAMP,
}


def field_type_of(dtype) -> str:
    """The Qualytics field type of an Ibis data type."""
    if dtype.is_integer():
        return "Integral"
    if dtype.is_numeric():
        return "Fractional"
    if dtype.is_boolean():
        return "Boolean"
    if dtype.is_date():
        return "Date"
    if dtype.is_timestamp():
        return "Timestamp"
    return "String"


#: For a non-text field: which ``field_type`` values its declared type satisfies.
_COMPATIBLE = {
    "Integral": {"Integral", "Fractional", "String"},
    "Fractional": {"Fractional", "String"},
    "Boolean": {"Boolean", "String"},
    "Date": {"Date", "Timestamp", "String"},
    "Timestamp": {"Timestamp", "String"},
}


class IsTypeProperties(BaseModel):
    """``field_type``: one of Integral, Fractional, Boolean, Date, Timestamp, String."""

    model_config = ConfigDict(extra="forbid")
    field_type: FieldType


@register
class IsType(RowRule[IsTypeProperties]):
    """The value parses as ``field_type``. NULLs are skipped.

    On a **text** field "parses" means the whole text (no surrounding whitespace, no line
    break) matches:

    * Integral: an optional sign and one or more digits (``-12``, ``+007``); the range is
      not checked.
    * Fractional: an integral or decimal number with optional exponent (``1.5``, ``.5``,
      ``2.``, ``-1e-3``), or ``NaN`` / ``Inf`` / ``Infinity`` with optional sign, any case.
    * Boolean: ``true false t f yes no y n 1 0``, any case.
    * Date: ``YYYY-MM-DD`` with month 01–12 and a day that exists in that month
      (29 February is accepted in every year).
    * Timestamp: a Date, optionally followed by ``T`` or a space and ``HH:MM``,
      ``HH:MM:SS`` or ``HH:MM:SS.fraction`` (hours 00–23), optionally ending in ``Z`` or
      an offset ``±HH``, ``±HHMM``, ``±HH:MM``.
    * String: any text.

    A **non-text** field is judged by its declared type, not its values: an integer field
    satisfies Integral, Fractional and String; a decimal/float field Fractional and
    String; a boolean field Boolean and String; a date field Date, Timestamp and String;
    a timestamp field Timestamp and String. Every non-NULL value of a field whose type
    does not satisfy ``field_type`` fails, with one exception: an integer field satisfies
    Boolean where its value is 0 or 1 (MySQL/MariaDB keep BOOLEAN as TINYINT(1), which reads
    back as an integer field), so any other integer fails.
    """

    name = "isType"
    description = "Asserts that the values of the field parse as the given type."
    Properties = IsTypeProperties

    def failing(self, t, key):
        v, wanted = t[self.field_name], self.props.field_type
        own = field_type_of(v.type())
        if own == "Integral" and wanted == "Boolean":
            return v.notnull() & ~v.isin([0, 1])
        if own != "String":
            return v.notnull() & ibis.literal(wanted not in _COMPATIBLE[own])
        if wanted == "String":
            return v.notnull() & ibis.literal(False)
        parses = v.re_search(f"^({PATTERNS[wanted]})$") & ~v.contains("\n")
        return v.notnull() & ~parses

    @property
    def violation(self) -> str:  # type: ignore[override]
        return f"does not parse as {self.props.field_type}"

    @property
    def shape_violation(self) -> str:  # type: ignore[override]
        return f"do not parse as {self.props.field_type}"


#: ``dataType`` is the older name of the rule.
ALIASES["dataType"] = IsType.name
