from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

import ibis
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, field_validator

from ..dialects import dialect_of
from . import register
from .base import RowRule, show

#: Entry-point group where packages register UDFs: ``name = "module:function"``.
GROUP = "assay.udf"
#: The most distinct values a UDF check evaluates; above it the check is unasserted.
MAX_DISTINCT_VALUES = 1_000_000
#: Up to this many failing values go into the query as an IN list; more go through a
#: temporary table (an Ibis memtable) joined as ``IN (SELECT …)``, except on an engine that
#: takes no memtables (``Dialect.takes_memtables``: read-only PostgreSQL), where all go inline.
INLINE_VALUES = 1000


def load_function(name: str) -> Callable[[Any], Any]:
    """The function registered as ``name`` in the ``assay.udf`` entry-point group.

    Raises: ValueError when no such entry point exists, it cannot be imported, or it
    is not callable.
    """
    found = [ep for ep in entry_points(group=GROUP) if ep.name == name]
    if not found:
        known = sorted({ep.name for ep in entry_points(group=GROUP)})
        raise ValueError(
            f"no function '{name}' is registered in the '{GROUP}' entry-point group"
            + (f" (registered: {', '.join(known)})" if known else " (none registered)")
        )
    try:
        fn = found[0].load()
    except Exception as e:  # noqa: BLE001 - a broken plugin is the user's input
        raise ValueError(f"function '{name}' ({found[0].value}) cannot be loaded: {e}") from None
    if not callable(fn):
        raise ValueError(f"'{name}' ({found[0].value}) is not callable")
    return fn


class UdfProperties(BaseModel):
    model_config = ConfigDict(extra="forbid")
    function: str

    @field_validator("function")
    @classmethod
    def _registered(cls, v: str) -> str:
        load_function(v)
        return v


@register
class UserDefinedFunction(RowRule[UdfProperties]):
    """The Python function registered as ``function`` (entry-point group ``assay.udf``)
    returns a true value for the field's value. NULLs are skipped.

    Evaluation works on every engine without reading the table row by row: the
    DISTINCT non-NULL values of the field (at most ``MAX_DISTINCT_VALUES``) are fetched
    once per check and container read, the function is applied to each in Python, and
    the rows whose value is among the failing ones fail (``IN`` list, or a temporary
    table for more than ``INLINE_VALUES`` values). The values are fetched over the
    whole container read, before the check's filter.

    Raises: RuleDefinitionError on ``properties.function`` (→ 422) for an unknown
    function. At scan time the check is unasserted, with the reason, when the field has
    more than ``MAX_DISTINCT_VALUES`` distinct values or the function raises.
    """

    name = "userDefinedFunction"
    description = "Asserts that a Python function registered as an assay.udf plugin returns true for each value."
    Properties = UdfProperties
    violation = "is rejected by the user-defined function"
    shape_violation = "are rejected by the user-defined function"

    def __init__(self, check):
        super().__init__(check)
        self._failing: pa.Array | None = None
        self._memtable = None

    def _failing_values(self, t) -> pa.Array:
        if self._failing is None:
            col = t[self.field_name]
            distinct = t.filter(col.notnull()).select(col).distinct().limit(MAX_DISTINCT_VALUES + 1)
            values = distinct.to_pyarrow().column(0).combine_chunks()
            if len(values) > MAX_DISTINCT_VALUES:
                raise ValueError(
                    f"field {self.field_name} has more than {MAX_DISTINCT_VALUES} distinct values; "
                    f"userDefinedFunction evaluates at most that many"
                )
            fn = load_function(self.props.function)
            bad = []
            for i, value in enumerate(values.to_pylist()):
                try:
                    ok = fn(value)
                except Exception as e:  # noqa: BLE001 - reported on this check
                    raise ValueError(
                        f"function {self.props.function} raised {type(e).__name__} on value {show(value)}: {e}"
                    ) from None
                if not ok:
                    bad.append(i)
            self._failing = values.take(pa.array(bad, pa.int64()))
        return self._failing

    def failing(self, t, key):
        col = t[self.field_name]
        bad = self._failing_values(t)
        if len(bad) == 0:
            return col.notnull() & col.isnull()  # no row fails
        # inline too where the engine takes no temporary table (a read-only PostgreSQL session)
        if len(bad) <= INLINE_VALUES or not dialect_of(col).takes_memtables:
            return col.notnull() & col.isin(bad.to_pylist())
        if self._memtable is None:
            self._memtable = ibis.memtable(pa.table({"value": bad}))
        return col.notnull() & col.isin(self._memtable["value"])
