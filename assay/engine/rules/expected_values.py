from __future__ import annotations

from typing import Any, List

from pydantic import BaseModel, ConfigDict, Field

from . import register
from .base import RowRule


class ExpectedValuesProperties(BaseModel):
    model_config = ConfigDict(extra="forbid")
    list: List[Any] = Field(min_length=1, description="the allowed values")


@register
class ExpectedValues(RowRule):
    """The value is one of ``list``. NULLs are skipped (add notNull to forbid them).

    Values are compared as given: for a string field, list strings; for a number field,
    list numbers.
    """

    name = "expectedValues"
    description = "Asserts that values are contained within a list of expected values."
    Properties = ExpectedValuesProperties
    violation = "does not appear in the list of expected values"
    shape_violation = "do not appear in the list of expected values"

    def failing(self, t, key):
        v = t[self.field_name]
        return v.notnull() & ~v.isin(self.props.list)
