from __future__ import annotations

from typing import Annotated, List, Union

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from . import register
from .base import AggregateRule, show

#: Longest list accepted: each value is one aggregate column of the fused query.
MAX_REQUIRED_VALUES = 1_000
#: Missing values a message names at most.
SHOWN = 10


class RequiredValuesProperties(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    list: List[Union[StrictBool, Annotated[int, Field(ge=-(2**63), le=2**63 - 1)], float, str]] = Field(
        min_length=1, max_length=MAX_REQUIRED_VALUES,
        description="the values that must each appear at least once (at most 1,000)")


@register
class RequiredValues(AggregateRule):
    """Every value of ``list`` appears at least once in the field (among the filtered rows).

    Definition: for each listed value ``v``, ``count(field = v) ≥ 1``. Values compare
    exactly as given (strings are case-sensitive; give numbers for a number field).
    Duplicates in the list count once. On an empty container every value is missing, so
    the check fails. Metrics: one ``count`` per distinct listed value.
    """

    name = "requiredValues"
    description = "Asserts that all of the listed values appear at least once in the field."
    Properties = RequiredValuesProperties

    @property
    def wanted(self) -> list:
        out: list = []
        for v in self.props.list:
            # keep True and 1 apart (they hash alike)
            if not any(type(v) is type(w) and v == w for w in out):
                out.append(v)
        return out

    def metrics(self, t, where):
        col = t[self.field_name]
        out = {}
        for i, v in enumerate(self.wanted):
            hit = col == v
            out[f"v{i}"] = col.count(where=hit if where is None else where & hit)
        return out

    def assess(self, values):
        missing = [v for i, v in enumerate(self.wanted) if not values.get(f"v{i}")]
        if not missing:
            return None
        shown = ", ".join(show(v) for v in missing[:SHOWN])
        more = f" and {len(missing) - SHOWN} more" if len(missing) > SHOWN else ""
        return (f"In {self.field_list}, {len(missing)} of {len(self.wanted)} required values "
                f"do not appear: {shown}{more}")
