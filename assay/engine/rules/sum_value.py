from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from . import register
from .base import NUMERIC, AggregateRule
from .shape_support import fmt, to_decimal


class SumProperties(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    value: Decimal = Field(description="the expected sum (a JSON number, or a string for more digits than a double holds)")
    tolerance: Decimal = Field(Decimal(0), ge=0, description="largest accepted |sum − value| (default 0: exact)")


@register
class Sum(AggregateRule):
    """``|SUM(field) − value| ≤ tolerance`` over the filtered rows; NULLs are skipped.

    The comparison is exact decimal arithmetic (``decimal.Decimal``, never float): a
    DECIMAL(38,10) column summed by the engine keeps all its digits, and a float sum is
    taken at its shortest repr. The sum of no values (empty container, all NULL) is 0.
    """

    name = "sum"
    description = "Asserts that the sum of the field equals a value (within an optional tolerance)."
    field_types = NUMERIC
    Properties = SumProperties

    def metrics(self, t, where):
        return {"sum": t[self.field_name].sum(where=where)}

    def assess(self, values):
        total = to_decimal(values["sum"]) or Decimal(0)
        p = self.props
        if total.is_nan():
            return f"The sum of {self.field_list} is NaN, not {fmt(p.value)}"
        if abs(total - p.value) <= p.tolerance:
            return None
        within = f" within {fmt(p.tolerance)}" if p.tolerance else ""
        return f"The sum of {self.field_list} is {fmt(total)}, not {fmt(p.value)}{within}"
