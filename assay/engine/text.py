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

How each engine produces it (:func:`as_text` asks the value's dialect,
``engine.dialects``, for the expression): a double's digits come from the engine's cast, which is already
shortest-round-trip on DuckDB, PostgreSQL and MariaDB; PostgreSQL's ``float8`` text is
the canonical layout except for ``-0`` and doubles of 2^53 and more (written there
with ``to_char``'s 15, 16 or 17 digits, the first that reads back), and on DuckDB and
MariaDB ``Dialect.double_text`` rewrites the digits in the canonical layout with a chain of
regular-expression replacements (:data:`LAYOUT_REWRITES`), so only the digits, never the engine's layout, reach
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

from . import dialects


def as_text(v: ir.Value) -> ir.StringValue:
    """``v`` rendered as text as the module docstring defines, identical on DuckDB,
    SQLite, PostgreSQL and MySQL/MariaDB. NULL stays NULL; a string is returned as is.
    The per-engine expressions come from the value's :class:`~assay.engine.dialects.Dialect`."""
    dtype = v.type()
    if dtype.is_string():
        return v
    dialect = dialects.dialect_of(v)
    if dtype.is_boolean():
        return ibis.cases((v, "true"), (~v, "false"))  # NULL stays NULL
    if dtype.is_integer():
        return v.cast("string")
    if dtype.is_decimal():
        return dialect.decimal_text(v)
    if dtype.is_floating():
        return dialect.double_text(v.cast("float64") if dtype.is_float32() or dtype.is_float16() else v)
    if dtype.is_timestamp():
        from .rules._compare import comparable  # (rules import this module)

        text = dialect.timestamp_text(comparable(v))
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


#: The rewrites of :func:`_rewrites`, applied in order by ``Dialect.double_text``.
LAYOUT_REWRITES = _rewrites()
