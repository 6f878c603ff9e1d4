"""Insights and metrics over time: ``GET /api/insights``, ``/api/metrics``, ``/api/scan-metrics``.

Days are calendar days in the client's time zone, given by ``offset`` in minutes as
JavaScript's ``Date.getTimezoneOffset()`` gives it (UTC − local time: 300 for UTC−5;
default 0, UTC). Every ``week_*`` / daily list has one entry per day of the span, zeros
included, oldest first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from ..domain import AnomalyStatus
from ..errors import ValidationError
from ..store.repositories import insights as repo
from ..store.repositories.scope import role_rank

#: Days of each ``timeframe`` of ``GET /api/insights``.
TIMEFRAMES = {"week": 7, "month": 30, "quarter": 90, "year": 365}
#: The longest span of ``/api/metrics`` and ``/api/scan-metrics``, in days.
MAX_DAYS = 366
#: The dates the insights accept (far enough from ``date.min`` / ``date.max`` for any span).
FIRST_DATE, LAST_DATE = dt.date(1971, 1, 1), dt.date(9998, 12, 31)


def check_date(name: str, value: dt.date | None) -> None:
    """Raise ValidationError (422 on query parameter ``name``) for a date outside 1971…9998."""
    if value is not None and not FIRST_DATE <= value <= LAST_DATE:
        raise ValidationError(name, f"{name} must be between {FIRST_DATE} and {LAST_DATE}", part="query")


class Days:
    """``n`` consecutive local days ending on ``last``, with ``offset`` minutes (UTC − local)."""

    def __init__(self, last: dt.date, n: int, offset: int = 0):
        self.last, self.n, self.offset = last, n, dt.timedelta(minutes=offset)
        self.first = last - dt.timedelta(days=n - 1)

    def dates(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=i) for i in range(self.n)]

    def span(self) -> tuple[dt.datetime, dt.datetime]:
        """The UTC span ``[start of first day, end of last day)``."""
        start = dt.datetime.combine(self.first, dt.time(), dt.UTC) + self.offset
        return start, start + dt.timedelta(days=self.n)

    def previous(self) -> Days:
        return Days(self.first - dt.timedelta(days=1), self.n, int(self.offset.total_seconds() // 60))

    def day_of(self, at: dt.datetime) -> dt.date:
        if at.tzinfo is None:
            at = at.replace(tzinfo=dt.UTC)
        return (at.astimezone(dt.UTC) - self.offset).date()

    def daily(self, events: repo.Events) -> list[dict[str, Any]]:
        """``[{date, count}]`` per day: the sum of the events' values on that day."""
        counts = dict.fromkeys(self.dates(), 0)
        for at, value in events:
            day = self.day_of(at)
            if day in counts:
                counts[day] += value
        return [{"date": d.isoformat(), "count": c} for d, c in counts.items()]


def _trend(current: int, previous: int) -> float | None:
    """Percent change of ``current`` against ``previous`` (None when ``previous`` is 0)."""
    return None if previous == 0 else round(100.0 * (current - previous) / previous, 2)


def _today(offset: int) -> dt.date:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=offset)).date()


def users_counted_for(session: Session, user: Any) -> list[int] | None:
    """The user ids whose count ``user`` may see in ``total_users``: None (every user) for a
    Manager or Admin, who may list them all (``GET /api/users``); for a Member, the users
    sharing one of their teams, them included (``repositories.insights.teammate_ids``)."""
    if role_rank(user.role) >= role_rank("Manager"):
        return None
    return repo.teammate_ids(session, user.id)


