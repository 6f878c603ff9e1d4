"""Quality scores, score settings and the ``metrics`` of datastores and containers.

The score's definition is in ``insights/score.py`` and ``docs/quality-score.md``; this
module reads its inputs through ``store/repositories/scores.py`` and shapes the answers
in Qualytics' field names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from ..errors import ValidationError
from ..store.models import Container, Datastore
from ..store.repositories import metrics as metrics_repo
from ..store.repositories import scores as repo
from . import score as sc
from .hub import check_date

#: The longest span ``quality_scores`` answers, in days.
MAX_SCORE_DAYS = 366


def iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def score_dict(score: sc.Score) -> dict[str, Any]:
    """A score in Qualytics' ``QualityScore`` shape: ``created``, ``total`` and the eight dimensions."""
    return {"created": iso(score.created), "total": score.total, **score.dimensions}


# -- settings --------------------------------------------------------------------------------
def get_settings(session: Session, datastore_id: int) -> dict[str, Any]:
    """``{decay_period_days, <dimension>_weight…}``: a weight never set is None (the default, 1.0)."""
    return repo.stored_settings(session, datastore_id)


def update_settings(session: Session, datastore_id: int, changes: dict[str, Any]) -> dict[str, Any]:
    """Partial update: only the keys given change (their ranges are checked by the request
    model: decay 7–180 days, weights 0.0–2.0). ``decay_period_days`` cannot be set to null
    (ValidationError → 422); a weight set to null returns to the default. Returns the settings."""
    if "decay_period_days" in changes and changes["decay_period_days"] is None:
        raise ValidationError("decay_period_days", "decay_period_days must be a number of days (7–180)")
    repo.update_settings(session, datastore_id, changes)
    return repo.stored_settings(session, datastore_id)


# -- scores ----------------------------------------------------------------------------------
def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def datastore_score(session: Session, datastore_id: int, as_of: dt.datetime | None = None) -> sc.Score:
    """The datastore's quality score as of ``as_of`` (default: now)."""
    at = as_of or _now()
    settings = repo.settings(session, datastore_id)
    start, end = settings.window(at)
    inputs = repo.inputs(session, datastore_id, start, end)
    return sc.datastore_score(inputs, settings, at, sc.scanned(inputs, start, end))


def container_scores(
    session: Session, datastore_id: int, container_ids: Sequence[int], as_of: dt.datetime | None = None
) -> dict[int, sc.Score]:
    """The quality scores of containers of one datastore as of ``as_of`` (default: now)."""
    at = as_of or _now()
    settings = repo.settings(session, datastore_id)
    start, end = settings.window(at)
    inputs = repo.inputs(session, datastore_id, start, end, containers=container_ids)
    return {cid: sc.container_score(inputs, cid, settings, at) for cid in container_ids}


def quality_scores(
    session: Session,
    datastore_id: int,
    start_date: dt.date,
    end_date: dt.date,
    container_id: int | None = None,
) -> list[dict[str, Any]]:
    """One score per day from ``start_date`` to ``end_date`` (UTC dates, both included), each
    as of the end of its day (or now for today): of the datastore, or of ``container_id``.
    Raises ValidationError (422) when the span is reversed or longer than 366 days."""
    check_date("start_date", start_date)
    check_date("end_date", end_date)
    if end_date < start_date:
        raise ValidationError("end_date", "end_date is before start_date", part="query")
    if (end_date - start_date).days + 1 > MAX_SCORE_DAYS:
        raise ValidationError("start_date", f"at most {MAX_SCORE_DAYS} days at once", part="query")
    now = _now()
    settings = repo.settings(session, datastore_id)
    first = dt.datetime.combine(start_date, dt.time(), dt.UTC)
    last = min(now, dt.datetime.combine(end_date + dt.timedelta(days=1), dt.time(), dt.UTC))
    inputs = repo.inputs(
        session,
        datastore_id,
        first - dt.timedelta(days=settings.decay_period_days),
        last,
        containers=[container_id] if container_id is not None else None,
    )
    out = []
    for day in sc.days(start_date, end_date):
        at = min(now, dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.UTC))
        if at < dt.datetime.combine(day, dt.time(), dt.UTC):
            break  # a future day
        if container_id is not None:
            score = sc.container_score(inputs, container_id, settings, at)
        else:
            start, end = settings.window(at)
            score = sc.datastore_score(inputs, settings, at, sc.scanned(inputs, start, end))
        out.append({"date": day.isoformat(), **score_dict(score)})
    return out


# -- metrics -----------------------------------------------------------------------------------
def container_metrics(session: Session, containers: Sequence[Container]) -> dict[int, dict[str, Any]]:
    """Qualytics' ``ContainerMetrics`` per container id: ``last_profiled``, ``last_scanned``,
    ``fields``, ``records`` (latest profile's record count), ``completeness`` (latest
    profile's mean field completeness, 0…1), ``active_checks``, ``important_checks``
    (weight ≥ 3), ``passing_checks``, ``failing_checks``, ``anomalies`` (all),
    ``active_anomalies`` and ``quality_score`` (a ``QualityScore``)."""
    ids = [c.id for c in containers]
    if not ids:
        return {}
    counts = metrics_repo.container_counts(session, ids)
    profiles = metrics_repo.latest_profiles(session, ids)
    completeness = metrics_repo.profile_completeness(session, [p[0] for p in profiles.values()])
    scanned = metrics_repo.last_scanned(session, ids)
    scores: dict[int, sc.Score] = {}
    by_datastore: dict[int, list[int]] = {}
    for c in containers:
        by_datastore.setdefault(c.datastore_id, []).append(c.id)
    for ds_id, cids in by_datastore.items():
        scores.update(container_scores(session, ds_id, cids))
    out: dict[int, dict[str, Any]] = {}
    for cid in ids:
        profile = profiles.get(cid)
        out[cid] = {
            "last_profiled": iso(profile[1]) if profile else None,
            "last_scanned": iso(scanned.get(cid)),
            "fields": counts["fields"].get(cid, 0),
            "records": profile[2] if profile else None,
            "completeness": completeness.get(profile[0]) if profile else None,
            **{
                k: counts[k].get(cid, 0)
                for k in (
                    "active_checks",
                    "important_checks",
                    "passing_checks",
                    "failing_checks",
                    "anomalies",
                    "active_anomalies",
                )
            },
            "quality_score": score_dict(scores[cid]),
        }
    return out


def datastore_metrics(session: Session, datastores: Sequence[Datastore]) -> dict[int, dict[str, Any]]:
    """Qualytics' ``DatastoreMetrics`` per datastore id: ``containers``, ``partitions``,
    ``records`` (sum of the containers' latest profiled record counts), ``quality_checks``,
    ``anomalies``, ``new_anomalies`` (``Active``), ``open_anomalies`` (``Active`` or
    ``Acknowledged``), ``archived_anomalies``, ``confidence_score`` (the quality score's
    total, or None before any scan in the decay window) and ``quality_score``."""
    ids = [d.id for d in datastores]
    if not ids:
        return {}
    counts = metrics_repo.datastore_counts(session, ids)
    records = metrics_repo.datastore_records(session, ids)
    out: dict[int, dict[str, Any]] = {}
    for ds_id in ids:
        score = datastore_score(session, ds_id)
        out[ds_id] = {
            **{k: v.get(ds_id, 0) for k, v in counts.items()},
            "records": records.get(ds_id, 0),
            "confidence_score": score.total,
            "quality_score": score_dict(score),
        }
    return out
