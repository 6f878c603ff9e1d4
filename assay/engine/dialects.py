"""Every per-engine difference the engine knows, in one place: one :class:`Dialect` per engine.

Rules, profiling and incremental reads build engine-neutral Ibis expressions; where an
engine needs its own SQL or behaves differently, they ask the expression's dialect
(:func:`dialect_of`) for a capability (a class attribute) or an expression builder (a
method) instead of testing the engine's name. The dialects, by Ibis backend name:

``duckdb`` :class:`DuckDBDialect` — the reference: every default of :class:`Dialect`.
``sqlite`` :class:`SQLiteDialect` — timestamps are ISO text, DECIMAL holds doubles, no NaN,
           15-digit double text, results read whole.
``postgres`` :class:`PostgresDialect` — ``float8`` text needs ``to_char`` for big doubles.
``mysql``  :class:`MySQLDialect` (MySQL and MariaDB) — collations fold text, no NaN, DECIMAL
           read through float64, results read whole, NULLs of a memtable must be objects.
``pyspark`` :class:`SparkDialect` — Java regular expressions (``$1`` in replacements), Java's
           double text (found shortest instead); Ibis' compiler and result reading are
           adjusted in ``sources.spark`` (NULL tests that keep NaN, Arrow results).
========== ===================================================================================
=======
* ``duckdb``: :class:`DuckDBDialect`, the reference: every default of :class:`Dialect`.
* ``sqlite``: :class:`SQLiteDialect`: timestamps are ISO text, DECIMAL holds doubles, no
  NaN, 15-digit double text, results read whole.
* ``postgres``: :class:`PostgresDialect`: ``float8`` text needs ``to_char`` for big doubles.
* ``mysql``: :class:`MySQLDialect` (MySQL and MariaDB): collations fold text, no NaN,
  DECIMAL read through float64, results read whole, NULLs of a memtable must be objects.
* ``pyspark``: :class:`SparkDialect`: Java regular expressions (``$1`` in replacements),
  Java's double text (the shortest digits are found instead); Ibis' compiler and result
  reading are adjusted in ``sources.spark`` (NULL tests that keep NaN, Arrow results).

Adding an engine means adding one subclass here (overriding only what differs from the
defaults) and listing it in :data:`DIALECTS`; an engine with no dialect gets the defaults
(:class:`Dialect` itself, named after the backend). ``engine.regex`` writes patterns with
a dialect's ``regex_*`` members; ``tests/engine/rules/test_parity.py`` is the check that a
new engine answers every rule type as the others do.
"""

from __future__ import annotations

from typing import Any, ClassVar

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from . import text as _text

#: The type every timestamp is cast to before it is compared (``rules._compare``).
UTC_TIMESTAMP = "timestamp('UTC')"


