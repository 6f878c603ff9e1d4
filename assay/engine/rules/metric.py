from __future__ import annotations

from pydantic import Field

from . import register
from .base import NUMERIC
from .time_series import Aggregate, BoundsProperties, TimeSeriesRule, aggregate_of, assess_bounds, measured


class MetricProperties(BoundsProperties):
    aggregate: Aggregate = Field(
        "sum", description="how the field is measured: sum, avg, min, max or count (non-NULL values); default sum"
    )


@register
class Metric(TimeSeriesRule[MetricProperties]):
    """Each scan measures ``aggregate`` (default ``sum``; or avg, min, max, count of
    non-NULL values) of the numeric field over the filtered rows, keeps it, and asserts it
    against ``min`` / ``max`` (inclusive, each optional):

    * ``comparison: absolute`` — the measured value itself (asserted from the first scan);
    * ``absolute_change`` — value − previous value;
    * ``percentage_change`` — 100 × (value − previous) / |previous|, in percent (±∞ when the
      previous value was 0 and the value moved).

    The previous value is the latest measurement kept by an earlier successful scan; the
    first scan sets the baseline and passes the change comparisons. A NULL measure (e.g.
    avg of no values, an empty container) is not kept: a change comparison against an
    earlier measurement fails on it, ``absolute`` has nothing to assert and passes; the
    sum or count of no values is 0. Arithmetic is exact (Decimal).
    """

    name = "metric"
    description = "Measures an aggregate of a numeric field each scan and asserts its value or its change."
    field_types = NUMERIC
    Properties = MetricProperties

    def metrics(self, t, where):
        return {"value": aggregate_of(t[self.field_name], self.props.aggregate, where)}

    def assess(self, values):
        value = measured(values["value"], self.props.aggregate)
        return assess_bounds(self, f"The {self.props.aggregate} of {self.field_list}", value, self.props)
