"""Rules comparing a field with another field of the same row: lessThanField and
equalToField (greaterThanField lives in greater_than_field.py).

A row where either side is NULL is skipped. Timestamps compare as UTC instants (a naive
timestamp is read as UTC), so a ``timestamp with time zone`` field compares correctly
with a naive one on every engine.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from . import register
from ._compare import FiniteFloat, comparable, show_number
from .base import RowRule


class LessThanFieldProperties(BaseModel):
    """``field_name``: the other field; ``inclusive`` (default false): ≤ instead of <."""

    model_config = ConfigDict(extra="forbid")
    field_name: str = Field(min_length=1)
    inclusive: bool = False


@register
class LessThanField(RowRule[LessThanFieldProperties]):
    """``field < other`` (``≤`` with ``inclusive``). A row where either side is NULL is skipped.

    Numbers: NaN is greater than every number (DuckDB, PostgreSQL), so a NaN field fails
    and a NaN ``other`` passes. Timestamps compare in UTC. Strings compare by the engine's
    collation.
    """

    name = "lessThanField"
    description = "Asserts that the field is less than another field."
    Properties = LessThanFieldProperties
    compares_fields = True

    def failing(self, t, key):
        v, other = comparable(t[self.field_name]), comparable(t[self.props.field_name])
        ok = v <= other if self.props.inclusive else v < other
        return v.notnull() & other.notnull() & ~ok

    @property
    def _op(self) -> str:
        return "less than or equal to" if self.props.inclusive else "less than"

    @property
    def violation(self):  # type: ignore[override]
        return f"is not {self._op} `{self.props.field_name}`"

    @property
    def shape_violation(self):  # type: ignore[override]
        return f"are not {self._op} `{self.props.field_name}`"


class EqualToFieldProperties(BaseModel):
    """``field_name``: the other field; ``tolerance`` (default 0, numbers only): the
    largest absolute difference still counted as equal."""

    model_config = ConfigDict(extra="forbid")
    field_name: str = Field(min_length=1)
    tolerance: FiniteFloat = Field(default=0, ge=0)


@register
class EqualToField(RowRule[EqualToFieldProperties]):
    """``field = other``, or with ``tolerance`` > 0 ``|field − other| ≤ tolerance``
    (inclusive). A row where either side is NULL is skipped.

    NaN equals NaN and nothing else (DuckDB, PostgreSQL). Timestamps compare as UTC
    instants. A ``tolerance`` needs two numeric fields (anything else leaves the check
    unasserted with the error). Strings compare exactly (MySQL/MariaDB included).
    """

    name = "equalToField"
    description = "Asserts that the field is equal to another field."
    Properties = EqualToFieldProperties
    compares_fields = True

    def failing(self, t, key):
        v, other = comparable(t[self.field_name]), comparable(t[self.props.field_name])
        ok = v == other
        if self.props.tolerance:
            if not (v.type().is_numeric() and other.type().is_numeric()):
                raise TypeError(
                    f"equalToField with a tolerance needs numeric fields; {self.field_name} is {v.type()} "
                    f"and {self.props.field_name} is {other.type()}"
                )
            ok = ok | ((v - other).abs() <= self.props.tolerance)
        return v.notnull() & other.notnull() & ~ok

    @property
    def _op(self) -> str:
        tol = self.props.tolerance
        return f"within {show_number(tol)} of" if tol else "equal to"

    @property
    def violation(self):  # type: ignore[override]
        return f"is not {self._op} `{self.props.field_name}`"

    @property
    def shape_violation(self):  # type: ignore[override]
        return f"are not {self._op} `{self.props.field_name}`"
