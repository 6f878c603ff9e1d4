from __future__ import annotations

import ibis

from ..exact import text_key
from . import register
from ._compare import comparable
from .base import NoProperties, RowRule, show


@register
class Unique(RowRule[NoProperties]):
    """No two rows share the same value (or the same combination of the fields).

    A row fails when its combination occurs more than once among the filtered rows.
    Rows with a NULL in any of the fields are ignored, as a SQL UNIQUE constraint does,
    so a composite (a, b) over a unique ``a`` passes however many ``b`` are NULL.
    Computed with a windowed COUNT partitioned by the fields, inside the fused query.
    Timestamps are compared as UTC instants: 10:00+02:00 and 06:00-02:00 are the same value.
    Text is compared byte for byte on every engine ('abc' and 'ABC' differ on MariaDB too).
    """

    name = "unique"
    on_incremental = (
        "finds duplicates among the rows the scan reads: on an incremental scan, among the new rows "
        "only, not between new and earlier rows (run a full scan for those)"
    )
    description = "Asserts that every value held by a field appears only once."
    fields = "multi"
    violation = "is not unique"
    shape_violation = "are not unique"

    def _complete(self, t):
        return ibis.and_(*[t[f].notnull() for f in self.check.fields])

    def derived(self, t, key, where):
        considered = self._complete(t) if where is None else (self._complete(t) & where)
        counter = considered.ifelse(1, ibis.null("int64"))
        # timestamps group as UTC instants (SQLite keeps '…+02:00' text as written), text
        # byte for byte (not by a MySQL/MariaDB case-insensitive collation)
        window = ibis.window(group_by=[text_key(comparable(t[f])) for f in self.check.fields])
        return {f"{key}_n": counter.count().over(window)}

    def failing(self, t, key):
        return self._complete(t) & (t[f"{key}_n"] > 1)

    def record_message(self, row):
        values = ", ".join(show(row.get(f)) for f in self.check.fields)
        return f"The {self.field_list} value of {values} is not unique"
