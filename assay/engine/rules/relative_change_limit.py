from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from . import register
from .base import NUMERIC
from .shape_support import fmt
from .time_series import Aggregate, ChangeLimitProperties, ChangeLimitRule


class RelativeChangeLimitProperties(ChangeLimitProperties):
    limit: Decimal = Field(
        ge=0, description="largest accepted |value − previous| / |previous|, as a fraction (0.1 = 10%)"
    )
    aggregate: Aggregate = Field(
        "sum", description="how the field is measured: sum, avg, min, max or count; default sum"
    )


@register
class RelativeChangeLimit(ChangeLimitRule[RelativeChangeLimitProperties]):
    """``|measure − previous| / |previous| ≤ limit`` (a fraction: 0.1 = 10%), where the
    measure is ``aggregate`` (default sum) of the numeric field over the filtered rows.
    When the previous measure is 0, only no change passes. The first scan sets the
    baseline and passes. A NULL measure (avg/min/max of no values, e.g. an empty
    container) is not kept and fails against an earlier measurement.
    """

    name = "relativeChangeLimit"
    description = "Asserts that an aggregate of a numeric field changes by at most a fraction between scans."
    field_types = NUMERIC
    Properties = RelativeChangeLimitProperties

    def judge(self, what, value, prev, delta):
        if prev == 0:
            if delta == 0:
                return None
            return (
                f"{what} changed from 0 to {fmt(value)}, an unbounded relative change (limit {fmt(self.props.limit)})"
            )
        ratio = delta / abs(prev)
        if ratio <= self.props.limit:
            return None
        return (
            f"{what} changed by a fraction of {ratio:.6f} (from {fmt(prev)} to {fmt(value)}), "
            f"more than the limit of {fmt(self.props.limit)}"
        )
