"""Rules comparing a numeric field with a constant: greaterThan, lessThan, minValue,
maxValue, and equalTo (every selected field equals a constant).

NULLs are skipped. NaN compares as greater than every number (the DuckDB and PostgreSQL
ordering), so it passes greaterThan/minValue and fails lessThan/maxValue/equalTo; SQLite
stores NaN as NULL and MySQL/MariaDB cannot store it.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

import ibis
from pydantic import BaseModel, ConfigDict, PlainValidator
from pydantic_core import PydanticCustomError

from . import register
from ._compare import Number, show_number
from ._values import assay_type, coerce, column_and_literal, list_errors, scalar_item
from .base import NUMERIC, RowRule, show


class ValueProperties(BaseModel):
    """``value``: the bound (a finite number)."""

    model_config = ConfigDict(extra="forbid")
    value: Number


class BoundProperties(ValueProperties):
    """``value``: the bound (a finite number); ``inclusive`` (default false): ≥ / ≤ instead of > / <."""

    inclusive: bool = False


#: The properties of a rule comparing with one number.
NP = TypeVar("NP", bound=ValueProperties)


class _NumberRule(RowRule[NP]):
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
class GreaterThan(_NumberRule[BoundProperties]):
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
class LessThan(_NumberRule[BoundProperties]):
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
class MinValue(_NumberRule[ValueProperties]):
    """``value_of_field ≥ value`` (the bound itself passes). NULLs are skipped; NaN passes."""

    name = "minValue"
    description = "Asserts that a field has a minimum value."
    Properties = ValueProperties
    _wording = "less than"

    def _ok(self, v):
        return v >= self.props.value


@register
class MaxValue(_NumberRule[ValueProperties]):
    """``value_of_field ≤ value`` (the bound itself passes). NULLs are skipped; NaN fails."""

    name = "maxValue"
    description = "Asserts that a field has a maximum value."
    Properties = ValueProperties
    _wording = "greater than"

    def _ok(self, v):
        return v <= self.props.value


def _equal_value(value: Any) -> bool | int | float | str:
    if value is None:
        raise PydanticCustomError(
            "scalar",
            "must be a number, a string or a boolean (not null: NULL fields are "
            "skipped; add a notNull check to forbid them)",
        )
    return scalar_item(value)


class EqualToProperties(BaseModel):
    """``value``: a finite number, a string or a boolean that every selected field must
    equal (coerced to each field's type, ``rules._values``)."""

    model_config = ConfigDict(extra="forbid")
    value: Annotated[bool | int | float | str, PlainValidator(_equal_value, json_schema_input_type=bool | float | str)]


@register
class EqualTo(RowRule[EqualToProperties]):
    """Every selected field equals ``value``. A row fails when any selected field is
    non-NULL and differs from ``value``; NULL fields are skipped (a row of NULLs passes).

    ``value`` is coerced to each field's type (``rules._values``; a value that cannot be
    of a field's type is refused when the check is created): numbers compare numerically
    (``2`` equals ``2.0``; NaN equals no number; numeric text such as ``"2"`` is a
    number); strings compare exactly (case and trailing spaces count, on MySQL/MariaDB
    too); ``true`` / ``false`` equal 1 / 0 on an integer field (MySQL's TINYINT(1)
    booleans); ISO 8601 text equals a Date (``"2024-01-01"``) or a Timestamp (as UTC
    instants; a bare date is its midnight).
    """

    name = "equalTo"
    description = "Asserts that all of the selected fields are equal to a value."
    fields = "multi"
    Properties = EqualToProperties

    @classmethod
    def check_values(cls, props: Any, field_types: list[str]) -> None:
        list_errors([props.value], field_types, ("properties", "value"), indexed=False)

    def failing(self, t, key):
        value = self.props.value
        fails = []
        for f in self.check.fields:
            v = t[f]
            try:
                target = coerce(value, assay_type(v.type()))
            except ValueError as e:
                raise ValueError(f"equalTo cannot compare field {f} ({v.type()}) with {show(value)}: {e}") from None
            c, lit = column_and_literal(v, target)
            fails.append(v.notnull() & ~(c == lit))
        return ibis.or_(*fails)

    def record_message(self, row: dict[str, Any]) -> str:
        values = ", ".join(show(row.get(f)) for f in self.check.fields)
        noun = "value" if len(self.check.fields) == 1 else "values"
        return (
            f"The {self.field_list} {noun} of {values} {'is' if noun == 'value' else 'are'} not equal to {self._value}"
        )

    @property
    def _value(self) -> str:
        v = self.props.value
        return show_number(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else show(v)

    @property
    def shape_violation(self) -> str:  # type: ignore[override]
        return f"are not equal to {self._value}"
