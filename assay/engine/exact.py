"""Exact text comparison on every engine, whatever the column's collation.

DuckDB, SQLite and PostgreSQL (with their default collations) compare text byte for
byte. MySQL/MariaDB compare by the column's collation, and the default ones
(``utf8mb4_general_ci``, ``utf8mb4_uca1400_ai_ci``, …) are case- and often
accent-insensitive and ignore trailing spaces: ``'abc' = 'ABC ' `` is true there. Ibis
already makes ``=`` on strings exact on MySQL (``CAST(x AS BINARY) = …``), but not
``IN``, ``GROUP BY`` or window partitions. Rules that test membership or group values
(``expectedValues``, ``unique``, ``existsIn`` / ``notExistsIn``: :func:`exact_in`,
:func:`exact_group`) key strings with :func:`text_key` so every engine gives the same,
case-, accent- and space-sensitive, answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import ibis
import ibis.expr.types as ir

from .dialects import dialect_of


def needs_key(v: ir.Value) -> bool:
    """True when string ``v`` runs on an engine whose collations may not be exact
    (MySQL/MariaDB: ``Dialect.exact_text`` is False)."""
    return v.type().is_string() and not dialect_of(v).exact_text


def text_key(v: ir.Value) -> ir.Value:
    """A value that is equal for two rows exactly when their texts are byte-for-byte equal:
    ``v`` itself on every engine but MySQL/MariaDB, where it is ``HEX(v)`` (the bytes of
    the text in the column's character set, as hexadecimal digits: no collation can fold
    two different texts together). Non-string values are returned unchanged.
    """
    return dialect_of(v).text_key(v) if needs_key(v) else v


def exact_isin(v: ir.Value, values: Iterable[Any]) -> ir.BooleanValue:
    """``v IN values``, with strings compared byte for byte on every engine.

    On MySQL/MariaDB a string column keeps the plain ``IN`` (which can use an index) and
    adds ``HEX(v) IN (hex of each UTF-8 encoded value)`` to rule out collation matches.
    Assumes the column's character set is utf8mb4/utf8 (or ASCII-only values), as
    Assay's MySQL connections use.
    """
    values = list(values)
    found = v.isin(values)
    if needs_key(v) and values and all(isinstance(x, str) for x in values):
        dialect = dialect_of(v)
        found = found & dialect.text_key(v).isin([dialect.text_key_literal(x) for x in values])
    return found


def exact_in(v: ir.Value, keys: ir.Table, name: str = "k") -> ir.BooleanValue:
    """``v IN (SELECT name FROM keys)``, with strings compared byte for byte on every engine.

    On MySQL/MariaDB a string ``v`` keeps the plain ``IN`` (which can use an index) and
    adds ``HEX(v) IN (SELECT HEX(name) FROM keys)``: no collation folds two different
    texts together. Both sides must hold text of the same character set (utf8mb4 on
    Assay's MySQL connections)."""
    found = v.isin(keys[name])
    if needs_key(v):
        key = dialect_of(v).text_key
        found = found & key(v).isin(keys.select(**{name: key(keys[name])})[name])
    return found


def exact_group(t: ir.Table, name: str = "k", **aggregates: Any) -> ir.Table:
    """The distinct values of column ``name`` of ``t`` (with ``aggregates`` per value),
    distinct byte for byte on every engine.

    Elsewhere a plain ``GROUP BY`` / ``DISTINCT``. On MySQL/MariaDB, where a ``GROUP BY``
    on text folds values its collation calls equal (``'abc'``, ``'ABC '``), the rows are
    grouped by ``HEX(name)`` (an extra column ``name + "_hex"`` that also makes the order
    total) and each group's value is ``MIN(name)``: the texts of a group are byte for byte
    the same, so that is the value itself.
    """
    col = t[name]
    if needs_key(col):
        hexed = f"{name}_hex"
        return (
            t.mutate(**{hexed: dialect_of(col).text_key(col)})
            .group_by(hexed)
            .aggregate(**{name: ibis._[name].min()}, **aggregates)
        )
    if aggregates:
        return t.group_by(name).aggregate(**aggregates)
    return t.select(name).distinct()


def like_pattern_regex(pattern: str) -> str:
    """A SQL ``LIKE`` pattern as a whole-value pattern in Assay's regex flavour: ``%`` is
    any run of characters (line breaks included), ``_`` any one character, a backslash
    makes the next character literal (MySQL's default ``ESCAPE``), anything else is itself."""
    from .regex import literal

    out, i = ["^"], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(literal(pattern[i + 1]))
            i += 2
            continue
        out.append(r"(?:.|\n)*" if ch == "%" else r"(?:.|\n)" if ch == "_" else literal(ch))
        i += 1
    out.append("$")
    return "".join(out)


def exact_like(v: ir.StringValue, pattern: str) -> ir.BooleanValue:
    """``v LIKE pattern``, case- and accent-sensitive on every engine (as Spark's LIKE).

    DuckDB, SQLite (through Ibis) and PostgreSQL compare characters exactly already. On
    MySQL/MariaDB ``LIKE`` follows the column's collation (``'ABC' LIKE 'a%'`` is true
    under ``utf8mb4_general_ci``), so the plain ``LIKE`` (which can use an index) is
    ANDed with the same pattern as a case-sensitive regular expression
    (:func:`like_pattern_regex`, searched by ``engine.regex``). NULL in, NULL out.
    """
    found = v.like(pattern)
    if needs_key(v):
        from . import regex

        found = found & regex.search(v, like_pattern_regex(pattern))
    return found
