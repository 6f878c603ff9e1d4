"""Shared data for the rule parity matrix and the semantics tests: the same tables, created
with each engine's own DDL (as a user's tables would be) and read back through Ibis
exactly as a scan reads a container (``con.table(name)``).

Engines: DuckDB (in memory), SQLite (a temp file), PostgreSQL (a fresh schema) and
MariaDB (a fresh database), connected by ``tests.engines.connect``; ``load`` creates the
tables there and ``Loaded.table(name)`` gives the Ibis table on one engine.

Two things cannot be identical everywhere and are stated here once:

* SQLite and MariaDB have no NaN: a NaN double is stored as NULL there (SQLite does so
  itself, MariaDB rejects NaN, so the loader writes NULL). ``HAS_NAN`` says which engines
  keep it.
* SQLite has no fixed-point type: a DECIMAL(38,10) column has NUMERIC affinity and holds
  doubles (≈16 significant digits). ``EXACT_DECIMAL`` says which engines keep all digits.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import ibis.expr.types as ir
from sqlglot import exp

from tests.engines import ENGINES, SPARK, connect  # noqa: F401  (re-exported for the rule tests)

HAS_NAN = {"duckdb": True, "sqlite": False, "postgres": True, "mariadb": False, "spark": True}
EXACT_DECIMAL = {"duckdb": True, "sqlite": False, "postgres": True, "mariadb": True, "spark": True}
DIALECT = {"duckdb": "duckdb", "sqlite": "sqlite", "postgres": "postgres", "mariadb": "mysql", "spark": "spark"}
NAN = float("nan")
UTC = dt.UTC


def tz(h: int) -> dt.timezone:
    return dt.timezone(dt.timedelta(hours=h))


# Column types, written in a neutral SQL and translated by sqlglot per dialect.
# `tstz` is TIMESTAMPTZ where the engine has it; on MariaDB a DATETIME holding the UTC instant
# (its TIMESTAMP type ends in 2038), on SQLite ISO text with the offset.
TYPES = {
    "int": "BIGINT",
    "double": "DOUBLE",
    "decimal": "DECIMAL(38, 10)",
    "text": "VARCHAR(200)",
    "date": "DATE",
    "ts": "TIMESTAMP",
    "tstz": "TIMESTAMPTZ",
    "bool": "BOOLEAN",  # MariaDB keeps it as TINYINT(1)
}
NATIVE = {
    ("mariadb", "ts"): "DATETIME(6)",
    ("mariadb", "tstz"): "DATETIME(6)",
    ("sqlite", "tstz"): "TIMESTAMP",
    ("sqlite", "decimal"): "DECIMAL(38, 10)",
    ("postgres", "tstz"): "TIMESTAMPTZ",
}


@dataclass
class Table:
    """A table to create: ``columns`` maps column names to keys of ``TYPES``; ``rows``
    are tuples in column order (None = NULL, NaN = NaN, Decimal, date, datetime)."""

    name: str
    columns: dict[str, str]
    rows: list[tuple]


def _ddl(engine: str, table: Table) -> str:
    dialect = DIALECT[engine]
    cols = []
    for name, kind in table.columns.items():
        native = NATIVE.get((engine, kind))
        dtype = native or exp.DataType.build(TYPES[kind], dialect="duckdb").sql(dialect=dialect)
        cols.append(f"{exp.to_identifier(name, quoted=True).sql(dialect=dialect)} {dtype}")
    return f"CREATE TABLE {exp.to_identifier(table.name, quoted=True).sql(dialect=dialect)} ({', '.join(cols)})"


def _insert(engine: str, table: Table) -> str:
    dialect = DIALECT[engine]
    mark = "?" if engine in ("duckdb", "sqlite") else "%s"
    cols = ", ".join(exp.to_identifier(c, quoted=True).sql(dialect=dialect) for c in table.columns)
    marks = ", ".join(mark for _ in table.columns)
    return f"INSERT INTO {exp.to_identifier(table.name, quoted=True).sql(dialect=dialect)} ({cols}) VALUES ({marks})"


def _value(engine: str, kind: str, v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v) and not HAS_NAN[engine]:
        return None
    if engine == "sqlite":
        if isinstance(v, Decimal):
            return float(v)
        if isinstance(v, dt.datetime):
            # as a SQLite user's timestamps are: ISO 8601 text; an aware one keeps its offset
            return v.isoformat(sep=" ")
        if isinstance(v, dt.date):
            return v.isoformat()
    if engine == "mariadb" and isinstance(v, dt.datetime) and v.tzinfo is not None:
        return v.astimezone(UTC).replace(tzinfo=None)  # TIMESTAMP columns hold UTC (session time_zone +00:00)
    return v


class Loaded:
    """One engine with the tables loaded; ``table(name)`` is the Ibis table."""

    def __init__(self, name: str, con: Any):
        self.name = name
        self.con = con

    def table(self, name: str) -> ir.Table:
        return self.con.table(name)

    @property
    def has_nan(self) -> bool:
        return HAS_NAN[self.name]


def _raw(engine: str, con: Any):
    return con.con


#: Spark types of the neutral column kinds: TIMESTAMP is Spark's TIMESTAMP_NTZ (a naive
#: value), TIMESTAMPTZ its TIMESTAMP (an instant, shown in the UTC session time zone).
def _spark_type(kind: str) -> Any:
    """The Spark SQL type of a dataset column kind (built directly: parsing a type string
    needs an active session in the calling thread)."""
    from pyspark.sql import types as T

    return {
        "int": T.LongType(),
        "double": T.DoubleType(),
        "decimal": T.DecimalType(38, 10),
        "text": T.StringType(),
        "date": T.DateType(),
        "ts": T.TimestampNTZType(),
        "tstz": T.TimestampType(),
        "bool": T.BooleanType(),
    }[kind]


def _load_spark(con: Any, tables: list[Table]) -> Loaded:
    """Spark: each table a DataFrame of the exact column types, as a temporary view of the
    session (read through Ibis as a scan reads a catalog table: ``con.table(name)``)."""
    from pyspark.sql.types import StructType

    session = con._session
    for table in tables:
        schema = StructType()
        for name, kind in table.columns.items():
            schema.add(name, _spark_type(kind), True)
        # materialised once in the JVM (rows from a Python list go through Python workers on every read)
        session.createDataFrame(table.rows, schema).localCheckpoint().createOrReplaceTempView(table.name)
    return Loaded("spark", con)


def load(engine: str, con: Any, tables: list[Table]) -> Loaded:
    if engine == SPARK:
        return _load_spark(con, tables)
    raw = _raw(engine, con)
    for table in tables:
        rows = [
            tuple(_value(engine, k, v) for k, v in zip(table.columns.values(), row, strict=False)) for row in table.rows
        ]
        if engine == "duckdb":
            raw.execute(_ddl(engine, table))
            if rows:
                raw.executemany(_insert(engine, table), rows)
        elif engine == "sqlite":
            raw.execute(_ddl(engine, table))
            if rows:
                raw.executemany(_insert(engine, table), rows)
            raw.commit()
        else:
            with raw.cursor() as cur:
                cur.execute(_ddl(engine, table))
                if rows:
                    cur.executemany(_insert(engine, table), rows)
            raw.commit()
    return Loaded(engine, con)


# --------------------------------------------------------------------------- the data
#
# `facts`: 10 rows. Column names include a space, a dot, a double quote, reserved words
# and non-ASCII letters. Expected failing counts in the matrix are worked out from this.
#
#  id  i     f      d               s          day         ts                   tstz (UTC instant)     grp  ref
#   1  5     1.5    1.5             'abc'      2024-01-01  2024-01-01 00:00:00  2024-01-01 00:00 UTC    1    3
#   2  -3    -2.0   -0.0000000001   ''         2024-02-29  2024-02-29 12:30:00  2024-02-29 10:30 (+02)  1    -3
#   3  NULL  NULL   NULL            NULL       NULL        NULL                 NULL                    2    NULL
#   4  0     NaN    0               'Ünïcödé'  2023-12-31  2023-12-31 23:59:59  2024-01-01 00:59:59+01  2    0
#   5  100   100.0  100.0000000001  'abc'      2999-12-31  2999-12-31 00:00:00  2999-12-31 00:00 UTC    3    99
#   6  7     7.25   7.25            'xyz123'   2024-06-15  2024-06-15 08:00:00  2024-06-15 10:00+02     3    8
#   7  5     0.0    12345678901234567890.1234567891  'a b'  2024-06-15  2024-06-15 08:00:01  2024-06-15 06:00-02 (=08:00 UTC)  4  5
#   8  -1    -0.5   -1              'ABC'      2000-01-01  2000-01-01 00:00:00  1999-12-31 19:00-05 (=2000-01-01 00:00 UTC)  4  -2
#   9  42    42.0   42              '12345'    2024-03-10  2024-03-10 01:00:00  2024-03-10 01:00 UTC    5    42
#  10  NULL  3.0    NULL            'long text value'  NULL  NULL               NULL                    5    NULL
#
# Odd-named columns:  "order id" = id * 10 except row 10 -> 90 (a duplicate of row 9);
# "a.b" = f; 'quo"te' = s; "select" = i; "order" = day; "Ünïcode" = s of rows 1..5, then NULLs;
# "note" = free text holding PII-shaped tokens (see _note).

FACT_COLUMNS = {
    "id": "int",
    "i": "int",
    "f": "double",
    "d": "decimal",
    "s": "text",
    "day": "date",
    "ts": "ts",
    "tstz": "tstz",
    "grp": "int",
    "ref": "int",
    "order id": "int",
    "a.b": "double",
    'quo"te': "text",
    "select": "int",
    "order": "date",
    "Ünïcode": "text",
    "note": "text",
}

D = dt.date
T = dt.datetime
_base = [
    (1, 5, 1.5, Decimal("1.5"), "abc", D(2024, 1, 1), T(2024, 1, 1), T(2024, 1, 1, tzinfo=UTC), 1, 3),
    (
        2,
        -3,
        -2.0,
        Decimal("-0.0000000001"),
        "",
        D(2024, 2, 29),
        T(2024, 2, 29, 12, 30),
        T(2024, 2, 29, 12, 30, tzinfo=tz(2)),
        1,
        -3,
    ),
    (3, None, None, None, None, None, None, None, 2, None),
    (
        4,
        0,
        NAN,
        Decimal("0"),
        "Ünïcödé",
        D(2023, 12, 31),
        T(2023, 12, 31, 23, 59, 59),
        T(2024, 1, 1, 0, 59, 59, tzinfo=tz(1)),
        2,
        0,
    ),
    (
        5,
        100,
        100.0,
        Decimal("100.0000000001"),
        "abc",
        D(2999, 12, 31),
        T(2999, 12, 31),
        T(2999, 12, 31, tzinfo=UTC),
        3,
        99,
    ),
    (6, 7, 7.25, Decimal("7.25"), "xyz123", D(2024, 6, 15), T(2024, 6, 15, 8), T(2024, 6, 15, 10, tzinfo=tz(2)), 3, 8),
    (
        7,
        5,
        0.0,
        Decimal("12345678901234567890.1234567891"),
        "a b",
        D(2024, 6, 15),
        T(2024, 6, 15, 8, 0, 1),
        T(2024, 6, 15, 6, tzinfo=tz(-2)),
        4,
        5,
    ),
    (8, -1, -0.5, Decimal("-1"), "ABC", D(2000, 1, 1), T(2000, 1, 1), T(1999, 12, 31, 19, tzinfo=tz(-5)), 4, -2),
    (9, 42, 42.0, Decimal("42"), "12345", D(2024, 3, 10), T(2024, 3, 10, 1), T(2024, 3, 10, 1, tzinfo=UTC), 5, 42),
    (10, None, 3.0, None, "long text value", None, None, None, 5, None),
]
_unicode = ["abc", "", None, "Ünïcödé", "abc", None, None, None, None, None]
_note = [
    "mail me at a.b@example.com",  # an e-mail address
    "see https://example.org/x",  # a URL
    None,
    "card 4111 1111 1111 1111",  # contains a card number (Luhn-valid)
    "4111111111111111",  # IS a card number
    "ssn 123-45-6789",  # a social security number
    "221B Baker Street, London NW1 6XE",  # an address: house number, road, city, UK postcode
    "WWW.Example.COM",  # a URL (www., any case)
    "4111-1111-1111-1112",  # card-shaped, Luhn fails
    "GB82 WEST 1234 5698 7654 32",  # an IBAN (its 14 trailing digits are card-shaped)
]
FACT_ROWS = [
    (*r, (r[0] * 10 if r[0] != 10 else 90), r[2], r[4], r[1], r[5], _unicode[k], _note[k]) for k, r in enumerate(_base)
]

FACTS = Table("facts", FACT_COLUMNS, FACT_ROWS)

# `refs`: the reference container of the cross-container rules (same engine).
REFS = Table(
    "refs",
    {"key": "int", "label": "text", "amount": "decimal"},
    [
        (5, "abc", Decimal("1.5")),
        (0, "ABC", Decimal("-1")),
        (7, "Ünïcödé", Decimal("0")),
        (42, None, None),
        (None, "zzz", Decimal("42")),
    ],
)
