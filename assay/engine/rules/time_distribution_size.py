from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from . import register
from .base import TEMPORAL, AggregateRule, show

Interval = Literal["hourly", "daily", "weekly", "monthly", "yearly"]
_TRUNCATE = {"daily": "D", "weekly": "W", "monthly": "M", "yearly": "Y"}


class TimeDistributionSizeProperties(BaseModel):
    model_config = ConfigDict(extra="forbid")
    interval_name: Interval = Field(description="hourly, daily, weekly (ISO weeks, from Monday), monthly or yearly")
    min_size: int | None = Field(None, ge=0, description="the fewest records an interval may hold")
    max_size: int | None = Field(None, ge=0, description="the most records an interval may hold")

    @model_validator(mode="after")
    def _bounds(self):
        if self.min_size is None and self.max_size is None:
            raise ValueError("give min_size, max_size or both")
        if self.min_size is not None and self.max_size is not None and self.min_size > self.max_size:
            raise ValueError("min_size must be less than or equal to max_size")
        return self


def interval_start(value: dt.date | dt.datetime, interval: str) -> dt.datetime:
    """The start of the ``interval`` holding ``value`` (naive, in the value's own clock)."""
    if isinstance(value, dt.datetime):
        value = value.replace(tzinfo=None)
    else:
        value = dt.datetime(value.year, value.month, value.day)
    if interval == "hourly":
        return value.replace(minute=0, second=0, microsecond=0)
    day = value.replace(hour=0, minute=0, second=0, microsecond=0)
    if interval == "daily":
        return day
    if interval == "weekly":
        return day - dt.timedelta(days=day.weekday())
    if interval == "monthly":
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def intervals_between(first: dt.date | dt.datetime, last: dt.date | dt.datetime, interval: str) -> int:
    """How many ``interval``s run from the one holding ``first`` to the one holding ``last``, both included."""
    a, b = interval_start(first, interval), interval_start(last, interval)
    if interval == "hourly":
        return (b - a) // dt.timedelta(hours=1) + 1
    if interval == "daily":
        return (b - a).days + 1
    if interval == "weekly":
        return (b - a).days // 7 + 1
    if interval == "monthly":
        return (b.year * 12 + b.month) - (a.year * 12 + a.month) + 1
    return b.year - a.year + 1


@register
class TimeDistributionSize(AggregateRule[TimeDistributionSizeProperties]):
    """Every ``interval_name`` interval from the first to the last one seen holds between
    ``min_size`` and ``max_size`` records (each bound optional, inclusive).

    Definition: the non-NULL values of the Date/Timestamp field (after the filter) are
    bucketed by calendar interval in UTC (hour; day; ISO week from Monday; month; year).
    Every interval between the first and the last bucket counts, the empty ones as 0
    records. An empty container (no interval seen) passes.

    Computation: inside the container's ONE aggregate query, as scalar subqueries over
    the per-interval counts (``GROUP BY`` interval): the number of non-empty intervals,
    those below ``min_size``, those above ``max_size``, the smallest and largest count,
    plus ``min``/``max`` of the field. The number of intervals between first and last
    (hence the empty ones) is calendar arithmetic in Python; no per-interval rows are
    fetched. Hourly buckets group by (date, hour) so SQLite, which cannot truncate to the
    hour, gives the same answer.
    """

    name = "timeDistributionSize"
    description = "Asserts that the number of records in each time interval stays within a range."
    field_types = TEMPORAL
    Properties = TimeDistributionSizeProperties

    def metrics(self, t, where):
        col, p = t[self.field_name], self.props
        if not col.type().is_temporal():
            raise ValueError(f"timeDistributionSize needs a Date or Timestamp field; {self.field_list} is {col.type()}")
        if p.interval_name == "hourly" and col.type().is_date():
            raise ValueError(f"{self.field_list} is a Date: hourly intervals need a Timestamp")
        keep = col.notnull() if where is None else where & col.notnull()
        rows = t.filter(keep)
        if p.interval_name == "hourly":
            keys = {"bucket_day": rows[self.field_name].date(), "bucket_hour": rows[self.field_name].hour()}
        else:
            keys = {"bucket": rows[self.field_name].truncate(_TRUNCATE[p.interval_name])}
        g = rows.group_by(**keys).aggregate(n_rows=lambda s: s.count())
        out = {
            "first": col.min(where=keep),
            "last": col.max(where=keep),
            "buckets": g.count().as_scalar(),
            "smallest": g["n_rows"].min().as_scalar(),
            "largest": g["n_rows"].max().as_scalar(),
        }
        if p.min_size is not None:
            out["below"] = g.filter(g["n_rows"] < p.min_size).count().as_scalar()
        if p.max_size is not None:
            out["above"] = g.filter(g["n_rows"] > p.max_size).count().as_scalar()
        return out

    def assess(self, values):
        first, last, p = values["first"], values["last"], self.props
        if first is None or last is None:
            return None
        total = intervals_between(first, last, p.interval_name)
        empty = total - int(values["buckets"] or 0)
        bad = int(values.get("below") or 0) + int(values.get("above") or 0)
        if p.min_size and empty:
            bad += empty
        if not bad:
            return None
        smallest = 0 if empty else int(values["smallest"] or 0)
        largest = int(values["largest"] or 0)
        if p.min_size is not None and p.max_size is not None:
            bounds = f"between {p.min_size} and {p.max_size}"
        elif p.min_size is not None:
            bounds = f"at least {p.min_size}"
        else:
            bounds = f"at most {p.max_size}"
        return (
            f"In {self.field_list}, {bad} of {total} {p.interval_name} intervals from {show(first)} to "
            f"{show(last)} do not hold {bounds} records (counts range from {smallest} to {largest}; "
            f"{empty} intervals are empty)"
        )
