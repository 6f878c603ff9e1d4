"""One text rendering of non-string values, the same on every engine.

Rules that read a value as text (``matchesPattern``, the ``contains*`` detectors,
``isCreditCard``, ``isAddress``) call :func:`as_text` on a non-string field instead of
the engine's own ``CAST(x AS TEXT)``, which differs per engine (DuckDB and SQLite write
the double -2 as ``-2.0``, PostgreSQL and MariaDB as ``-2``; NaN is ``nan`` or ``NaN``;
MariaDB gives timestamps a ``.000000`` tail; SQLite keeps 15 significant digits). The
rendering, by Ibis data type:

* **string**: the value itself.
* **integer**: its decimal digits, ``-`` for a negative one (``42``, ``-3``).
* **boolean**: ``true`` / ``false``.
* **float / double** (a float is first widened to double): the shortest decimal that
  reads back as the same double (as Python's ``repr``), written positionally when its
  decimal exponent ``E`` (of the first significant digit) is in ``-4 ≤ E < 15`` —
  without a fractional part when it has none (``-2``, ``100``, ``7.25``, ``0.0001``,
  ``123456789012345``) — and otherwise as ``d.ddde±XX`` with at least two exponent
  digits (``1e+15``, ``1.5e-07``, ``1.2345678901234568e+17``); :func:`double_text` is
  the definition in Python. Zero (also ``-0.0``) is ``0``; NaN is ``NaN``, the infinities
  ``Infinity`` and ``-Infinity``.
* **DECIMAL(p, s)**: its exact digits with exactly ``s`` fractional digits
  (``1.5000000000`` for DECIMAL(38,10)); a DECIMAL without a declared scale: its exact
  digits as the engine writes them.
* **date**: ``YYYY-MM-DD``.
* **timestamp**: the UTC instant (an aware value is converted, a naive one is read as
  UTC; ``_compare.comparable``) as ``YYYY-MM-DD HH:MM:SS``, followed by ``.ffffff`` (6
  digits) only when the fraction of a second is not zero.
* anything else (time of day, binary, JSON, …): the engine's own cast to text.

How each engine produces it (:func:`as_text` picks the Ibis expression by
``regex.engine_of``): a double's digits come from the engine's cast, which is already
shortest-round-trip on DuckDB, PostgreSQL and MariaDB; PostgreSQL's ``float8`` text is
the canonical layout except for ``-0`` and doubles of 2^53 and more (written there
with ``to_char``'s 15, 16 or 17 digits, the first that reads back), and on DuckDB and
MariaDB :func:`_layout` rewrites the digits in the canonical layout with a chain of
regular-expression replacements, so only the digits, never the engine's layout, reach
the result. SQLite writes only 15
significant digits, so there the double is formatted by :func:`double_text` (the same
definition in Python) registered as a SQLite function. A timestamp is formatted with
the engine's ``strftime`` (``DATE_FORMAT`` on MySQL) with 6 fractional digits, and a
zero fraction dropped.

Stored data still differs where an engine cannot hold it: SQLite and MariaDB have no
NaN (it is NULL there), SQLite's DECIMAL holds doubles (so its ``d`` is the double's
digits at the column's scale, e.g. ``12345678901234567168.0000000000``), and SQLite's
timestamps keep milliseconds only.
"""

from __future__ import annotations

import math

import ibis
import ibis.expr.types as ir

from .regex import engine_of

#: Per engine: the format of a UTC timestamp with 6 fractional digits (MySQL writes
#: minutes as %i; SQLite's %f is seconds with 3 decimals).
_TIMESTAMP_FORMAT = {
    "mysql": "%Y-%m-%d %H:%i:%s.%f",
    "sqlite": "%Y-%m-%d %H:%M:%f",
}


def as_text(v: ir.Value) -> ir.StringValue:
    """``v`` rendered as text as the module docstring defines, identical on DuckDB,
    SQLite, PostgreSQL and MySQL/MariaDB. NULL stays NULL; a string is returned as is."""
    dtype = v.type()
    if dtype.is_string():
        return v
    engine = engine_of(v)
    if dtype.is_boolean():
        return ibis.cases((v, "true"), (~v, "false"))  # NULL stays NULL
    if dtype.is_integer():
        return v.cast("string")
    if dtype.is_decimal():
        if engine == "sqlite":  # DECIMAL holds doubles: write them at the column's scale
            if dtype.scale is not None:
                return _sqlite_fixed_text(v.cast("float64"), int(dtype.scale))
            return _double(v.cast("float64"), engine)
        return v.cast("string")
    if dtype.is_floating():
        return _double(v.cast("float64") if dtype.is_float32() or dtype.is_float16() else v, engine)
    if dtype.is_timestamp():
        from .rules._compare import comparable  # (rules import this module)

        fmt = _TIMESTAMP_FORMAT.get(engine, "%Y-%m-%d %H:%M:%S.%f")
        text = comparable(v).strftime(fmt)
        if engine == "sqlite":
            text = text + "000"
        # the date and time have no '.', so this only ever removes a zero fraction
        return text.replace(".000000", "")
    return v.cast("string")