class Dialect:
    """What the engine layer needs to know about one engine: capabilities (class
    attributes) and per-engine expression builders (methods). The defaults are those of
    DuckDB, the reference engine; a subclass overrides what differs."""

    #: The Ibis backend name (``backend.name``) this dialect is for.
    name: ClassVar[str] = "duckdb"

    # -- capabilities ---------------------------------------------------------------------------
    #: The engine stores NaN in a float column (SQLite and MySQL turn it into NULL or reject it).
    has_nan: ClassVar[bool] = True
    #: The Ibis driver really streams a result (DuckDB record batches, PostgreSQL
    #: server-side cursor); elsewhere a whole result is read at once, so streams read pages.
    streams_results: ClassVar[bool] = True
    #: Text is compared byte for byte by ``=``, ``IN``, ``GROUP BY`` and ``LIKE`` whatever
    #: the column's collation. False where collations may fold case, accents or trailing
    #: spaces (MySQL/MariaDB): there :meth:`text_key` keys text by its bytes.
    exact_text: ClassVar[bool] = True
    #: ``COUNT(DISTINCT)`` is cheap enough to be exact on any container (DuckDB); elsewhere
    #: profiling uses the approximate count beyond ``profile.EXACT_DISTINCT_ROWS`` rows.
    cheap_exact_distinct: ClassVar[bool] = False
    #: Timestamps are stored as ISO text (SQLite): compared and ordered only once cast to
    #: UTC instants (:meth:`comparable_timestamp`).
    timestamps_as_text: ClassVar[bool] = False
    #: The driver reads a DECIMAL result through float64 (MySQL): exact sums are fetched as text.
    decimals_read_as_float: ClassVar[bool] = False
    #: Temporary tables are cheap and allowed, read-only connections included (DuckDB): a
    #: relation two queries need (a ``unique`` check's duplicated groups, for its count and
    #: its example rows) is computed once into one (``Table.cache``); where that fails each
    #: query computes it.
    caches_relations: ClassVar[bool] = False
    #: A common table expression referenced twice in a query is computed once (PostgreSQL
    #: 12+ materializes it, with a parallel plan of its own): a ``unique`` check whose
    #: duplicated groups are not cached is left out of the fused query, and its count and
    #: example rows come from one query that computes the ``GROUP BY`` once
    #: (``engine.plan._count_with_examples``), not from the fused query's subquery and a
    #: semi-join that computes it again.
    shares_common_subqueries: ClassVar[bool] = False
    #: A filter on one column is pushed into the table scan, which then reads the other
    #: columns only for the rows that pass (DuckDB): one query per failing check reading
    #: its example rows costs a few milliseconds on millions of rows, less than one query
    #: reading them all (``engine.plan``: ``SHARED_EXAMPLES_ABOVE_ROWS``).
    filters_in_scan: ClassVar[bool] = False
    #: An Ibis memtable (which Ibis creates as a temporary table on a server engine) can be
    #: joined with this engine's tables on Assay's connections. False on PostgreSQL: Assay
    #: opens its sessions read-only (``default_transaction_read_only=on``), which refuses
    #: every CREATE, temporary tables included, so a comparison across two engines never
    #: sends rows there (``engine/rules/_reference.Scratch``). MySQL/MariaDB's ``READ ONLY``
    #: transactions and SQLite's ``mode=ro`` still allow temporary tables.
    takes_memtables: ClassVar[bool] = True

    # -- regular expressions (``engine.regex`` writes Assay's flavour with these) ----------------
    #: The anchor matching only at the very end of the value.
    regex_end: ClassVar[str] = "\\z"
    #: Prefix of every translated pattern (MySQL switches case-insensitive matching off).
    regex_prefix: ClassVar[str] = ""

    def regex_escape(self, cp: int) -> str:
        """The escape writing code point ``cp`` in a pattern (RE2/PCRE: ``\\x{…}``)."""
        return f"\\x{{{cp:x}}}"

    # -- expression builders --------------------------------------------------------------------
    def comparable_timestamp(self, v: ir.TimestampValue) -> ir.Value:
        """Timestamp ``v`` as a value that compares as its UTC instant. The column itself
        wherever timestamps are instants already (Assay's sessions run in UTC): that keeps
        comparisons free and lets the engine prune by the column's statistics."""
        return v

    def timestamp_text(self, v: ir.Value) -> ir.StringValue:
        """A UTC timestamp (already ``comparable``) as ``YYYY-MM-DD HH:MM:SS.ffffff``."""
        return v.strftime("%Y-%m-%d %H:%M:%S.%f")

    def decimal_text(self, v: ir.DecimalValue) -> ir.StringValue:
        """A DECIMAL's exact digits, with exactly its declared scale of fractional digits."""
        return v.cast("string")

    def aggregate_value(self, value: ir.Scalar) -> ir.Scalar:
        """An aggregate expression's value as read back (``sum(x) * 0.5``), of its Ibis type."""
        return value

    def count_where(self, t: ir.Table, pred: ir.BooleanValue) -> ir.IntegerScalar:
        """How many rows of ``t`` satisfy ``pred`` (a row where it is NULL is not counted),
        as an aggregate of ``t``: the fused query's failing and asserted counts. NULL or
        0 when no row does (readers take NULL as 0). Here ``sum(CAST(pred AS INT))``,
        which DuckDB evaluates faster than ``count(*) FILTER (WHERE pred)``."""
        return pred.sum()

    def example_value(self, v: ir.Value) -> ir.Value:
        """Column ``v`` as read into an example row (an anomaly's source record): ``v``
        itself wherever the driver reads every value of its type exactly; an INTERVAL as
        the engine's text of it (``1 month 2 days 03:00:00``): its months and days have no
        exact duration, and Ibis reads DuckDB's Arrow intervals as durations, which fails
        ("Unsupported cast from month_day_nano_interval to duration"); a UUID as its text
        (psycopg reads PostgreSQL's as Python UUIDs, which Arrow cannot hold: "Expected
        bytes, got a 'UUID' object")."""
        dtype = v.type()
        if dtype.is_interval() or dtype.is_uuid():
            return v.cast("string").name(v.get_name())
        return v

    def double_text(self, x: ir.FloatingValue) -> ir.StringValue:
        """A non-NULL float64 in the canonical text of ``engine.text`` (DuckDB and MySQL:
        the engine's own shortest digits, rewritten in the canonical layout)."""
        low = x.cast("string").lower()
        layout = low
        for pattern, replacement in _text.LAYOUT_REWRITES:
            layout = self.regexp_replace(layout, pattern, replacement)
        return ibis.cases(
            (x == 0, "0"),
            (low == "nan", "NaN"),
            (low.isin(["inf", "infinity", "+inf", "+infinity"]), "Infinity"),
            (low.isin(["-inf", "-infinity"]), "-Infinity"),
            else_=layout,
        )

    def regexp_replace(self, s: ir.StringValue, pattern: str, replacement: str) -> ir.StringValue:
        """``s`` with every match of ``pattern`` (RE2/PCRE syntax) replaced by ``replacement``."""
        return s.re_replace(pattern, replacement)

    def text_key(self, v: ir.Value) -> ir.Value:
        """A string value equal for two rows exactly when their texts are byte-for-byte
        equal: ``v`` itself where text compares exactly (:attr:`exact_text`)."""
        return v

    def text_key_literal(self, value: str) -> str:
        """:meth:`text_key` of a Python string, computed in Python."""
        return value

    def memtable(self, batch: pa.Table) -> ir.Table:
        """An Arrow table as an Ibis in-memory table to be joined with this engine's tables."""
        return ibis.memtable(batch)


