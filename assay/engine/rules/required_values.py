from __future__ import annotations

import builtins
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from . import register
from ._values import ListItem, coerce_all, column_and_literal, list_errors
from .base import AggregateRule, show

#: Longest list accepted: each value is one aggregate column of the fused query.
MAX_REQUIRED_VALUES = 1_000
#: Missing values a message names at most.
SHOWN = 10


class RequiredValuesProperties(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    list: builtins.list[ListItem] = Field(
        min_length=1,
        max_length=MAX_REQUIRED_VALUES,
        description="the values that must each appear at least once (at most 1,000)",
    )


@register
class RequiredValues(AggregateRule[RequiredValuesProperties]):
    """Every value of ``list`` appears at least once in the field (among the filtered rows).

    Definition: for each listed value ``v``, ``count(field = v) ≥ 1``. Each value is
    coerced to the field's type first (``rules._values``; a value that cannot be of that
    type is refused when the check is created): timestamps compare as UTC instants,
    strings byte for byte (case-sensitive). Duplicates (after coercion) count once. On an empty container every value is missing, so
    the check fails. Metrics: one ``count`` per distinct listed value.
    """

    name = "requiredValues"
    description = "Asserts that all of the listed values appear at least once in the field."
    Properties = RequiredValuesProperties

    wanted: list = []

    @classmethod
    def check_values(cls, props: Any, field_types: list[str]) -> None:
        list_errors(props.list, field_types)

    def metrics(self, t, where):
        col = t[self.field_name]
        self.wanted = coerce_all(self.props.list, col.type())
        out = {}
        for i, v in enumerate(self.wanted):
            c, lit = column_and_literal(col, v)
            hit = c == lit
            out[f"v{i}"] = col.count(where=hit if where is None else where & hit)
        return out

    def assess(self, values):
        missing = [v for i, v in enumerate(self.wanted) if not values.get(f"v{i}")]
        if not missing:
            return None
        shown = ", ".join(show(v) for v in missing[:SHOWN])
        more = f" and {len(missing) - SHOWN} more" if len(missing) > SHOWN else ""
        return (
            f"In {self.field_list}, {len(missing)} of {len(self.wanted)} required values do not appear: {shown}{more}"
        )
