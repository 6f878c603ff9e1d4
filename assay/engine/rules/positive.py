from __future__ import annotations

from . import register
from ._compare import NoProperties
from .base import NUMERIC, RowRule


@register
class Positive(RowRule[NoProperties]):
    """The value is > 0 (0 itself fails). NULLs are skipped.

    NaN compares as greater than every number (DuckDB, PostgreSQL), so it passes;
    SQLite stores NaN as NULL and MySQL/MariaDB cannot store it.
    """

    name = "positive"
    Properties = NoProperties
    description = "Asserts that this is a positive number."
    field_types = NUMERIC
    violation = "is not positive"
    shape_violation = "are not positive"

    def failing(self, t, key):
        v = t[self.field_name]
        return v.notnull() & ~(v > 0)