class DuckDBDialect(Dialect):
    """DuckDB: the defaults, plus an exact ``COUNT(DISTINCT)`` on any container and cheap
    temporary tables."""

    name = "duckdb"
    cheap_exact_distinct = True
    caches_relations = True
    filters_in_scan = True


class SQLiteDialect(Dialect):
    """SQLite: timestamps are ISO text (``T`` or space separated, with or without an
    offset), DECIMAL holds doubles, NaN becomes NULL, the double's text keeps only 15
    significant digits (so it is formatted in Python, registered as a function), regular
    expressions run in Python's ``re`` (through Ibis' ``_ibis_regex_search``)."""

    name = "sqlite"
    has_nan = False
    streams_results = False
    timestamps_as_text = True
    regex_end = "\\Z"

    def regex_escape(self, cp: int) -> str:
        return f"\\u{cp:04x}" if cp <= 0xFFFF else f"\\U{cp:08x}"

    def comparable_timestamp(self, v: ir.TimestampValue) -> ir.Value:
        return v.cast(UTC_TIMESTAMP)

    def timestamp_text(self, v: ir.Value) -> ir.StringValue:
        # %f is seconds with 3 decimals: add the microseconds SQLite does not keep
        return v.strftime("%Y-%m-%d %H:%M:%f") + "000"

    def decimal_text(self, v: ir.DecimalValue) -> ir.StringValue:
        scale = v.type().scale
        if scale is not None:  # the double's digits at the column's scale
            return _sqlite_fixed_text(v.cast("float64"), int(scale))
        return self.double_text(v.cast("float64"))

    def double_text(self, x: ir.FloatingValue) -> ir.StringValue:
        return _sqlite_double_text(x)


