from __future__ import annotations

import builtins
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..exact import exact_isin
from . import register
from ._compare import comparable, utc_literal
from ._values import ListItem, coerce_all, list_errors
from .base import RowRule

#: Longest list accepted: every value becomes part of the fused SQL query.
MAX_VALUES = 10_000


class ExpectedValuesProperties(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    list: builtins.list[ListItem] = Field(
        min_length=1, max_length=MAX_VALUES, description="the allowed values (at most 10,000)"
    )


@register
class ExpectedValues(RowRule[ExpectedValuesProperties]):
    """The value is one of ``list``. NULLs are skipped (add notNull to forbid them).

    Each listed value is coerced to the field's type (``rules._values``: numbers or
    numeric text for a number field, ISO 8601 text for a Date or Timestamp field, …); a
    value that cannot be of that type is refused when the check is created. Timestamps
    compare as UTC instants (``2024-01-01T09:00:00+02:00`` is ``2024-01-01T07:00:00Z``).
    Strings compare byte for byte (case and trailing spaces count) on every engine,
    MySQL/MariaDB case-insensitive collations included (``engine.exact``).
    """

    name = "expectedValues"
    description = "Asserts that values are contained within a list of expected values."
    Properties = ExpectedValuesProperties
    violation = "does not appear in the list of expected values"
    shape_violation = "do not appear in the list of expected values"

    @classmethod
    def check_values(cls, props: Any, field_types: list[str]) -> None:
        list_errors(props.list, field_types)

    def failing(self, t, key):
        v = t[self.field_name]
        values = coerce_all(self.props.list, v.type())
        if v.type().is_timestamp():
            return v.notnull() & ~comparable(v).isin([utc_literal(m, v) for m in values])
        return v.notnull() & ~exact_isin(v, values)
