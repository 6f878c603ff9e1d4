from __future__ import annotations

import ibis

from . import register
from .base import TEMPORAL, RowRule


@register
class NotFuture(RowRule):
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
            # Compare UTC instants (a naive timestamp is read as UTC). The casts also make
            # SQLite, which keeps timestamps as text ('…T…' or '… …'), compare normalised
            # times instead of raw strings ('T' sorts after ' ').
            utc = "timestamp('UTC')"
            return v.cast(utc) > ibis.now().cast(utc)
        raise TypeError(f"notFuture needs a date or timestamp field, {self.field_name} is {v.type()}")
