"""Helpers shared by the comparison rules (greaterThan, betweenTimes, equalToField, …).

Not a rule type itself: it registers nothing.

Time is UTC everywhere: a timestamp column is compared as a UTC instant (a naive one is
read as UTC, an aware one is converted), and a ``datetime`` property given with an
offset is converted to UTC while a naive one is taken as UTC.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Annotated, Any

import ibis
import ibis.expr.types as ir
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, PlainValidator

from ..dialects import UTC_TIMESTAMP, dialect_of

__all__ = ["UTC_TIMESTAMP", "comparable", "utc_literal"]


def comparable(v: ir.Value) -> ir.Value:
    """``v`` ready to compare: timestamps as UTC instants, anything else unchanged.

    On SQLite (which keeps timestamps as ISO text, 'T' or ' ' separated, with or without an
    offset) a timestamp is cast to normalised UTC text. The other engines already compare
    timestamps as instants (Assay's sessions run in UTC, so a naive value is UTC and a
    naive/aware pair is compared correctly): there the column stays as it is, which keeps
    the comparison free (DuckDB would otherwise convert every row through its time-zone
    library) and lets the engine prune by the column's statistics.
    (``Dialect.comparable_timestamp``.)
    """
    if v.type().is_timestamp():
        return dialect_of(v).comparable_timestamp(v)
    return v


def utc_literal(moment: dt.datetime, like: ir.Value | None = None) -> ir.Value:
    """A UTC instant (``moment``: naive UTC or aware) as an Ibis value to compare with
    ``comparable(like)``: on SQLite (or without ``like``) normalised exactly like
    :func:`comparable` columns (both sides the same ``YYYY-MM-DD HH:MM:SS.SSS`` text);
    elsewhere a literal of ``like``'s own timestamp type (naive UTC, or aware)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    if like is not None and like.type().is_timestamp() and not dialect_of(like).timestamps_as_text:
        dtype = like.type()
        return ibis.literal(moment.replace(tzinfo=dt.UTC) if dtype.timezone else moment, type=dtype)
    return ibis.literal(moment.strftime("%Y-%m-%d %H:%M:%S.%f")).cast(UTC_TIMESTAMP)


def _text_or_datetime(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (str, dt.datetime, dt.date)):
        raise ValueError("must be an ISO 8601 date-time text such as 2024-01-31T12:00:00Z")
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time(0))
    return value


def _to_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


#: A ``datetime`` property: ISO 8601 text, converted to a naive UTC datetime (an offset
#: is applied; a value without one is already UTC; a bare date is its midnight).
UtcDateTime = Annotated[dt.datetime, BeforeValidator(_text_or_datetime), AfterValidator(_to_utc)]


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def _not_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a number, not a boolean")
    return value


#: A float property that must be a finite number ("must be a finite number" otherwise; a
#: boolean is refused, not read as 0 or 1).
FiniteFloat = Annotated[float, BeforeValidator(_not_bool), AfterValidator(_finite)]


#: The range of an integer property (a 64-bit integer: what every engine compares exactly).
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def parse_number(value: Any) -> int | float:
    """A finite number property: an int stays an int (exact) within ``INT64_MIN`` …
    ``INT64_MAX``; a float, or text holding a number, is accepted; booleans, NaN,
    infinities and larger integers are rejected (ValueError)."""
    if isinstance(value, bool):
        raise ValueError("must be a number, not a boolean")
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text)
        except ValueError:
            try:
                value = float(text)
            except ValueError:
                raise ValueError("must be a number") from None
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:  # no engine compares such a literal with a column
            raise ValueError(
                f"must be a 64-bit integer (from {INT64_MIN} to {INT64_MAX}); write a larger bound as a decimal, e.g. 1.5e30"
            )
        return value
    if isinstance(value, (float, Decimal)):
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return float(value)
    raise ValueError("must be a number")


#: A numeric property (see :func:`parse_number`).
Number = Annotated[int | float, PlainValidator(parse_number, json_schema_input_type=float)]


class NoProperties(BaseModel):
    """A rule without properties: any property given is an error."""

    model_config = ConfigDict(extra="forbid")


def show_number(value: int | float) -> str:
    """A number property as messages show it: ``5``, ``2.5``, ``1e-07``."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def show_time(moment: dt.datetime) -> str:
    """A naive UTC datetime as messages show it, e.g. ``2024-01-31T12:00:00Z``."""
    return moment.isoformat() + "Z"


def first_day_on_or_after(moment: dt.datetime) -> dt.date:
    """The first date whose midnight is ≥ ``moment``."""
    day = moment.date()
    return day if moment.time() == dt.time(0) else day + dt.timedelta(days=1)


def last_day_before(moment: dt.datetime) -> dt.date:
    """The last date whose midnight is < ``moment``."""
    day = moment.date()
    return day - dt.timedelta(days=1) if moment.time() == dt.time(0) else day
