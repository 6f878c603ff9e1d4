"""Browsing an enrichment datastore: its tables and their rows (Qualytics'
``GET /api/datastores/{id}/listing`` and ``GET /api/datastores/{id}/source-records``).

Pure functions over an opened source (``sources.open_source`` of the enrichment datastore);
nothing here reads the metadata store.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import sqlglot
import sqlglot.expressions as sge

#: The most rows one ``source-records`` answer carries.
MAX_ROWS = 1000


class BadFilter(ValueError):
    """A ``filter`` that is not ``column = 'value'`` comparisons joined by AND, or names an unknown column."""


def tables(source) -> list[str]:
    """The names of the enrichment datastore's tables (and views), sorted."""
    return sorted(c.name for c in source.list_containers())


def owner_of(table: str, prefixes: Sequence[str]) -> tuple[str | None, str]:
    """(the longest of ``prefixes`` that ``table`` starts with followed by ``_``, the label:
    the rest of the name). Without one: (None, the name)."""
    best = max((p for p in prefixes if p and table.startswith(p + "_")), key=len, default=None)
    return best, table[len(best) + 1 :] if best else table


def parse_filter(text: str) -> list[tuple[str, Any]]:
    """``[(column, value)]`` of a filter like ``anomaly_uuid='…' AND operation_id='12'``.

    Raises BadFilter for anything else (other operators, functions, subqueries…): the filter
    is parsed, never pasted into SQL."""
    try:
        tree = sqlglot.parse_one(text)
    except (sqlglot.errors.SqlglotError, ValueError, RecursionError) as e:
        raise BadFilter(f"cannot parse the filter: {str(e)[:200]}") from None
    if tree is None:
        raise BadFilter("the filter is empty: use column = 'value' joined by AND")
    out: list[tuple[str, Any]] = []

    def walk(node: sge.Expression) -> None:
        if isinstance(node, sge.And):
            walk(node.left)
            walk(node.right)
        elif isinstance(node, sge.Paren):
            walk(node.this)
        elif isinstance(node, sge.EQ) and isinstance(node.left, sge.Column) and isinstance(node.right, sge.Literal):
            literal = node.right
            out.append((node.left.name, literal.this if literal.is_string else _number(literal.this)))
        else:
            raise BadFilter(f"unsupported filter '{node.sql()}': use column = 'value' joined by AND")

    walk(tree)
    return out


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(timespec="milliseconds") + "Z"
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def rows(source, table: str, conditions: list[tuple[str, Any]], limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` rows of ``table`` matching every ``(column, value)`` (column names
    compared case-insensitively, values as text), keys in lower case as Qualytics answers them.

    Raises BadFilter naming an unknown column."""
    t = source.table(SimpleNamespace(container_type="table", name=table))
    by_lower = {c.lower(): c for c in t.columns}
    for column, value in conditions:
        real = by_lower.get(column.lower())
        if real is None:
            raise BadFilter(f"table {table} has no column '{column}'; its columns: {', '.join(t.columns)}")
        t = t.filter(t[real].cast("string") == str(value))
    found = t.limit(limit).to_pyarrow().to_pylist()
    return [{k.lower(): _jsonable(v) for k, v in row.items()} for row in found]


def as_text(records: list[dict[str, Any]]) -> str:
    """The rows as Qualytics' ``source_records`` string (a JSON array)."""
    return json.dumps(records, default=str)
