"""Quality scores: a datastore's score settings, and the inputs its scores are computed from."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...domain import ASSERTED_RESULTS, CheckResult, CheckStatus, OperationResult
from ...insights.score import DIMENSIONS, Assertion, CheckInfo, ProfileInfo, ScoreInputs, ScoreSettings
from ..models import Container, ContainerProfile, ContainerScan, Field, FieldProfile, QualityCheck, QualityScoreSettings

#: The settings' keys, in Qualytics' names.
SETTING_KEYS = ("decay_period_days", *(f"{d}_weight" for d in DIMENSIONS))


def stored_settings(session: Session, datastore_id: int) -> dict[str, Any]:
    """The settings as stored: every key of ``SETTING_KEYS``; a weight never set is None,
    ``decay_period_days`` never set is the default (180)."""
    row = session.get(QualityScoreSettings, datastore_id)
    out: dict[str, Any] = {k: (getattr(row, k) if row is not None else None) for k in SETTING_KEYS}
    if out["decay_period_days"] is None:
        out["decay_period_days"] = ScoreSettings().decay_period_days
    return out


def update_settings(session: Session, datastore_id: int, changes: dict[str, Any]) -> None:
    """Set the given keys (a subset of ``SETTING_KEYS``); the others stay as they are."""
    row = session.get(QualityScoreSettings, datastore_id)
    if row is None:
        row = QualityScoreSettings(datastore_id=datastore_id)
        session.add(row)
    for key, value in changes.items():
        setattr(row, key, value)
    session.flush()


def settings(session: Session, datastore_id: int) -> ScoreSettings:
    """The settings the score uses (defaults for what was never set)."""
    stored = stored_settings(session, datastore_id)
    weights = {d: (w if (w := stored[f"{d}_weight"]) is not None else 1.0) for d in DIMENSIONS}
    return ScoreSettings(decay_period_days=stored["decay_period_days"], weights=weights)


def _utc(value: dt.datetime) -> dt.datetime:
    """A stored timestamp as an aware UTC datetime (SQLite returns naive ones)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def inputs(
    session: Session, datastore_id: int, since: dt.datetime, until: dt.datetime, containers: Sequence[int] | None = None
) -> ScoreInputs:
    """What the scores of datastore ``datastore_id`` (or of ``containers`` only) need between
    ``since`` and ``until``: its live containers and their fields, their checks (archived
    ones too, with when), the container profiles and the successful container scans
    (with each check's passed/failed result) created in that span."""
    stmt = select(Container.id).where(Container.datastore_id == datastore_id, Container.deleted_at.is_(None))
    if containers:
        stmt = stmt.where(Container.id.in_(containers))
    ids = list(session.scalars(stmt))
    fields: dict[int, list[str]] = {cid: [] for cid in ids}
    for cid, name in session.execute(
        select(Field.container_id, Field.name).where(Field.container_id.in_(ids)).order_by(Field.ordinal)
    ):
        fields[cid].append(name)
    q = QualityCheck
    checks = [
        CheckInfo(
            id=qid,
            container_id=cid,
            rule_type=rule_type,
            fields=tuple(str(f) for f in qfields or ()),
            weight=weight,
            active=status == CheckStatus.ACTIVE,
            created=_utc(created),
            deleted_at=_utc(deleted_at) if deleted_at is not None else None,
        )
        for qid, cid, rule_type, qfields, weight, status, created, deleted_at in session.execute(
            select(q.id, q.container_id, q.rule_type, q.fields, q.weight, q.status, q.created, q.deleted_at).where(
                q.container_id.in_(ids)
            )
        )
    ]
    weights = {c.id: c.weight for c in checks}
    found = session.execute(
        select(ContainerProfile.id, ContainerProfile.container_id, ContainerProfile.created).where(
            ContainerProfile.container_id.in_(ids),
            ContainerProfile.result == OperationResult.SUCCESS,
            ContainerProfile.created > since,
            ContainerProfile.created <= until,
        )
    ).all()
    completeness: dict[int, list[float]] = {}
    for prof_id, stats in session.execute(
        select(FieldProfile.container_profile_id, FieldProfile.statistics).where(
            FieldProfile.container_profile_id.in_([row[0] for row in found])
        )
    ):
        if isinstance(c := (stats or {}).get("completeness"), int | float):
            completeness.setdefault(prof_id, []).append(float(c))
    profiles = [
        ProfileInfo(cid, _utc(created), sum(v) / len(v) if (v := completeness.get(prof_id)) else None)
        for prof_id, cid, created in found
    ]
    assertions: list[Assertion] = []
    scans: list[tuple[int, dt.datetime]] = []
    for cid, end_time, results in session.execute(
        select(ContainerScan.container_id, ContainerScan.end_time, ContainerScan.check_results).where(
            ContainerScan.container_id.in_(ids),
            ContainerScan.result == OperationResult.SUCCESS,
            ContainerScan.end_time > since,
            ContainerScan.end_time <= until,
        )
    ):
        at = _utc(end_time)
        scans.append((cid, at))
        summed = Assertion(container_id=cid, at=at)
        for item in results or []:
            result = item.get("result")
            if result in ASSERTED_RESULTS:
                summed.add(
                    str(item.get("rule_type")),
                    weights.get(item.get("quality_check_id"), 1),
                    result == CheckResult.PASSED,
                )
        if summed.asserted:
            assertions.append(summed)
    return ScoreInputs(
        containers={cid: tuple(names) for cid, names in fields.items()},
        checks=checks,
        profiles=profiles,
        assertions=assertions,
        scans=scans,
    )
