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
    Computed as an aggregate: one ``GROUP BY fields HAVING count(*) > 1`` over the
    filtered rows, whose ``sum(count)`` (the failing rows) is a scalar subquery of the
    fused query; example rows are the rows whose combination is in that group (a
    semi-join), so no window carries every column of every row.
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

    def _considered(self, t, where):
        """The rows the rule looks at: every field non-NULL, passing the check's filter."""
        complete = ibis.and_(*[t[f].notnull() for f in self.check.fields])
        return complete if where is None else complete & where

    def _keys(self, t) -> dict[str, ibis.Value]:
        # timestamps group as UTC instants (SQLite keeps '…+02:00' text as written), text
        # byte for byte (not by a MySQL/MariaDB case-insensitive collation)
        return {f"__assay_k{i}": text_key(comparable(t[f])) for i, f in enumerate(self.check.fields)}

    def grouped_failures(self, t, where):
        rows = t.filter(self._considered(t, where))
        return rows.group_by(**self._keys(rows)).aggregate(n=rows.count()).filter(lambda g: g.n > 1)

    def failing_rows(self, t, where, groups):
        keyed = t.filter(self._considered(t, where))
        keyed = keyed.mutate(**self._keys(keyed))
        names = list(self._keys(t))
        return keyed.semi_join(groups, [keyed[k] == groups[k] for k in names]).select(*t.columns)

    def record_message(self, row):
        values = ", ".join(show(row.get(f)) for f in self.check.fields)
        return f"The {self.field_list} value of {values} is not unique"
