from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from . import register
from .base import NUMERIC
from .shape_support import fmt
from .time_series import Aggregate, ChangeLimitProperties, ChangeLimitRule


class AbsoluteChangeLimitProperties(ChangeLimitProperties):
    limit: Decimal = Field(ge=0, description="largest accepted |value − previous value|")
    aggregate: Aggregate = Field(
        "sum", description="how the field is measured: sum, avg, min, max or count; default sum"
    )


@register
class AbsoluteChangeLimit(ChangeLimitRule[AbsoluteChangeLimitProperties]):
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

    def judge(self, what, value, prev, delta):
        if delta <= self.props.limit:
            return None
        return f"{what} changed by {fmt(delta)} (from {fmt(prev)} to {fmt(value)}), more than the limit of {fmt(self.props.limit)}"
