"""Rules comparing a numeric field with a constant: greaterThan, lessThan, minValue,
maxValue, and equalTo (every selected field equals a constant).

NULLs are skipped. NaN compares as greater than every number (the DuckDB and PostgreSQL
ordering), so it passes greaterThan/minValue and fails lessThan/maxValue/equalTo; SQLite
stores NaN as NULL and MySQL/MariaDB cannot store it.
"""

from __future__ import annotations

from typing import Annotated, Any

import ibis
from pydantic import BaseModel, ConfigDict, PlainValidator

from . import register
from ._compare import Number, parse_number, show_number
from .base import NUMERIC, RowRule, show


class BoundProperties(BaseModel):
    """``value``: the bound (a finite number); ``inclusive`` (default false): ≥ / ≤ instead of > / <."""

    model_config = ConfigDict(extra="forbid")
    value: Number
    inclusive: bool = False


class ValueProperties(BaseModel):
    """``value``: the bound (a finite number)."""

    model_config = ConfigDict(extra="forbid")
    value: Number


class _NumberRule(RowRule):
    field_types = NUMERIC

    def _ok(self, v):
        raise NotImplementedError

    def failing(self, t, key):
        v = t[self.field_name]
        return v.notnull() & ~self._ok(v)

    @property
    def _wording(self) -> str:
        raise NotImplementedError

    @property
    def violation(self) -> str:  # type: ignore[override]
        return f"is {self._wording} {show_number(self.props.value)}"

    @property
    def shape_violation(self) -> str:  # type: ignore[override]
        return f"are {self._wording} {show_number(self.props.value)}"


@register
class GreaterThan(_NumberRule):
    """``value_of_field > value`` (``≥`` with ``inclusive``). NULLs are skipped; NaN passes
    (it is greater than every number)."""

    name = "greaterThan"
    description = "Asserts that the field is a number greater than (or equal to) a value."
    Properties = BoundProperties

    def _ok(self, v):
        return v >= self.props.value if self.props.inclusive else v > self.props.value

    @property
    def _wording(self):
        return "not greater than or equal to" if self.props.inclusive else "not greater than"


@register
class LessThan(_NumberRule):
    """``value_of_field < value`` (``≤`` with ``inclusive``). NULLs are skipped; NaN fails
    (it is greater than every number)."""

    name = "lessThan"
    description = "Asserts that the field is a number less than (or equal to) a value."
    Properties = BoundProperties

    def _ok(self, v):
        return v <= self.props.value if self.props.inclusive else v < self.props.value

    @property
    def _wording(self):
        return "not less than or equal to" if self.props.inclusive else "not less than"


@register
class MinValue(_NumberRule):
    """``value_of_field ≥ value`` (the bound itself passes). NULLs are skipped; NaN passes."""

    name = "minValue"
    description = "Asserts that a field has a minimum value."
    Properties = ValueProperties
    _wording = "less than"

    def _ok(self, v):
        return v >= self.props.value


@register
class MaxValue(_NumberRule):
    """``value_of_field ≤ value`` (the bound itself passes). NULLs are skipped; NaN fails."""

    name = "maxValue"
    description = "Asserts that a field has a maximum value."
    Properties = ValueProperties
    _wording = "greater than"

    def _ok(self, v):
        return v <= self.props.value


def _scalar(value: Any) -> bool | int | float | str:
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)):
        return parse_number(value)
    raise ValueError("must be a number, a string or a boolean")


class EqualToProperties(BaseModel):
    """``value``: a finite number, a string or a boolean that every selected field must equal."""

    model_config = ConfigDict(extra="forbid")
    value: Annotated[bool | int | float | str, PlainValidator(_scalar, json_schema_input_type=bool | float | str)]


def _same_kind(value: Any, dtype) -> bool:
    """A string value fits a string field, a boolean a boolean field, a number a numeric one."""
    if isinstance(value, str):
        return dtype.is_string()
    if isinstance(value, bool):
        # MySQL/MariaDB keep booleans as TINYINT(1), which reads back as an integer
        return dtype.is_boolean() or dtype.is_integer()
    return dtype.is_numeric()


@register
class EqualTo(RowRule):
    """Every selected field equals ``value``. A row fails when any selected field is
    non-NULL and differs from ``value``; NULL fields are skipped (a row of NULLs passes).

    Numbers compare numerically (``2`` equals ``2.0``; NaN equals no number); strings
    compare exactly (case and trailing spaces count, on MySQL/MariaDB too); ``true`` /
    ``false`` equal 1 / 0 on an integer field (MySQL's TINYINT(1) booleans); a number
    ``value`` on a string field (any mismatch of number / string / boolean) leaves the
    check unasserted with the type error.
    """

    name = "equalTo"
    description = "Asserts that all of the selected fields are equal to a value."
    fields = "multi"
    Properties = EqualToProperties

    def failing(self, t, key):
        value = self.props.value
        fails = []
        for f in self.check.fields:
            v = t[f]
            if not _same_kind(value, v.type()):
                raise TypeError(f"equalTo cannot compare field {f} ({v.type()}) with {show(value)}")
            target = int(value) if isinstance(value, bool) and v.type().is_integer() else value
            fails.append(v.notnull() & ~(v == target))
        return ibis.or_(*fails)

    def record_message(self, row: dict[str, Any]) -> str:
        values = ", ".join(show(row.get(f)) for f in self.check.fields)
        noun = "value" if len(self.check.fields) == 1 else "values"
        return f"The {self.field_list} {noun} of {values} {'is' if noun == 'value' else 'are'} not equal to {self._value}"

    @property
    def _value(self) -> str:
        v = self.props.value
        return show_number(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else show(v)

    @property
    def shape_violation(self) -> str:  # type: ignore[override]
        return f"are not equal to {self._value}"
