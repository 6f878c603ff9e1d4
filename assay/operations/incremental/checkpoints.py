"""Incremental checkpoints: the identifier types (:data:`TIMESTAMP`, :data:`BATCH`) and the
conversion of a checkpoint between the value a user sets, the JSON stored on the container
and the value a read compares with.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

#: The incremental identifier types: a Date/Timestamp field, or a numeric (batch) field.
TIMESTAMP, BATCH = "timestamp", "batch"


def checkpoint_setting(kind: str | None, value: Any) -> Any:
    """A user's ``incremental_checkpoint``: ISO 8601 date-time text (timestamp identifiers)
    or a number (batch identifiers); None clears it. Raises RuleDefinitionError."""
    from ...engine.rules import RuleDefinitionError

    if value is None:
        return None
    loc = ("incremental_checkpoint",)
    if kind is None:
        raise RuleDefinitionError(loc, "the container has no incremental identifier to set a checkpoint for")
    if kind == TIMESTAMP:
        try:
            moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            moment = None
        if moment is None:
            raise RuleDefinitionError(loc, f"{value!r} is not an ISO 8601 date-time (the identifier is a timestamp)")
        return checkpoint_json(moment)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise RuleDefinitionError(loc, f"{value!r} is not a number (the identifier is a batch)")
    return checkpoint_json(value)


def checkpoint_value(identifier_type: str | None, stored: Any) -> Any:
    """A stored checkpoint (JSON) as a Python value: an aware UTC datetime for timestamp
    identifiers, a number for batch ones, None when unset."""
    if stored is None:
        return None
    if identifier_type == TIMESTAMP:
        value = dt.datetime.fromisoformat(stored) if isinstance(stored, str) else stored
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return stored


def checkpoint_json(value: Any) -> Any:
    """A checkpoint value as stored: ISO 8601 text (UTC) for times, a number for batches."""
    if isinstance(value, dt.datetime):
        value = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC).isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if hasattr(value, "is_integer") and not isinstance(value, float):  # Decimal
        return int(value) if value == int(value) else float(value)
    return value
