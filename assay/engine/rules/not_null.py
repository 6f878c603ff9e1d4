from __future__ import annotations

from typing import Any

import ibis

from . import register
from .base import NoProperties, RowRule


@register
class NotNull(RowRule[NoProperties]):
    """Every selected field is non-NULL. A row fails when any of its fields is NULL.

    NaN is a value, not NULL, so it passes.
    """

    name = "notNull"
    description = "Asserts that none of the selected fields' values are explicitly set to nothing."
    fields = "multi"

    def failing(self, t, key):
        return ibis.or_(*[t[f].isnull() for f in self.check.fields])

    def record_message(self, row: dict[str, Any]) -> str:
        nulls = [f"`{f}`" for f in self.check.fields if row.get(f) is None]
        return f"The {', '.join(nulls) or self.field_list} value is missing (NULL)"

    shape_violation = "are NULL"
