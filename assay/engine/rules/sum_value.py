from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from ..dialects import dialect_of
from . import register
from .base import NUMERIC, AggregateRule
from .shape_support import fmt, to_decimal


class SumProperties(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    value: Decimal = Field(
        description="the expected sum (a JSON number, or a string for more digits than a double holds)"
    )
    tolerance: Decimal = Field(Decimal(0), ge=0, description="largest accepted |sum − value| (default 0: exact)")


@register
class Sum(AggregateRule[SumProperties]):
    """``|SUM(field) − value| ≤ tolerance`` over the filtered rows; NULLs are skipped.

    The comparison is exact decimal arithmetic (``decimal.Decimal``, never float): a
    DECIMAL(38,10) column summed by the engine keeps all its digits, and a float sum is
    taken at its shortest repr. The sum of no values (empty container, all NULL) is 0.
    On MySQL/MariaDB, whose Ibis driver reads DECIMAL through float64, a DECIMAL sum is
    fetched as its text and parsed with ``Decimal``, so all its digits survive.
    """

    name = "sum"
    description = "Asserts that the sum of the field equals a value (within an optional tolerance)."
    field_types = NUMERIC
    Properties = SumProperties

    def metrics(self, t, where):
        v = t[self.field_name]
        total = v.sum(where=where)
        if v.type().is_decimal() and dialect_of(v).decimals_read_as_float:
            total = total.cast("string")  # exact digits; parsed in assess
        return {"sum": total}

    def assess(self, values):
        raw = values["sum"]
        total = (Decimal(raw) if isinstance(raw, str) else to_decimal(raw)) or Decimal(0)
        p = self.props
        if total.is_nan():
            return f"The sum of {self.field_list} is NaN, not {fmt(p.value)}"
        if abs(total - p.value) <= p.tolerance:
            return None
        within = f" within {fmt(p.tolerance)}" if p.tolerance else ""
        return f"The sum of {self.field_list} is {fmt(total)}, not {fmt(p.value)}{within}"