def insights(
    session: Session,
    *,
    report_date: dt.date | None = None,
    timeframe: str = "week",
    offset: int = 0,
    datastores: Sequence[int] | None = None,
    tags: Sequence[str] | None = None,
    users_among: Sequence[int] | None = None,
) -> dict[str, Any]:
    """Qualytics' ``GetInsights`` over the ``timeframe`` (week: 7 days, month: 30, quarter: 90,
    year: 365) ending on ``report_date`` (default: today), for the ``datastores`` (default:
    all) carrying any of ``tags``. Per metric: ``total_*``, ``trend_*`` (percent change of
    the timeframe's events against the timeframe before; None when that had none) and
    ``week_*`` (events per day). What each counts:

    * ``users_among`` (user ids) limits ``total_users`` / ``trend_users`` to those users
      (the router passes a Member's teammates: the server's other users are not theirs to count);
    * users, datastores, active / inferred / authored checks, sla_monitoring (active
      freshness checks): ``total_*`` as they are now, events = their creation;
    * records_profiled / records_scanned (records of successful container profiles /
      scans), fields_profiled (field profiles), anomalies_identified (distinct anomalies
      created: no ``Duplicate`` rows, which re-scans add for what an open anomaly holds),
      sla_violations (anomalies a freshness check failed): events in the timeframe;
    * anomalies_active / _acknowledged: anomalies created in the timeframe now in that
      status; anomalies_resolved / _invalid: anomalies now in that status whose last change
      falls in the timeframe;
    * ``week_checks_passing`` / ``week_checks_failing`` (Assay): per day, the distinct checks
      whose last assertion that day (successful container scans) passed / failed.

    Raises ValidationError (422) for an unknown ``timeframe``.
    """
    check_date("report_date", report_date)
    if timeframe not in TIMEFRAMES:
        raise ValidationError("timeframe", f"timeframe must be one of: {', '.join(TIMEFRAMES)}", part="query")
    cur = Days(report_date or _today(offset), TIMEFRAMES[timeframe], offset)
    prev = cur.previous()
    whole = (prev.span()[0], cur.span()[1])
    ids = repo.datastore_ids(session, datastores, tags)

    scans = repo.container_scans(session, ids, whole)
    passing, failing = repo.check_assertions(scans, cur.day_of)
    series: dict[str, tuple[repo.Events, int | None]] = {
        # name: (events, total when it is a current count rather than the timeframe's events)
        "users": (u := repo.users(session, users_among), len(u)),
        "datastores": (d := repo.datastores(session, ids), len(d)),
        "records_profiled": (repo.records_profiled(session, ids, whole), None),
        "fields_profiled": (repo.fields_profiled(session, ids, whole), None),
        "active_checks": (a := repo.checks(session, ids), len(a)),
        "inferred_checks": (i := repo.checks(session, ids, inferred=True), len(i)),
        "authored_checks": (au := repo.checks(session, ids, inferred=False), len(au)),
        "sla_monitoring": (s := repo.checks(session, ids, rule_types=repo.SLA_RULE_TYPES), len(s)),
        "sla_violations": (repo.sla_violations(session, ids, whole), None),
        "records_scanned": ([(at, r) for at, r, *_ in scans], None),
        "anomalies_identified": (repo.anomalies_created(session, ids, whole), None),
        "anomalies_active": (repo.anomalies_created(session, ids, whole, statuses=[AnomalyStatus.ACTIVE]), None),
        "anomalies_acknowledged": (
            repo.anomalies_created(session, ids, whole, statuses=[AnomalyStatus.ACKNOWLEDGED]),
            None,
        ),
        "anomalies_resolved": (repo.anomalies_archived(session, ids, whole, AnomalyStatus.RESOLVED), None),
        "anomalies_invalid": (repo.anomalies_archived(session, ids, whole, AnomalyStatus.INVALID), None),
    }
    out: dict[str, Any] = {
        "generated_at": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
        "report_date": cur.last.isoformat(),
    }
    weeks: dict[str, Any] = {}
    for name, (events, current_total) in series.items():
        now_days = cur.daily(events)
        before = sum(x["count"] for x in prev.daily(events))
        in_frame = sum(x["count"] for x in now_days)
        out[f"total_{name}"] = current_total if current_total is not None else in_frame
        out[f"trend_{name}"] = _trend(in_frame, before)
        if name not in ("users", "datastores", "active_checks"):
            weeks[f"week_{name}"] = now_days
    out.update(weeks)
    out["week_checks_passing"] = cur.daily(passing)
    out["week_checks_failing"] = cur.daily(failing)
    return out


