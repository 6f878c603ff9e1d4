from __future__ import annotations

from . import register
from .time_series import BoundsProperties, TimeSeriesRule, assess_bounds


@register
class Volumetric(TimeSeriesRule[BoundsProperties]):
    """Each scan counts the container's rows (after the filter), keeps the count, and asserts
    it against ``min`` / ``max`` (inclusive, each optional) with ``comparison``:
    ``absolute`` (the count), ``absolute_change`` (count − previous count) or
    ``percentage_change`` (100 × change / |previous|, in percent). The first scan sets the
    baseline and passes the change comparisons.
    """

    name = "volumetric"
    description = "Measures the number of records each scan and asserts it, or its change, within limits."
    fields = "none"
    Properties = BoundsProperties

    def metrics(self, t, where):
        return {"rows": t.count() if where is None else t.count(where=where)}

    def assess(self, values):
        return assess_bounds(self, "The record count", int(values["rows"] or 0), self.props)
