"""Rules comparing a date or timestamp field with fixed instants: betweenTimes,
afterDateTime, beforeDateTime.

Time is UTC: a timestamp value is compared as a UTC instant (a naive one is read as
UTC; an aware one, e.g. PostgreSQL ``timestamptz``, is converted), and a property given
with an offset (``2024-01-31T14:00:00+02:00``) is converted to UTC while one without an
offset is UTC. A DATE value stands for its midnight UTC. NULLs are skipped.
"""

from __future__ import annotations

from typing import Any

import ibis
from pydantic import BaseModel, ConfigDict, model_validator

from . import register
from ._compare import UtcDateTime, comparable, first_day_on_or_after, last_day_before, show_time, utc_literal
from .base import TEMPORAL, RowRule


def _temporal(rule: RowRule, t) -> Any:
    v = t[rule.field_name]
    if not (v.type().is_date() or v.type().is_timestamp()):
        raise TypeError(f"{rule.name} needs a date or timestamp field, {rule.field_name} is {v.type()}")
    return v


class BetweenTimesProperties(BaseModel):
    """``min_time`` ≤ ``max_time``: ISO 8601 date-times (UTC unless they carry an offset)."""

    model_config = ConfigDict(extra="forbid")
    min_time: UtcDateTime
    max_time: UtcDateTime

    @model_validator(mode="after")
    def _ordered(self):
        if self.min_time > self.max_time:
            raise ValueError("min_time must not be later than max_time")
        return self


@register
class BetweenTimes(RowRule[BetweenTimesProperties]):
    """``min_time ≤ value ≤ max_time`` (both bounds inclusive), compared in UTC.

    A DATE is its midnight UTC: with bounds 2024-01-01T12:00Z … 2024-01-03T00:00Z the
    dates 2024-01-02 and 2024-01-03 pass and 2024-01-01 fails. NULLs are skipped.
    """

    name = "betweenTimes"
    description = "Asserts that values are equal to or between two dates or times."
    field_types = TEMPORAL
    Properties = BetweenTimesProperties

    def failing(self, t, key):
        v, p = _temporal(self, t), self.props
        if v.type().is_date():
            ok = (v >= ibis.literal(first_day_on_or_after(p.min_time))) & (v <= ibis.literal(p.max_time.date()))
        else:
            u = comparable(v)
            ok = (u >= utc_literal(p.min_time, v)) & (u <= utc_literal(p.max_time, v))
        return v.notnull() & ~ok

    @property
    def violation(self) -> str:  # type: ignore[override]
        return f"is not between {show_time(self.props.min_time)} and {show_time(self.props.max_time)}"

    @property
    def shape_violation(self) -> str:  # type: ignore[override]
        return f"are not between {show_time(self.props.min_time)} and {show_time(self.props.max_time)}"


class DateTimeProperties(BaseModel):
    """``datetime``: an ISO 8601 date-time (UTC unless it carries an offset). The
    generated Qualytics client's spelling ``_datetime`` is accepted too."""

    model_config = ConfigDict(extra="forbid")
    datetime: UtcDateTime

    @model_validator(mode="before")
    @classmethod
    def _alias(cls, data: Any) -> Any:
        if isinstance(data, dict) and "_datetime" in data and "datetime" not in data:
            data = dict(data)
            data["datetime"] = data.pop("_datetime")
        return data


@register
class AfterDateTime(RowRule[DateTimeProperties]):
    """``value > datetime`` (strictly later; the instant itself fails), compared in UTC.

    A DATE is its midnight UTC, so it passes only when that midnight is later than
    ``datetime``. NULLs are skipped.
    """

    name = "afterDateTime"
    description = "Asserts that the field is a timestamp later than a specific date and time."
    field_types = TEMPORAL
    Properties = DateTimeProperties

    def failing(self, t, key):
        v, moment = _temporal(self, t), self.props.datetime
        if v.type().is_date():
            ok = v > ibis.literal(moment.date())  # midnight(v) > moment  <=>  v > date(moment)
        else:
            ok = comparable(v) > utc_literal(moment, v)
        return v.notnull() & ~ok

    @property
    def violation(self) -> str:  # type: ignore[override]
        return f"is not after {show_time(self.props.datetime)}"

    @property
    def shape_violation(self) -> str:  # type: ignore[override]
        return f"are not after {show_time(self.props.datetime)}"


@register
class BeforeDateTime(RowRule[DateTimeProperties]):
    """``value < datetime`` (strictly earlier; the instant itself fails), compared in UTC.

    A DATE is its midnight UTC, so it passes only when that midnight is earlier than
    ``datetime``. NULLs are skipped.
    """

    name = "beforeDateTime"
    description = "Asserts that the field is a timestamp earlier than a specific date and time."
    field_types = TEMPORAL
    Properties = DateTimeProperties

    def failing(self, t, key):
        v, moment = _temporal(self, t), self.props.datetime
        if v.type().is_date():
            ok = v <= ibis.literal(last_day_before(moment))
        else:
            ok = comparable(v) < utc_literal(moment, v)
        return v.notnull() & ~ok

    @property
    def violation(self) -> str:  # type: ignore[override]
        return f"is not before {show_time(self.props.datetime)}"

    @property
    def shape_violation(self) -> str:  # type: ignore[override]
        return f"are not before {show_time(self.props.datetime)}"
