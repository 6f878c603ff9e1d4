"""Helpers shared by the cross-container rules (existsIn, notExistsIn, dataDiff,
isNotReplicaOf, aggregationComparison) and by rules that run their own pass
(entityResolution). Not a rule type itself: it registers nothing.

How a cross-container check runs (``engine.plan`` drives it):

* ``plan`` asks its resolver for the reference container and calls ``bind(reference, t)``;
* **same backend** (the reference is on the scanned table's Ibis connection): the rule
  is fused into the container's one aggregate query — an ``IN (SELECT …)`` for
  existsIn/notExistsIn, anti-joins as scalar subqueries for dataDiff, a scalar subquery
  for the reference aggregate of aggregationComparison;
* **another backend** (e.g. a DuckDB file against a PostgreSQL table): the rule runs
  *apart* (``evaluate_apart``), streaming one side's distinct keys in batches of at most
  ``batch_size`` rows (pyarrow record batches, never the whole side in Python at once)
  and probing the other engine with each batch as an Ibis memtable (semi/anti join). A
  side on an engine that takes no memtables (a read-only PostgreSQL session) is first
  copied, in batches, into an in-process DuckDB database (``Scratch``) where the join
  runs instead.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import ibis
import ibis.expr.types as ir
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

from ..dialects import dialect_of, same_connection
from ..text import as_text
from .base import ApartResult, ReferenceContainer, Rule

__all__ = [
    "ApartResult",
    "CrossContainerMixin",
    "ReferenceProperties",
    "Scratch",
    "aligned",
    "memtable",
    "stream",
    "takes_memtables",
    "total",
]


class ReferenceProperties(BaseModel):
    """``ref_container_id`` (required) and ``ref_datastore_id`` (default: the datastore of
    the checked container)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    ref_datastore_id: int | None = Field(
        None, ge=1, description="datastore of the reference container (default: this one)"
    )
    ref_container_id: int = Field(ge=1, description="the reference container")


#: The properties of a cross-container rule.
RP = TypeVar("RP", bound=ReferenceProperties)


class CrossContainerMixin(Rule[RP]):
    """Mixed into a RowRule/AggregateRule whose ``Properties`` derive from
    :class:`ReferenceProperties` (``class R(CrossContainerMixin[Props], RowRule[Props])``).
    After ``bind``: ``ref`` (the reference Ibis table), ``ref_label``
    (``datastore.container``) and ``apart`` (True when the reference lives on another
    backend, so the rule must run with ``evaluate_apart``)."""

    on_incremental = (
        "compares the rows the scan reads with the whole reference container: on an incremental scan, the new rows only"
    )
    needs_reference = True
    apart = False
    #: the reference container (after :meth:`bind`)
    ref: ir.Table
    #: ``datastore.container``, for messages
    ref_label: str = "the reference container"

    def bind(self, reference: ReferenceContainer, t: ir.Table) -> None:
        """Keep the reference table (a view on the same backend, so a self-join has two
        names) and run apart when it lives on another backend: another datastore, or the
        scanned datastore's own connection while ``t`` is elsewhere (an external scan's
        records sit in an in-memory DuckDB of their own)."""
        same = reference.same_backend and same_connection(reference.table, t)
        # a view: the reference may be the checked table itself (a self-join needs two names)
        self.ref = reference.table.view() if same else reference.table
        self.ref_label = reference.label
        self.apart = not same

    def ref_column(self, name: str) -> ir.Column:
        """Column ``name`` of the reference container. Raises: ValueError when it has none."""
        if name not in self.ref.columns:
            raise ValueError(f"field '{name}' not found in reference container {self.ref_label}")
        return self.ref[name]


def aligned(a: ir.Value, b: ir.Value) -> tuple[ir.Value, ir.Value]:
    """``a`` and ``b`` made comparable: unchanged when both are numeric, both strings, both
    temporal (timestamps as UTC instants) or of one type; otherwise both rendered as text
    (``engine.text.as_text``, the same text on every engine)."""
    ta, tb = a.type(), b.type()
    if ta.is_timestamp() and tb.is_timestamp():
        return a.cast("timestamp('UTC')"), b.cast("timestamp('UTC')")
    if (ta.is_numeric() and tb.is_numeric()) or (ta.is_string() and tb.is_string()) or ta.equals(tb):
        return a, b
    if ta.is_temporal() and tb.is_temporal():
        return a, b
    return as_text(a), as_text(b)


