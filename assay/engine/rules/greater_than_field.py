from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from . import register
from ._compare import comparable
from .base import RowRule


class FieldComparisonProperties(BaseModel):
    model_config = ConfigDict(extra="forbid")
    field_name: str
    inclusive: bool = False


@register
class GreaterThanField(RowRule[FieldComparisonProperties]):
    """``field > other`` (``≥`` with ``inclusive``). A row where either side is NULL is skipped.

    Timestamps compare as UTC instants (a naive one is read as UTC), so a naive and an
    aware column compare correctly on every engine (SQLite keeps them as ISO text).
    """

    name = "greaterThanField"
    description = "Asserts that the field is greater than another field."
    Properties = FieldComparisonProperties
    compares_fields = True

    def failing(self, t, key):
        v, other = comparable(t[self.field_name]), comparable(t[self.props.field_name])
        ok = v >= other if self.props.inclusive else v > other
        return v.notnull() & other.notnull() & ~ok

    @property
    def violation(self):  # type: ignore[override]
        op = "greater than or equal to" if self.props.inclusive else "greater than"
        return f"is not {op} `{self.props.field_name}`"

    @property
    def shape_violation(self):  # type: ignore[override]
        op = "greater than or equal to" if self.props.inclusive else "greater than"
        return f"are not {op} `{self.props.field_name}`"