class PostgresDialect(Dialect):
    """PostgreSQL: ARE regular expressions (``$`` ends the value, ``\\uXXXX`` escapes);
    ``float8`` text is canonical but for ``-0`` and doubles of 2^53 and more."""

    name = "postgres"
    # no temporary table: Assay's sessions are read-only (see takes_memtables)
    shares_common_subqueries = True
    takes_memtables = False
    regex_end = "$"

    def count_where(self, t: ir.Table, pred: ir.BooleanValue) -> ir.IntegerScalar:
        """``count(*) FILTER (WHERE pred)``: PostgreSQL evaluates it about 20 % faster than
        the ``SUM(CAST(CAST(pred AS INT) AS BIGINT))`` Ibis writes for ``pred.sum()`` (two
        casts and a numeric sum per row for each check)."""
        return t.count(where=pred)

    def aggregate_value(self, value: ir.Scalar) -> ir.Scalar:
        """A fractional value cast to DOUBLE PRECISION: a literal such as ``0.5`` is NUMERIC
        there, so ``sum(int) * 0.5`` answers a NUMERIC where Ibis expects a float64 (which
        could not be read: "Could not convert Decimal('…') to double")."""
        from ibis.expr import operations as ops

        if not value.type().is_floating():
            return value
        # built as the operation itself: Value.cast drops a cast to the type Ibis already infers
        return ops.Cast(value, to=value.type()).to_expr()

    def example_value(self, v: ir.Value) -> ir.Value:
        """A NUMERIC without a declared scale (``avg(int)``, ``numeric * 1.609``) as its exact
        text (:meth:`decimal_text`, as ``engine.text`` renders it): read as Arrow's
        ``decimal128(38, 9)`` it fails on more fractional digits ("Rescaling Decimal value
        would cause data loss"). Example rows hold decimals as their exact text anyway.
        A float64 value cast to DOUBLE PRECISION (:meth:`aggregate_value`): ``int * 1.609``
        is NUMERIC there ("Could not convert Decimal('1720.021') … to double")."""
        dtype = v.type()
        if dtype.is_decimal() and dtype.scale is None:
            return self.decimal_text(v).name(v.get_name())
        if dtype.is_floating():
            return self.aggregate_value(v).name(v.get_name())
        return super().example_value(v)

    def regex_escape(self, cp: int) -> str:
        return f"\\u{cp:04x}" if cp <= 0xFFFF else f"\\U{cp:08x}"

    def double_text(self, x: ir.FloatingValue) -> ir.StringValue:
        raw = x.cast("string")
        # float8 output (extra_float_digits >= 1, the default) is the canonical text,
        # but for -0 and for doubles of 2^53 and more (all integers), which it writes
        # with the integer's own 17 leading digits (5e22 as 4.9999999999999996e+22):
        # those are written with 15, 16 or 17 digits by to_char (C's %e), the first
        # that reads back as the same double.
        tries = [_pg_to_char(x, "9." + "9" * n + "EEEE").strip() for n in (14, 15, 16)]
        # (a try is read back only below the double whose rounding would overflow)
        fits = [
            ibis.ifelse(x.abs() < limit, t.cast("float64") == x, False)
            for t, limit in zip(tries, (1.797693134862315e308, 1.7976931348623155e308), strict=False)
        ]
        big = ibis.cases((fits[0], tries[0]), (fits[1], tries[1]), else_=tries[2])
        big = _pg_regexp_replace(_pg_regexp_replace(big, "0+e", "e"), "\\.e", "e")
        return ibis.cases(
            (x == 0, "0"),
            (raw.isin(["NaN", "Infinity", "-Infinity"]), raw),
            (x.abs() >= 2.0**53, big),
            else_=raw,
        )


