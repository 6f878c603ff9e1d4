from __future__ import annotations

from typing import Annotated, List, Union

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from ..exact import exact_isin
from . import register
from .base import RowRule


#: Longest list accepted: every value becomes part of the fused SQL query.
MAX_VALUES = 10_000


class ExpectedValuesProperties(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    list: List[Union[StrictBool, Annotated[int, Field(ge=-(2**63), le=2**63 - 1)], float, str]] = Field(
        min_length=1, max_length=MAX_VALUES, description="the allowed values (at most 10,000)")


@register
class ExpectedValues(RowRule):
    """The value is one of ``list``. NULLs are skipped (add notNull to forbid them).

    Values are compared as given: for a string field, list strings; for a number field,
    list numbers. Strings compare byte for byte (case and trailing spaces count) on every
    engine, MySQL/MariaDB case-insensitive collations included (``engine.exact``).
    """

    name = "expectedValues"
    description = "Asserts that values are contained within a list of expected values."
    Properties = ExpectedValuesProperties
    violation = "does not appear in the list of expected values"
    shape_violation = "do not appear in the list of expected values"

    def failing(self, t, key):
        v = t[self.field_name]
        return v.notnull() & ~exact_isin(v, self.props.list)
