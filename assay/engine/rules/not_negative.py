from __future__ import annotations

from . import register
from .base import NUMERIC, NoProperties, RowRule


@register
class NotNegative(RowRule[NoProperties]):
    """The value is ≥ 0. NULLs are skipped; NaN is not < 0 and passes."""

    name = "notNegative"
    description = "Asserts that this is a non-negative number."
    field_types = NUMERIC
    violation = "is negative"
    shape_violation = "are negative"

    def failing(self, t, key):
        return t[self.field_name] < 0