class MySQLDialect(Dialect):
    """MySQL and MariaDB (PCRE2 regular expressions).

    Their default collations (``utf8mb4_general_ci``, ``utf8mb4_uca1400_ai_ci``, …) are
    case- and often accent-insensitive and ignore trailing spaces, so text is keyed by
    ``HEX(v)`` (the bytes in the column's character set, utf8mb4 on Assay's connections)
    and patterns switch case-insensitivity off. NaN cannot be stored; the driver reads
    DECIMAL through float64 and whole results at once; Ibis inserts a memtable through
    pandas, where a NULL would become a NaN the driver refuses."""

    name = "mysql"
    has_nan = False
    streams_results = False
    exact_text = False
    decimals_read_as_float = True
    regex_prefix = "(?-i)"

    def timestamp_text(self, v: ir.Value) -> ir.StringValue:
        return v.strftime("%Y-%m-%d %H:%i:%s.%f")  # MySQL writes minutes as %i

    def regexp_replace(self, s: ir.StringValue, pattern: str, replacement: str) -> ir.StringValue:
        return _mysql_regexp_replace(s, pattern, replacement)

    def text_key(self, v: ir.Value) -> ir.Value:
        return _hex(v)

    def text_key_literal(self, value: str) -> str:
        return value.encode("utf-8").hex().upper()

    def memtable(self, batch: pa.Table) -> ir.Table:
        import pandas as pd

        frame = pd.DataFrame(
            {name: pd.Series(batch.column(name).to_pylist(), dtype=object) for name in batch.column_names}
        )
        return ibis.memtable(frame, schema=ibis.Schema.from_pyarrow(batch.schema))


class SparkDialect(Dialect):
    """Apache Spark (Ibis' ``pyspark`` backend; classic sessions and Spark Connect).

    Sessions run in UTC (``spark.sql.session.timeZone``), so a ``TIMESTAMP`` is the UTC
    instant and a ``TIMESTAMP_NTZ`` its naive UTC reading, as elsewhere; text compares
    byte for byte (``UTF8_BINARY``); regular expressions are Java's (``\\z``, ``\\x{…}``
    as in RE2). What differs:

    * ``regexp_replace`` replacements refer to groups as ``$1`` (``\\1`` is a literal 1);
    * Java writes a double with ``Double.toString`` (``1.0E-4``, ``1.2345678E7``:
      scientific below 10^-3 and from 10^7, and on Java < 19 not always the shortest
      digits), so :meth:`double_text` finds the shortest digits itself;
    * a whole result is read at once (``DataFrame.toArrow``), as Spark collects it.

    The Ibis backend itself is adjusted in ``sources.spark`` (``SparkBackend``): Ibis'
    PySpark compiler makes a NaN double NULL in ``IS NULL`` (fixed there), and its results
    would go through pandas (NaN → NULL; read as Arrow instead).
    """

    name = "pyspark"
    streams_results = False

    def regexp_replace(self, s: ir.StringValue, pattern: str, replacement: str) -> ir.StringValue:
        java = replacement.replace("$", "\\$")
        for n in range(9, 0, -1):
            java = java.replace(f"\\{n}", f"${n}")
        return s.re_replace(pattern, java)

    def double_text(self, x: ir.FloatingValue) -> ir.StringValue:
        """The shortest digits that read back as ``x``: ``%.{n}e`` (Java's ``String.format``)
        for n = 0…16, the first whose text is the same double; that is the scientific
        layout (``d.ddde±XX``), and for 10^-4 <= |x| < 10^15 it is written positionally
        through an exact DECIMAL(38, 20), trailing zeros dropped."""
        raw = x.cast("string")  # Java: NaN, Infinity, -Infinity
        tries = [_spark_format_string(f"%.{n}e", x) for n in range(17)]
        sci = ibis.cases(*[(t.try_cast("float64") == x, t) for t in tries[:-1]], else_=tries[-1])
        positional = sci.try_cast("decimal(38, 20)").cast("string").re_replace("\\.?0+$", "")
        finite = ibis.ifelse((x.abs() >= 1e-4) & (x.abs() < 1e15), positional, sci)
        return ibis.cases(
            (x.isnull(), ibis.null("string")),  # (Java formats NULL as 'null')
            (x == 0, "0"),
            (raw.isin(["NaN", "Infinity", "-Infinity"]), raw),
            else_=finite,
        )


