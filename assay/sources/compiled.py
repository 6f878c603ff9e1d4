"""The SQL of an Ibis expression, compiled once per process and reused.

A scan that runs again (scheduled, or incremental over the new rows of a growing table)
builds the same queries each time: the fused query of the container's checks, its example
rows, the partition measure. Ibis spends 5–20 ms compiling each (its rewrite passes and
sqlglot's generator), as much as DuckDB spends running them over a 100,000-row delta.
:class:`CompiledSQLCache` keeps the SQL of the queries compiled so far, keyed by the
expression itself.

Ibis expressions compare by structure: two are equal when they apply the same operations,
with equal literals, to equal tables (name, schema, and the backend's ``db_identity``: its
connection arguments). Python's equality of literal values is looser than their SQL,
though: ``-0.0 == 0.0`` (written ``0.0`` and ``-0.0``), and an offset-aware datetime
equals the same instant at another offset, while Ibis writes a naive timestamp literal
from its wall-clock fields (``12:00+05:00`` and ``07:00+00:00`` compare equal and compile
to 12:00 and 07:00). The key therefore also holds every literal's type and
``repr``, so a changed check, field type, literal or staged table is a new query.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import ibis.expr.operations as ops

#: Compiled queries kept per process (the least recently used goes first): a scan compiles
#: 3–5 per container, so this covers a hundred containers scanned in turn.
COMPILED_SQL_ENTRIES = 512
#: And at most this many characters of SQL in all, a bound on the memory the kept
#: expressions take too (their size follows their SQL's): a profile of 1,000 fields
#: compiles about 0.5 M characters. A longer query is not kept.
COMPILED_SQL_CHARS = 8_000_000


class _LRU:
    """A thread-safe least-recently-used map of SQL strings, bounded by ``size`` entries and
    ``chars`` characters in all, with hit and miss counters."""

    def __init__(self, size: int, chars: int):
        self.size, self.chars = size, chars
        self.hits = self.misses = 0
        self._items: OrderedDict[Any, str] = OrderedDict()
        self._held = 0  # characters of SQL held
        self._lock = threading.Lock()

    def get(self, key: Any) -> str | None:
        with self._lock:
            sql = self._items.get(key)
            if sql is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return sql

    def put(self, key: Any, sql: str) -> None:
        if len(sql) > self.chars:
            return
        with self._lock:
            old = self._items.pop(key, None)
            self._held += len(sql) - (len(old) if old is not None else 0)
            self._items[key] = sql
            while len(self._items) > self.size or self._held > self.chars:
                _key, dropped = self._items.popitem(last=False)
                self._held -= len(dropped)

    def __len__(self) -> int:
        return len(self._items)


#: The process' compiled queries (all backends; the key names the compiler).
compiled_sql = _LRU(COMPILED_SQL_ENTRIES, COMPILED_SQL_CHARS)


class CompiledSQLCache:
    """Mixed into an Ibis SQL backend class (before it in the bases): ``compile()`` returns
    the SQL compiled earlier in this process for an equal expression, ``limit`` and
    ``pretty`` on the same compiler class (:data:`compiled_sql`), and compiles otherwise.

    Not kept: a query with scalar parameters (``params``: their values are bound while
    compiling), and one over an in-memory table (an Ibis memtable: a new name each time,
    and the entry would hold its rows)."""

    def compile(self, expr, /, *, limit=None, params=None, pretty=False, **kwargs):
        if params or kwargs:
            return super().compile(expr, limit=limit, params=params, pretty=pretty, **kwargs)  # type: ignore[misc]
        op = expr.op()
        key = (type(self.compiler), op, literal_values(op), limit, pretty)  # type: ignore[attr-defined]
        sql = compiled_sql.get(key)
        if sql is not None:
            self._log(sql)  # type: ignore[attr-defined]
            return sql
        sql = super().compile(expr, limit=limit, pretty=pretty)  # type: ignore[misc]
        if not op.find(ops.InMemoryTable):
            compiled_sql.put(key, sql)
        return sql


def literal_values(op: ops.Node) -> tuple[tuple[str, str], ...]:
    """The type and ``repr`` of every literal value in expression ``op``, in the order of a
    depth-first walk of its operations (each operation object once): what tells apart
    literals that Python deems equal but that compile to different SQL."""
    seen: set[int] = set()
    found: list[tuple[str, str]] = []
    stack: list[Any] = [op]
    while stack:
        item = stack.pop()
        if isinstance(item, ops.Node):
            if id(item) in seen:
                continue
            seen.add(id(item))
            if isinstance(item, ops.Literal):
                found.append((type(item.value).__name__, repr(item.value)))
                continue
            stack.extend(reversed(item.__args__))
        elif isinstance(item, (tuple, list)):
            stack.extend(reversed(item))
        elif isinstance(item, Mapping):
            stack.extend(reversed(list(item.values())))
    return tuple(found)
