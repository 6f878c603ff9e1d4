"""Listed values of expectedValues, requiredValues and equalTo, coerced to the field's type.

Not a rule type itself: it registers nothing.

A value given in a check definition is JSON (a boolean, a number or a string). Before it
is compared it is coerced to the Assay type of the field it is compared with, the same
way on every engine, so a value that cannot be of that type is refused when the check is
created (``engine.validation`` → 422 naming e.g. ``properties.list.1``) instead of each
engine casting it its own way:

=============  ===========================================================================
field type     accepted values
=============  ===========================================================================
Integral       a number, or text holding a number (``"42"``, ``"2.5"``); ``true`` / ``false``
               are 1 / 0 (MySQL/MariaDB keep booleans as TINYINT(1), an Integral field)
Fractional     a number, or text holding a number
Date           ISO 8601 date text, ``"2024-01-31"``
Timestamp      ISO 8601 date-time text, ``"2024-01-31T12:00:00Z"``: an offset is applied,
               a value without one is UTC, a bare date is its midnight; compared as UTC
               instants (``_compare.comparable``), as the comparison rules do
Boolean        ``true`` / ``false`` (or the text ``"true"`` / ``"false"``, any case)
String         any scalar: a string as is; a number as JSON writes it (``5`` → ``"5"``,
               ``2.5`` → ``"2.5"``); a boolean as ``"true"`` / ``"false"``
=============  ===========================================================================

A number beyond the 64-bit integer range is kept as a double (it is compared, never
crashes the query). ``null`` is not a listed value: the rules skip NULLs.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Annotated, Any

import ibis
import ibis.expr.types as ir
from pydantic import PlainValidator
from pydantic_core import PydanticCustomError

from ._compare import comparable, parse_number, utc_literal

INT64 = (-(2**63), 2**63 - 1)


def scalar_item(value: Any) -> bool | int | float | str:
    """One listed value as given (pydantic validator of list items): a boolean, a finite
    number (an integer beyond 64 bits becomes a double) or a string.

    Raises: ValueError for null, NaN/infinity and anything not a scalar."""
    if value is None:
        raise PydanticCustomError(
            "null_value",
            "null is not a listed value: NULLs are skipped by the rule (add a notNull check to forbid them)",
        )
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if INT64[0] <= value <= INT64[1] else float(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise PydanticCustomError("finite_number", "must be a finite number")
        return value
    raise PydanticCustomError("scalar", "must be a boolean, a number or a string")


#: A listed value in a properties model (see :func:`scalar_item`).
ListItem = Annotated[bool | int | float | str, PlainValidator(scalar_item, json_schema_input_type=bool | float | str)]


def list_errors(
    values: list[Any], field_types: list[str], loc: tuple = ("properties", "list"), indexed: bool = True
) -> None:
    """Check that every value of ``values`` can be of each of ``field_types``.

    Raises: RuleDefinitionError at ``loc + (index,)`` (e.g. ``properties.list.1``), or at
    ``loc`` itself when not ``indexed`` (a single value)."""
    from .base import RuleDefinitionError

    for ftype in field_types:
        for i, value in enumerate(values):
            try:
                coerce(value, ftype)
            except ValueError as e:
                at = (*loc, i) if indexed else tuple(loc)
                where = ".".join(str(p) for p in at)
                raise RuleDefinitionError(at, f"{where}: {e}") from None


def assay_type(dtype) -> str:
    """The Assay field type of an Ibis data type (``sources.base.field_type_of``)."""
    from ...sources.base import field_type_of

    return field_type_of(dtype)


def coerce(value: Any, field_type: str) -> Any:
    """``value`` as a value of an Assay ``field_type`` (see the module table).

    Returns: int/float (Integral, Fractional), str, bool, ``datetime.date`` (Date) or a
    naive UTC ``datetime.datetime`` (Timestamp); ``value`` unchanged for Unknown.
    Raises: ValueError saying why the value cannot be of that type.
    """
    if value is None:
        raise ValueError("null is not a value: NULLs are skipped by the rule")
    if field_type in ("Integral", "Fractional"):
        if isinstance(value, bool):
            if field_type == "Integral":
                return int(value)
            raise ValueError(f"{json.dumps(value)} is not a number (the field is {field_type})")
        try:
            number = parse_number(value)
        except ValueError:
            raise ValueError(f"{_shown(value)} is not a number (the field is {field_type})") from None
        if isinstance(number, int) and not INT64[0] <= number <= INT64[1]:
            return float(number)
        return number
    if field_type == "String":
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        return json.dumps(value)
    if field_type == "Boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise ValueError(f"{_shown(value)} is not a boolean (true or false)")
    if field_type == "Date":
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise ValueError(f"{_shown(value)} is not an ISO 8601 date such as 2024-01-31 (the field is a Date)")
    if field_type == "Timestamp":
        if isinstance(value, str):
            text = value.strip()
            try:
                moment = dt.datetime.fromisoformat(text)
            except ValueError:
                moment = None
            if moment is not None:
                if moment.tzinfo is not None:
                    moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
                return moment
        raise ValueError(
            f"{_shown(value)} is not an ISO 8601 date-time such as 2024-01-31T12:00:00Z (the field is a Timestamp)"
        )
    return value


def _shown(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else repr(value)


def coerce_all(values: list[Any], dtype) -> list[Any]:
    """``values`` coerced to the type of a column (Ibis ``dtype``), duplicates dropped
    (``True`` and ``1`` stay apart), order kept.

    Raises: ValueError naming the first value that does not fit (a check stored before
    its values were validated is then unasserted with that error, on every engine)."""
    ftype = assay_type(dtype)
    out: list[Any] = []
    for i, value in enumerate(values):
        try:
            c = coerce(value, ftype)
        except ValueError as e:
            raise ValueError(f"list value {i}: {e}") from None
        if not any(type(c) is type(w) and c == w for w in out):
            out.append(c)
    return out


def column_and_literal(v: ir.Value, value: Any) -> tuple[ir.Value, Any]:
    """``(column, value)`` ready to compare with ``=``: a timestamp column as its UTC
    instant and a timestamp value as the same normalised literal; otherwise unchanged."""
    if v.type().is_timestamp() and isinstance(value, dt.datetime):
        return comparable(v), utc_literal(value, v)
    if v.type().is_date() and isinstance(value, dt.date):
        return v, ibis.literal(value)
    return v, value
