from __future__ import annotations

from typing import Any

import ibis

from . import register
from ._compare import NoProperties
from .base import RowRule


@register
class AnyNotNull(RowRule[NoProperties]):
    """At least one of the selected fields is non-NULL. A row fails when ALL of them are NULL.

    NaN is a value, not NULL, so a row whose only non-NULL field is NaN passes.
    """

    name = "anyNotNull"
    Properties = NoProperties
    description = "Asserts that at least one of the selected fields is not null."
    fields = "multi"
    shape_violation = "have every one of these fields NULL"

    def failing(self, t, key):
        return ibis.and_(*[t[f].isnull() for f in self.check.fields])

    def record_message(self, row: dict[str, Any]) -> str:
        if len(self.check.fields) == 1:
            return f"The {self.field_list} value is missing (NULL)"
        return f"The {self.field_list} values are all missing (NULL)"
