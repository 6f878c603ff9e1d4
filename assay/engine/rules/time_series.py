"""Base of the time-series rules (metric, volumetric, freshness, absoluteChangeLimit,
relativeChangeLimit): rules that measure one value per scan, keep it in the metadata
store and may compare it with the previous measurement.

Not a rule type itself: it registers nothing.

Life of a measurement: ``operations.history.attach`` fills ``CheckSpec.history`` (oldest
first, ``(measured_at, value)``) before the scan; ``assess`` sets ``self.measurement`` (a
JSON-able value: numbers as numbers, exact decimals as strings) and ``self.measured_at``;
after a successful container scan ``operations.history.record`` stores it. The first scan
of a check (no history) sets the baseline: every change-based assertion passes on it.

A NULL measure (avg, min or max of no values: an empty container, or only NULLs) is not
kept. Against an earlier measurement a change-based assertion FAILS on it (the value
went from a number to nothing: docs/semantics.md, "An empty container"); with no
earlier measurement there is nothing to compare and the check passes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .base import AggregateRule, P
from .shape_support import fmt, jsonable, to_decimal

#: How the numeric field is reduced to the one value a metric / change-limit check measures.
Aggregate = Literal["sum", "avg", "min", "max", "count"]
ChangeComparison = Literal["absolute", "absolute_change", "percentage_change"]


def aggregate_of(col, how: str, where):
    """The Ibis aggregate ``how`` (sum, avg, min, max, count of non-NULL values) of ``col``;
    read it back with :func:`measured`."""
    if how == "count":
        return col.count(where=where)
    if how == "avg":
        # an integer average is a double everywhere (PostgreSQL would answer NUMERIC)
        return (col.cast("float64") if col.type().is_integer() else col).mean(where=where)
    return getattr(col, how)(where=where)


def measured(value: Any, how: str) -> Any:
    """The measure read back: the sum or count of no values is 0; avg/min/max stay None."""
    return 0 if value is None and how in ("sum", "count") else value


class BoundsProperties(BaseModel):
    """``comparison`` and the ``min`` / ``max`` bounds (inclusive, each optional, at least one)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    comparison: ChangeComparison = Field(
        "absolute",
        description="absolute (the value itself), absolute_change (value − previous value) or "
        "percentage_change (100 × (value − previous) / |previous|, in percent); default absolute",
    )
    min: Decimal | None = Field(None, description="lowest accepted value, change or percentage (inclusive)")
    max: Decimal | None = Field(None, description="highest accepted value, change or percentage (inclusive)")

    @model_validator(mode="after")
    def _bounds(self):
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min must be less than or equal to max")
        return self


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ChangeLimitProperties(BaseModel):
    """What absoluteChangeLimit and relativeChangeLimit share: a ``limit`` and the
    ``aggregate`` measured (each rule's model documents its own ``limit``)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    limit: Decimal = Field(ge=0)
    aggregate: Aggregate = Field("sum")


#: The properties of a change-limit rule.
CP = TypeVar("CP", bound=ChangeLimitProperties)


class TimeSeriesRule(AggregateRule[P]):
    """An aggregate rule whose measurement is kept per scan (see the module docstring)."""

    on_incremental = (
        "measures the rows the scan reads: on an incremental scan, the new rows only, and that "
        "measurement joins the check's history"
    )

    keeps_history: ClassVar[bool] = True
    #: this scan's measurement, JSON-able; None: nothing to record
    measurement: Any = None
    measured_at: dt.datetime | None = None

    def previous(self) -> Any:
        """The value of the latest earlier measurement, or None on the first scan."""
        return self.check.history[-1][1] if self.check.history else None

    def previous_number(self) -> Decimal | None:
        """The latest earlier measurement as a finite Decimal; None when there is none usable."""
        try:
            prev = to_decimal(self.previous())
        except (ValueError, InvalidOperation, TypeError):
            return None
        return prev if prev is not None and prev.is_finite() else None

    def keep(self, value: Any) -> dt.datetime:
        """Take ``value`` as this scan's measurement, now. Returns: the time it was taken (UTC)."""
        now = self.measured_at = utcnow()
        self.measurement = jsonable(value)
        return now


