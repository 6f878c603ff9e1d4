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
    checks = [
        CheckInfo(
            id=q.id,
            container_id=q.container_id,
            rule_type=q.rule_type,
            fields=tuple(str(f) for f in q.fields or ()),
            weight=q.weight,
            active=q.status == CheckStatus.ACTIVE,
            created=_utc(q.created),
            deleted_at=_utc(q.deleted_at) if q.deleted_at is not None else None,
        )
        for q in session.scalars(select(QualityCheck).where(QualityCheck.container_id.in_(ids)))
    ]
    weights = {c.id: c.weight for c in checks}
    profiles: list[ProfileInfo] = []
    for prof_id, cid, created in session.execute(
        select(ContainerProfile.id, ContainerProfile.container_id, ContainerProfile.created).where(
            ContainerProfile.container_id.in_(ids),
            ContainerProfile.result == OperationResult.SUCCESS,
            ContainerProfile.created > since,
            ContainerProfile.created <= until,
        )
    ):
        values = [
            float(c)
            for stats in session.scalars(
                select(FieldProfile.statistics).where(FieldProfile.container_profile_id == prof_id)
            )
            if isinstance(c := (stats or {}).get("completeness"), int | float)
        ]
        profiles.append(ProfileInfo(cid, _utc(created), sum(values) / len(values) if values else None))
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
        for item in results or []:
            if item.get("result") not in ASSERTED_RESULTS:
                continue
            assertions.append(
                Assertion(
                    container_id=cid,
                    at=at,
                    rule_type=str(item.get("rule_type")),
                    weight=weights.get(item.get("quality_check_id"), 1),
                    passed=item.get("result") == CheckResult.PASSED,
                )
            )
    return ScoreInputs(
        containers={cid: tuple(names) for cid, names in fields.items()},
        checks=checks,
        profiles=profiles,
        assertions=assertions,
        scans=scans,
    )