def stream(expr: ir.Table, size: int) -> Iterator[pa.Table]:
    """The rows of ``expr`` in pyarrow tables of exactly ``size`` rows (the last may be
    shorter), never more than one batch in Python at a time.

    On a streaming backend (``Dialect.streams_results``: DuckDB record batches, PostgreSQL
    server-side cursor; an unbound expression runs on DuckDB) one query is read batch by
    batch; elsewhere (SQLite, MySQL, where Ibis reads a whole result at once) each batch
    is its own ``ORDER BY <every column> LIMIT size OFFSET n`` query, so ``expr`` must
    have distinct rows (every caller streams grouped or DISTINCT keys).
    """
    if not dialect_of(expr).streams_results:
        ordered = expr.order_by([expr[c] for c in expr.columns])
        offset = 0
        while True:
            page = ordered.limit(size, offset=offset).to_pyarrow()
            if page.num_rows:
                yield page
            if page.num_rows < size:
                return
            offset += size
    pending: list[pa.RecordBatch] = []
    held = 0
    reader = expr.to_pyarrow_batches(chunk_size=size)
    try:
        for batch in reader:
            offset = 0
            while offset < batch.num_rows:
                piece = batch.slice(offset, size - held)
                offset += piece.num_rows
                pending.append(piece)
                held += piece.num_rows
                if held == size:
                    yield pa.Table.from_batches(pending)
                    pending, held = [], 0
        if held:
            yield pa.Table.from_batches(pending)
    finally:
        close = getattr(reader, "close", None)
        if close:
            close()


def takes_memtables(expr: ir.Table) -> bool:
    """Whether rows may be sent to ``expr``'s engine as a memtable (``Dialect.takes_memtables``)."""
    return dialect_of(expr).takes_memtables


class Scratch:
    """Where a cross-engine comparison joins when one side's engine takes no memtables (a
    read-only PostgreSQL session: nothing is ever written into the user's database).

    :meth:`side` copies that side's rows, streamed in batches of ``batch_size`` (never more
    than one batch in Python), into an in-process DuckDB database that spills to a
    temporary folder beyond ``MEMORY_LIMIT``; the other side's batches are then joined with
    the copy there. :meth:`close` drops the database and the folder. Used as a context
    manager by ``evaluate_apart``.
    """

    MEMORY_LIMIT = "256MB"

    def __init__(self, batch_size: int, on_query: Callable[[str], None]) -> None:
        self.batch_size = batch_size
        self.on_query = on_query
        self.con: Any = None
        self.folder: str | None = None
        self.copies = 0

    def __enter__(self) -> Scratch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def side(self, expr: ir.Table, what: str) -> ir.Table:
        """``expr`` itself when its engine takes memtables; otherwise a copy of its rows in the
        scratch DuckDB database (``what`` names it in the ``on_query`` labels)."""
        if takes_memtables(expr):
            return expr
        if self.con is None:
            self.folder = tempfile.mkdtemp(prefix="assay-compare-")
            self.con = ibis.duckdb.connect(temp_directory=self.folder, memory_limit=self.MEMORY_LIMIT, threads=1)
        self.copies += 1
        name = f"side_{self.copies}"
        copy = None
        for n, batch in enumerate(stream(expr, self.batch_size), start=1):
            self.on_query(f"{what}: batch {n} of {batch.num_rows} rows copied for the comparison")
            if copy is None:
                copy = self.con.create_table(name, batch)
            else:
                self.con.insert(name, batch)
        if copy is None:  # no rows: an empty table of the same columns
            copy = self.con.create_table(name, schema=expr.schema())
        return copy

    def close(self) -> None:
        if self.con is not None:
            self.con.disconnect()
            self.con = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


def memtable(batch: pa.Table, target: ir.Table | None = None) -> ir.Table:
    """A batch as an Ibis in-memory table (registered on whichever engine runs it).

    ``target`` is a table of the engine the batch will be joined with; its dialect builds
    the memtable (``Dialect.memtable``: on MySQL/MariaDB, where Ibis inserts rows through
    pandas and a NULL would become a NaN the driver refuses, the rows are given as Python
    values in object columns, so every NULL arrives as a SQL NULL).
    """
    if target is not None:
        return dialect_of(target).memtable(batch)
    return ibis.memtable(batch)


def total(expr: ir.Scalar) -> int:
    value = expr.to_pyarrow().as_py()
    return int(value or 0)
