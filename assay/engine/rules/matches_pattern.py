from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, field_validator

from . import register
from .base import RowRule


class PatternProperties(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pattern: str

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as e:
            raise ValueError(f"invalid regular expression: {e}") from None
        return v


@register
class MatchesPattern(RowRule):
    """The value matches the regular expression ``pattern`` (search semantics, as
    Spark's RLIKE: anchor with ``^…$`` for a whole-value match). NULLs are skipped; a
    non-string field is cast to text first.
    """

    name = "matchesPattern"
    description = "Asserts that a field's value matches a regular expression pattern."
    Properties = PatternProperties
    violation = "does not match the pattern"
    shape_violation = "do not match the pattern"

    def failing(self, t, key):
        v = t[self.field_name]
        if not v.type().is_string():
            v = v.cast("string")
        return v.notnull() & ~v.re_search(self.props.pattern)