def double_text(x: float | None) -> str | None:
    """The canonical text of a Python float (the definition of the module docstring,
    written in Python: SQLite runs it as a function, and tests compare with it)."""
    if x is None:
        return None
    try:
        x = float(x)
    except (TypeError, ValueError):  # SQLite: a non-number stored in a REAL column
        return str(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0"
    mant, _, expo = repr(abs(x)).partition("e")
    whole, _, frac = mant.partition(".")
    digits = whole + frac
    stripped = digits.lstrip("0")
    sig = stripped.rstrip("0")
    e = len(whole) - 1 - (len(digits) - len(stripped)) + int(expo or 0)
    if e < -4 or e >= 15:
        text = sig[0] + ("." + sig[1:] if len(sig) > 1 else "") + ("e-" if e < 0 else "e+") + f"{abs(e):02d}"
    elif e >= 0:
        text = sig[: e + 1] + "." + sig[e + 1 :] if len(sig) > e + 1 else sig + "0" * (e + 1 - len(sig))
    else:
        text = "0." + "0" * (-e - 1) + sig
    return "-" + text if x < 0 else text


@ibis.udf.scalar.python(name="assay_double_text")
def _sqlite_double_text(x: float) -> str:  # SQLite only: runs in this process
    return double_text(x)


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
    text = f"{x:.{scale}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text


@ibis.udf.scalar.builtin(name="to_char")
def _pg_to_char(value: float, fmt: str) -> str:  # pragma: no cover - compiled to SQL, never called
    """PostgreSQL's to_char(double precision, format)."""


@ibis.udf.scalar.builtin(name="regexp_replace")
def _pg_regexp_replace(value: str, pattern: str, replacement: str) -> str:  # pragma: no cover
    """PostgreSQL's regexp_replace (first match)."""


@ibis.udf.scalar.builtin(name="regexp_replace")
def _mysql_regexp_replace(value: str, pattern: str, replacement: str) -> str:  # pragma: no cover
    """MariaDB/MySQL's REGEXP_REPLACE (Ibis has no compilation rule for it there)."""


def _double(x: ir.FloatingValue, engine: str) -> ir.StringValue:
    if engine == "sqlite":
        # SQLite writes 15 significant digits (no shortest round-trip): format in Python
        return _sqlite_double_text(x)
    raw = x.cast("string")
    if engine == "postgres":
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
    low = raw.lower()
    return ibis.cases(
        (x == 0, "0"),
        (low == "nan", "NaN"),
        (low.isin(["inf", "infinity", "+inf", "+infinity"]), "Infinity"),
        (low.isin(["-inf", "-infinity"]), "-Infinity"),
        else_=_layout(low, engine),
    )


def _rewrites() -> list[tuple[str, str]]:
    """Regular-expression rewrites (RE2/PCRE syntax, applied in order, each anchored) that
    turn a nonzero finite double written by DuckDB or MySQL/MariaDB — shortest digits,
    positional or ``d.ddde[+-]N`` — into the canonical layout. One flat chain (no
    expression referenced twice), so the SQL grows linearly."""
    out = [
        (r"^(-?[0-9]+)\.0$", r"\1"),  # DuckDB's integral '100.0'
        (r"^(-?[0-9]+)$", r"\1."),  # every positional value gets a '.'
    ]
    # positional with the first digit at 10^k, k >= 15 -> scientific
    out += [(f"^(-?)([1-9])([0-9]{{{k}}})\\.([0-9]*)$", f"\\1\\2.\\3\\4e+{k}") for k in range(15, 23)]
    # positional with the first digit at 10^-(m+1), m >= 4 -> scientific
    out += [(f"^(-?)0\\.0{{{m}}}([1-9])([0-9]*)$", f"\\1\\2.\\3e-{m + 1:02d}") for m in range(4, 20)]
    out += [
        (r"e([0-9])$", r"e+0\1"),  # MySQL's 'e15' / 'e5' / 'e-7'
        (r"e([0-9][0-9]+)$", r"e+\1"),
        (r"e-([0-9])$", r"e-0\1"),
        (r"0+e", "e"),  # trailing zeros of the significand
        (r"\.e", "e"),
        (r"\.$", ""),
    ]
    return out


_REWRITES = _rewrites()


def _layout(s: ir.StringValue, engine: str) -> ir.StringValue:
    """A nonzero finite number as DuckDB or MySQL/MariaDB write it (shortest digits)
    rewritten in the canonical layout (see the module docstring)."""
    for pattern, replacement in _REWRITES:
        s = _mysql_regexp_replace(s, pattern, replacement) if engine == "mysql" else s.re_replace(pattern, replacement)
    return s
