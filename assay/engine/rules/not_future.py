from __future__ import annotations

import ibis

from . import register
from ._compare import UTC_TIMESTAMP, comparable
from .base import TEMPORAL, NoProperties, RowRule


@register
class NotFuture(RowRule[NoProperties]):
    """The date or timestamp is not later than the scan's current time (UTC).

    A DATE is compared with today's date; a TIMESTAMP with now. NULLs are skipped.
    """

    name = "notFuture"
    description = "Asserts that the field's value is not in the future."
    field_types = TEMPORAL
    violation = "is in the future"
    shape_violation = "are in the future"

    def failing(self, t, key):
        v = t[self.field_name]
        if v.type().is_date():
            return v > ibis.today()
        if v.type().is_timestamp():
            # Compare UTC instants (a naive timestamp is read as UTC; sessions run in UTC).
            # SQLite keeps timestamps as text ('…T…' or '… …'): cast both sides there so
            # normalised times compare, not raw strings ('T' sorts after ' '). Elsewhere
            # "now" takes the column's own type, so no row is converted.
            if comparable(v) is not v:
                return comparable(v) > ibis.now().cast(UTC_TIMESTAMP)
            return v > (ibis.now() if v.type().timezone else ibis.now().cast("timestamp"))
        raise TypeError(f"notFuture needs a date or timestamp field, {self.field_name} is {v.type()}")
