from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from . import register
from .base import TEMPORAL, RuleDefinitionError
from .shape_support import as_utc, fmt
from .time_series import TimeSeriesRule

_UNIT = {"minutes": dt.timedelta(minutes=1), "hours": dt.timedelta(hours=1), "days": dt.timedelta(days=1)}


class FreshnessProperties(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    max_age: Decimal = Field(gt=0, description="the oldest the newest data may be, in `unit`")
    unit: Literal["minutes", "hours", "days"] = Field("hours", description="minutes, hours or days (default hours)")


@register
class Freshness(TimeSeriesRule[FreshnessProperties]):
    """The data is no older than ``max_age`` ``unit``s at scan time.

    * With one Date/Timestamp field: the newest value of the field (after the filter) must
      be at most ``max_age`` old when the scan runs. Naive timestamps are UTC; a date
      stands for its midnight UTC. A field with no value fails. The newest value is kept
      as the measurement (ISO 8601).
    * With no field (no engine-neutral way to read a table's modification time): the
      row count (after the filter) is kept each scan with the time it last changed; the
      check fails when the count has not changed for longer than ``max_age``. The first
      scan sets the baseline (changed "now") and passes. Updates that keep the row count
      are not seen: give a field for those.
    """

    name = "freshness"
    description = "Asserts that the newest data is no older than a maximum age."
    fields = "single"  # or none: see validate
    field_types = TEMPORAL
    Properties = FreshnessProperties

    @classmethod
    def validate(cls, fields, properties, *, fields_later=False):
        if len(fields or []) > 1:
            raise RuleDefinitionError(
                ("fields",), f"rule {cls.name} takes one timestamp field or none, got {len(fields)}"
            )
        return super().validate(list(fields or []) or ["(container)"], properties)

    @property
    def max_age(self) -> dt.timedelta:
        return _UNIT[self.props.unit] * float(self.props.max_age)

    def metrics(self, t, where):
        if self.check.fields:
            col = t[self.field_name]
            if not col.type().is_temporal():
                raise ValueError(f"freshness needs a Date or Timestamp field; {self.field_list} is {col.type()}")
            return {"newest": col.max(where=where)}
        return {"rows": t.count() if where is None else t.count(where=where)}

    def _limit(self) -> str:
        return f"{fmt(self.props.max_age)} {self.props.unit}"

    def assess(self, values):
        if self.check.fields:
            newest = as_utc(values["newest"])
            if newest is None:
                return f"No record has a value in {self.field_list}, so the data is not fresh"
            now = self.keep(newest)
            age = now - newest
            if age <= self.max_age:
                return None
            return (
                f"The newest value of {self.field_list} is {newest.isoformat()}, older than {self._limit()} "
                f"at {now.isoformat(timespec='seconds')}"
            )
        rows = int(values["rows"] or 0)
        prev = self.previous()
        now = self.keep({"records": rows})
        if not isinstance(prev, dict) or prev.get("records") != rows or not prev.get("changed_at"):
            self.measurement["changed_at"] = now.isoformat()
            return None
        changed = as_utc(prev["changed_at"])
        assert changed is not None  # (a non-empty changed_at)
        self.measurement["changed_at"] = changed.isoformat()
        if now - changed <= self.max_age:
            return None
        return (
            f"The record count ({rows}) has not changed since {changed.isoformat(timespec='seconds')}, "
            f"longer than {self._limit()}"
        )
