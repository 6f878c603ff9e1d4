from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from . import register
from .base import NUMERIC
from .shape_support import fmt, to_decimal
from .time_series import Aggregate, TimeSeriesRule, aggregate_of, measured, vanished


class AbsoluteChangeLimitProperties(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    limit: Decimal = Field(ge=0, description="largest accepted |value − previous value|")
    aggregate: Aggregate = Field("sum", description="how the field is measured: sum, avg, min, max or count; default sum")


@register
class AbsoluteChangeLimit(TimeSeriesRule):
    """``|measure − previous measure| ≤ limit``, where the measure is ``aggregate``
    (default sum) of the numeric field over the filtered rows, and the previous one is the
    latest kept by an earlier successful scan. The first scan sets the baseline and passes.
    A NULL measure (avg/min/max of no values, e.g. an empty container) is not kept and
    fails against an earlier measurement.
    """

    name = "absoluteChangeLimit"
    description = "Asserts that an aggregate of a numeric field changes by at most a limit between scans."
    field_types = NUMERIC
    Properties = AbsoluteChangeLimitProperties

    def metrics(self, t, where):
        return {"value": aggregate_of(t[self.field_name], self.props.aggregate, where)}

    def assess(self, values):
        value = to_decimal(measured(values["value"], self.props.aggregate))
        what = f"The {self.props.aggregate} of {self.field_list}"
        if value is None:  # avg/min/max of no values: fails against an earlier measurement
            prev = self.previous_number()
            return vanished(what, prev) if prev is not None else None
        self.keep(value)
        prev = self.previous_number()
        if value.is_nan():
            return f"{what} is NaN"
        if prev is None:
            return None
        delta = abs(value - prev)
        if delta <= self.props.limit:
            return None
        return f"{what} changed by {fmt(delta)} (from {fmt(prev)} to {fmt(value)}), more than the limit of {fmt(self.props.limit)}"