def _days_ending_today(days: int, offset: int = 0) -> Days:
    if not 1 <= days <= MAX_DAYS:
        raise ValidationError("timeframe", f"timeframe must be a number of days from 1 to {MAX_DAYS}", part="query")
    return Days(_today(offset), days, offset)


def hub_metrics(
    session: Session,
    *,
    timeframe: int,
    datastore: int | None = None,
    containers: Sequence[int] | None = None,
    fields: Sequence[str] | None = None,
    rule_types: Sequence[str] | None = None,
    statuses: Sequence[str] | None = None,
    anomaly_type: str | None = None,
) -> dict[str, Any]:
    """Qualytics' ``HubMetrics`` over the last ``timeframe`` days (today included, UTC):
    records of successful container scans and anomalies created, in total and per day.
    The anomaly filters (``fields``: a failed check on any of them, ``rule_types``,
    ``statuses`` now, ``anomaly_type``) narrow the anomalies; ``datastore`` and
    ``containers`` narrow both. Raises ValidationError (422) for a timeframe outside 1–366."""
    days = _days_ending_today(timeframe)
    span = days.span()
    ids = repo.datastore_ids(session, [datastore] if datastore is not None else None, None)
    scans = repo.container_scans(session, ids, span, containers)
    anomalies = repo.anomalies_created(
        session,
        ids,
        span,
        statuses=statuses,
        containers=containers,
        fields=fields,
        rule_types=rule_types,
        anomaly_type=anomaly_type,
    )
    records = [(at, r) for at, r, *_ in scans]
    return {
        "total_records_scanned": repo.count(records),
        "total_anomalies_caught": repo.count(anomalies),
        "records_scanned": days.daily(records),
        "anomalies_caught": days.daily(anomalies),
    }


def scan_metrics(session: Session, *, datastore: int, start_date: dt.date, end_date: dt.date) -> dict[str, Any]:
    """Qualytics' ``ScanMetrics`` of datastore ``datastore`` from ``start_date`` to ``end_date``
    (UTC dates, both included): partitions scanned, records scanned and anomalies caught by
    its successful container scans (by the day each ended), in total, per day, and the
    smallest / largest daily value (``range_metrics``; None when the span has no day).
    Raises ValidationError (422) when the span is reversed or longer than 366 days."""
    check_date("start_date", start_date)
    check_date("end_date", end_date)
    if end_date < start_date:
        raise ValidationError("end_date", "end_date is before start_date", part="query")
    n = (end_date - start_date).days + 1
    if n > MAX_DAYS:
        raise ValidationError("start_date", f"at most {MAX_DAYS} days at once", part="query")
    days = Days(end_date, n)
    scans = repo.container_scans(session, [datastore], days.span())
    metrics = {
        "partitions_scanned": days.daily([(at, p) for at, _r, p, _a, _c in scans]),
        "records_scanned": days.daily([(at, r) for at, r, _p, _a, _c in scans]),
        "anomalies_caught": days.daily([(at, a) for at, _r, _p, a, _c in scans]),
    }
    daily = [
        {"date": d.isoformat(), **{k: metrics[k][i]["count"] for k in metrics}} for i, d in enumerate(days.dates())
    ]
    return {
        "total_partitions_scanned": sum(x["count"] for x in metrics["partitions_scanned"]),
        "total_records_scanned": sum(x["count"] for x in metrics["records_scanned"]),
        "total_anomalies_caught": sum(x["count"] for x in metrics["anomalies_caught"]),
        "range_metrics": {
            k: {"min": min(x["count"] for x in v), "max": max(x["count"] for x in v)} for k, v in metrics.items()
        },
        "daily_metrics": daily,
    }
