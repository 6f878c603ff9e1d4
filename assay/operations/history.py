"""Measurement history of time-series checks (metric, volumetric, freshness,
absoluteChangeLimit, relativeChangeLimit), kept in the metadata store.

``attach`` fills ``CheckSpec.history`` before a container is scanned; ``record`` stores
this scan's measurements after the container scan succeeded (it runs in the same
transaction that marks the container scan a success, so a failed container scan keeps
nothing). A time-series rule is one whose class has ``keeps_history = True``
(``engine.rules.time_series.TimeSeriesRule``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from ..domain import ASSERTED_RESULTS
from ..engine.rules import get_rule
from ..store.models import CheckMeasurement

#: How many of its latest measurements a check is handed before a scan (the rules compare
#: with the latest one; a few more give context without reading a long history).
HISTORY_DEPTH = 20


def keeps_history(rule_type: str) -> bool:
    """Whether checks of ``rule_type`` keep a measurement history (False for unknown types)."""
    try:
        return get_rule(rule_type).keeps_history
    except KeyError:
        return False


def _utc(value: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes for DateTime(timezone=True): they were stored as UTC.
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def attach(session, container_id: int, specs: list) -> None:
    """Fill ``spec.history`` of each time-series check in ``specs`` with its latest
    ``HISTORY_DEPTH`` measurements, oldest first, as ``(measured_at UTC, value)``."""
    wanted = {spec.id: spec for spec in specs if keeps_history(spec.rule_type)}
    if not wanted:
        return None
    rank = (
        func.row_number()
        .over(
            partition_by=CheckMeasurement.quality_check_id,
            order_by=(CheckMeasurement.measured_at.desc(), CheckMeasurement.id.desc()),
        )
        .label("rank")
    )
    latest = (
        select(
            CheckMeasurement.quality_check_id,
            CheckMeasurement.measured_at,
            CheckMeasurement.value,
            CheckMeasurement.id,
            rank,
        )
        .where(CheckMeasurement.quality_check_id.in_(list(wanted)))
        .subquery()
    )
    rows = session.execute(
        select(latest.c.quality_check_id, latest.c.measured_at, latest.c.value)
        .where(latest.c.rank <= HISTORY_DEPTH)
        .order_by(latest.c.quality_check_id, latest.c.measured_at, latest.c.id)
    ).all()
    for spec in wanted.values():
        spec.history = []
    for check_id, measured_at, value in rows:
        wanted[check_id].history.append((_utc(measured_at), value))
    return None


def record(session, container_id: int, op_id: int, outcomes: list[Any]) -> None:
    """Store the measurement of every asserted (passed or failed) time-series check of
    ``outcomes``. A check whose rule measured nothing (``measurement`` None) keeps nothing."""
    for out in outcomes:
        rule = out.rule
        if out.result not in ASSERTED_RESULTS or rule is None or not rule.keeps_history:
            continue
        if rule.measurement is None:
            continue
        session.add(
            CheckMeasurement(
                quality_check_id=out.check_id,
                operation_id=op_id,
                measured_at=rule.measured_at or dt.datetime.now(dt.UTC),
                value=rule.measurement,
            )
        )
    return None


def history_of(session, check_id: int, limit: int = 100) -> list[dict[str, Any]]:
    """The latest ``limit`` measurements of a check, newest first, as
    ``{measured_at, operation_id, value}`` dicts (for a read-only API)."""
    rows = session.scalars(
        select(CheckMeasurement)
        .where(CheckMeasurement.quality_check_id == check_id)
        .order_by(CheckMeasurement.measured_at.desc(), CheckMeasurement.id.desc())
        .limit(limit)
    )
    return [{"measured_at": _utc(m.measured_at), "operation_id": m.operation_id, "value": m.value} for m in rows]