def change(value: Decimal, previous: Decimal | None, comparison: str) -> Decimal | None:
    """What ``comparison`` observes of ``value`` given the previous measurement: the value
    itself, its change, or its change in percent of |previous| (±Infinity when previous is 0
    and the value moved). None on a first scan for the change comparisons (baseline)."""
    if comparison == "absolute":
        return value
    if previous is None:
        return None
    delta = value - previous
    if comparison == "absolute_change":
        return delta
    if previous == 0:
        return Decimal(0) if delta == 0 else Decimal("Infinity").copy_sign(delta)
    return delta / abs(previous) * 100


def vanished(what: str, previous: Decimal) -> str:
    """The message of a change-based assertion whose measure is NULL (no non-NULL values)
    while an earlier measurement was ``previous``."""
    return f"{what} has no value (no non-NULL values were read), previously {fmt(previous)}"


def bounds_violation(observed: Decimal, low: Decimal | None, high: Decimal | None, unit: str = "") -> str | None:
    """Why ``observed`` lies outside [low, high] (each optional), or None when inside."""
    if (low is None or observed >= low) and (high is None or observed <= high):
        return None
    if low is not None and high is not None:
        return f"not between {fmt(low)}{unit} and {fmt(high)}{unit}"
    if low is not None:
        return f"below the minimum of {fmt(low)}{unit}"
    return f"above the maximum of {fmt(high)}{unit}"


def assess_bounds(rule: TimeSeriesRule, what: str, value: Any, props: BoundsProperties) -> str | None:
    """Shared ``assess`` of metric and volumetric: keep ``value`` and check it (or its
    change) against ``props``. ``what`` names the measure in messages ("The sum of `x`")."""
    if value is None:
        # nothing measured (e.g. avg of no values): nothing kept; a change from an earlier
        # measurement to nothing fails, the value itself has nothing to assert
        prev = rule.previous_number()
        if props.comparison != "absolute" and prev is not None:
            return vanished(what, prev)
        return None
    number = to_decimal(value)
    assert number is not None  # (value is not None)
    rule.keep(number)
    if number.is_nan():
        return f"{what} is NaN"
    prev = rule.previous_number()
    observed = change(number, prev, props.comparison)
    if observed is None:
        return None  # first scan: the baseline
    unit = "%" if props.comparison == "percentage_change" else ""
    why = bounds_violation(observed, props.min, props.max, unit)
    if why is None:
        return None
    if props.comparison == "absolute":
        return f"{what} is {fmt(number)}, {why}"
    kind = "a change of" if props.comparison == "absolute_change" else "a percentage change of"
    shown = f"{observed:.3f}" if observed.is_finite() and unit else fmt(observed)
    return f"{what} is {fmt(number)} (previously {fmt(prev)}), {kind} {shown}{unit}, {why}"


class ChangeLimitRule(TimeSeriesRule[CP]):
    """Base of absoluteChangeLimit and relativeChangeLimit: the measure is ``aggregate``
    (``props.aggregate``, default sum) of the numeric field over the filtered rows, kept each
    scan and compared with the previous one by :meth:`judge`. The first scan sets the
    baseline and passes; a NULL measure (avg/min/max of no values) is not kept and fails
    against an earlier measurement; a NaN measure fails."""

    def metrics(self, t, where):
        return {"value": aggregate_of(t[self.field_name], self.props.aggregate, where)}

    def assess(self, values):
        value = to_decimal(measured(values["value"], self.props.aggregate))
        what = f"The {self.props.aggregate} of {self.field_list}"
        if value is None:
            prev = self.previous_number()
            return vanished(what, prev) if prev is not None else None
        self.keep(value)
        prev = self.previous_number()
        if value.is_nan():
            return f"{what} is NaN"
        if prev is None:
            return None
        return self.judge(what, value, prev, abs(value - prev))

    def judge(self, what: str, value: Decimal, prev: Decimal, delta: Decimal) -> str | None:
        """The shape message when the change from ``prev`` to ``value`` breaks the limit, else None."""
        raise NotImplementedError
