"""Helpers shared by the aggregate (shape) rules: count comparisons and exact numbers.

Not a rule type itself: it registers nothing.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
from decimal import Decimal
from typing import Any, Literal

#: ``comparison`` property of distinctCount / fieldCount: measured ⟨op⟩ value.
Comparison = Literal["eq", "ne", "lt", "lte", "gt", "gte"]

_OPS = {
    "eq": (operator.eq, "equal to"),
    "ne": (operator.ne, "different from"),
    "lt": (operator.lt, "less than"),
    "lte": (operator.le, "less than or equal to"),
    "gt": (operator.gt, "greater than"),
    "gte": (operator.ge, "greater than or equal to"),
}


def compare(measured: Any, comparison: str, value: Any) -> bool:
    """True when ``measured ⟨comparison⟩ value`` holds (``comparison`` ∈ eq, ne, lt, lte, gt, gte)."""
    return _OPS[comparison][0](measured, value)


def wording(comparison: str) -> str:
    """The comparison in words, e.g. ``lte`` → "less than or equal to"."""
    return _OPS[comparison][1]


def to_decimal(value: Any) -> Decimal | None:
    """An exact Decimal of a number read from an engine or from JSON; None stays None.

    Floats go through their shortest repr (``0.1`` → ``Decimal('0.1')``), so a float sum
    and a decimal literal compare as written. Raises ValueError for anything else.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return Decimal(int(value))
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal("NaN") if math.isnan(value) else Decimal(repr(value))
    if isinstance(value, str):
        return Decimal(value)
    raise ValueError(f"not a number: {value!r}")


def jsonable(value: Any) -> Any:
    """A measurement as stored in JSON: ints and floats as numbers, a Decimal as its exact
    string when it is not integral, datetimes as ISO 8601 text."""
    if isinstance(value, Decimal):
        if value.is_finite() and value == value.to_integral_value() and abs(value) < 2**53:
            return int(value)
        return str(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def as_utc(value: Any) -> dt.datetime | None:
    """A timestamp read from an engine or from JSON as an aware UTC datetime.

    Naive timestamps are UTC (docs/semantics.md "Time"); a date is its midnight UTC; ISO 8601 text is parsed.
    """
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    raise ValueError(f"not a timestamp: {value!r}")


def fmt(value: Any) -> str:
    """A number as messages show it (Decimal exactly, floats with up to 12 significant digits)."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value.is_finite() else str(value)
    if isinstance(value, float):
        return f"{value:.12g}"
    return str(value)
