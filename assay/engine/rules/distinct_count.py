from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ..exact import text_key
from . import register
from ._compare import comparable
from .base import AggregateRule
from .shape_support import Comparison, compare, wording


class DistinctCountProperties(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: int = Field(ge=0, description="the number of distinct values to compare with")
    comparison: Comparison = Field("eq", description="eq, ne, lt, lte, gt or gte (default eq)")


@register
class DistinctCount(AggregateRule[DistinctCountProperties]):
    """The number of distinct non-NULL values of the field ⟨comparison⟩ ``value``.

    Definition: ``COUNT(DISTINCT field)`` over the filtered rows — exact on every engine
    (no approximate sketch), NULLs not counted, so engines agree to the unit. Values are
    counted as they compare: timestamps as UTC instants (``_compare.comparable``: one
    instant written with two offsets is one value), text byte for byte (``exact.text_key``:
    ``'abc'`` and ``'ABC'`` are two values even under MariaDB's case-insensitive collations).
    """

    name = "distinctCount"
    description = "Asserts on the exact number of distinct values in the field."
    Properties = DistinctCountProperties

    def metrics(self, t, where):
        return {"distinct": text_key(comparable(t[self.field_name])).nunique(where=where)}

    def assess(self, values):
        n = int(values["distinct"] or 0)
        p = self.props
        if compare(n, p.comparison, p.value):
            return None
        return f"In {self.field_list}, the {n} distinct values are not {wording(p.comparison)} {p.value}"