#: The dialect of each engine, by Ibis backend name.
DIALECTS: dict[str, Dialect] = {
    d.name: d for d in (DuckDBDialect(), SQLiteDialect(), PostgresDialect(), MySQLDialect(), SparkDialect())
}

_DEFAULTS: dict[str, Dialect] = {}


def dialect_named(name: str) -> Dialect:
    """The dialect of the engine called ``name`` (an Ibis backend name); an engine without
    one of its own gets :class:`Dialect`'s defaults."""
    found = DIALECTS.get(name) or _DEFAULTS.get(name)
    if found is None:
        found = _DEFAULTS[name] = type(f"{name.title()}Dialect", (Dialect,), {"name": name})()
    return found


def backend_name(expr: Any) -> str:
    """The Ibis backend name (``duckdb``, ``sqlite``, ``postgres``, ``mysql``, …) an
    expression will run on; an unbound expression (a memtable) runs on Ibis' default
    backend, DuckDB."""
    try:
        backend = expr._find_backend(use_default=True)
    except Exception:  # noqa: BLE001 - unbound or mixed: Ibis' default
        return "duckdb"
    return getattr(backend, "name", "duckdb")


def same_connection(a: Any, b: Any) -> bool:
    """Whether Ibis expressions ``a`` and ``b`` can go into one query: they are read through
    the same backend connection, or one of them through none (an in-memory table joins any)."""

    def backend(expr: Any) -> Any:
        try:
            return expr._find_backend(use_default=False)
        except Exception:  # noqa: BLE001 - Ibis: "depends on no backends"
            return None

    first, second = backend(a), backend(b)
    return first is None or second is None or first is second


def dialect_of(expr: Any) -> Dialect:
    """The dialect of the engine the Ibis expression (table, column or scalar) runs on."""
    return dialect_named(backend_name(expr))


# -- engine functions the builders call ----------------------------------------------------------


@ibis.udf.scalar.python(name="assay_double_text")
def _sqlite_double_text(x: float) -> str:  # SQLite only: runs in this process
    return _text.double_text(x)  # type: ignore[return-value]  # None for NULL


@ibis.udf.scalar.python(name="assay_fixed_text")
def _sqlite_fixed_text(x: float, scale: int) -> str:  # SQLite only: runs in this process
    """The exact digits of double ``x`` with ``scale`` fractional digits (SQLite's printf
    stops at 16 significant digits)."""
    if x is None:
        return None
    try:
        x = float(x)
    except (TypeError, ValueError):  # SQLite: a non-number stored in a DECIMAL column
        return str(x)
    out = f"{x:.{scale}f}"
    return out[1:] if out.startswith("-") and not out.strip("-0.") else out


@ibis.udf.scalar.builtin(name="to_char")
def _pg_to_char(value: float, fmt: str) -> str:  # pragma: no cover
    """PostgreSQL's to_char(double precision, format)."""
    raise NotImplementedError  # compiled to SQL, never called


@ibis.udf.scalar.builtin(name="regexp_replace")
def _pg_regexp_replace(value: str, pattern: str, replacement: str) -> str:  # pragma: no cover
    """PostgreSQL's regexp_replace (first match)."""
    raise NotImplementedError  # compiled to SQL, never called


@ibis.udf.scalar.builtin(name="regexp_replace")
def _mysql_regexp_replace(value: str, pattern: str, replacement: str) -> str:  # pragma: no cover
    """MariaDB/MySQL's REGEXP_REPLACE (Ibis has no compilation rule for it there)."""
    raise NotImplementedError  # compiled to SQL, never called


@ibis.udf.scalar.builtin(name="format_string")
def _spark_format_string(fmt: str, value: float) -> str:  # pragma: no cover
    """Spark's format_string(format, double): Java's ``String.format``."""
    raise NotImplementedError  # compiled to SQL, never called


@ibis.udf.scalar.builtin(name="hex")
def _hex(value: str) -> str:  # pragma: no cover
    """MySQL's HEX(text): the hexadecimal digits (upper case) of the text's bytes."""
    raise NotImplementedError  # compiled to SQL, never called
