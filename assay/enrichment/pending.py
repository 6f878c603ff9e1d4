"""Enrichment rows that are recorded but not yet written: no finding is lost because the
enrichment datastore is busy (a DuckDB file locked by another process) or briefly down.

A container scan records its anomalies **and** its enrichment rows (an
:class:`~assay.store.models.EnrichmentPending` row holding the encoded
:class:`~assay.enrichment.writer.EnrichmentBatch`) in one metadata transaction. Then
:func:`deliver` writes the batch to the enrichment datastore, retrying with exponential
backoff and jitter for up to ``ASSAY_ENRICHMENT_RETRY_SECONDS`` (default 10). On success
the pending row is deleted and the anomalies' ``enrichment_pending`` flag cleared (their
``source_enriched`` set); otherwise the row stays, with its last error and the time of the
next attempt, and :func:`finish_due` — called by every runner's maintenance loop, in any
process — writes it later (backoff doubling up to 5 minutes). Whoever writes first takes
the row's lease with a conditional UPDATE, so one writer at a time; the batch is
idempotent (``EnrichmentWriter``: keyed by operation, container and anomaly UUIDs), so
even a write whose commit was not acknowledged is never duplicated by its retry.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import logging
import os
import random
import time
import uuid
from typing import Any

import ibis
from sqlalchemy import delete, or_, select, update

from ..store.models import Anomaly, Datastore, EnrichmentPending, utcnow
from .writer import EnrichmentBatch, EnrichmentWriter, target_of

log = logging.getLogger(__name__)

#: How long a writer holds a pending batch before another may take it over (seconds).
LEASE_SECONDS = 120.0
#: Longest wait between two background attempts (seconds).
MAX_BACKOFF_SECONDS = 300.0


def retry_seconds() -> float:
    """``ASSAY_ENRICHMENT_RETRY_SECONDS``: how long a scan keeps retrying a write before it
    leaves the batch to the background (default 10 s; 0: one attempt)."""
    return max(0.0, float(os.environ.get("ASSAY_ENRICHMENT_RETRY_SECONDS", "10")))


# -- encoding: a batch as JSON the metadata store can hold -------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else {"$f": repr(value)}
    if isinstance(value, dt.datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$d": value.isoformat()}
    if isinstance(value, dt.time):
        return {"$t": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"$td": value.total_seconds()}
    if isinstance(value, decimal.Decimal):
        return {"$dec": str(value)}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$b": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {"$map": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


_DECODERS: dict[str, Any] = {
    "$f": float,
    "$dt": dt.datetime.fromisoformat,
    "$d": dt.date.fromisoformat,
    "$t": dt.time.fromisoformat,
    "$td": lambda s: dt.timedelta(seconds=s),
    "$dec": decimal.Decimal,
    "$b": base64.b64decode,
}


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "$map" in value:
            return {_decode(k): _decode(v) for k, v in value["$map"]}
        ((tag, raw),) = value.items()
        return _DECODERS[tag](raw)
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _rows(rows: list[dict[str, Any]]) -> list[list[list[Any]]]:
    return [[[k, _encode(v)] for k, v in row.items()] for row in rows]


def _unrows(rows: list[list[list[Any]]]) -> list[dict[str, Any]]:
    return [{k: _decode(v) for k, v in row} for row in rows]


def encode_batch(batch: EnrichmentBatch) -> dict[str, Any]:
    """A batch as JSON-safe data (no NaN, no datetimes): what :func:`decode_batch` reads."""
    out: dict[str, Any] = {
        "scan_operations": _rows(batch.scan_operations),
        "failed_checks": _rows(batch.failed_checks),
        "source_records": _rows(batch.source_records),
        "check_metrics": _rows(batch.check_metrics),
        "key": list(batch.key) if batch.key else None,
        "anomaly_uuids": list(batch.anomaly_uuids),
        "remediation": None,
    }
    if batch.remediation:
        name, schema, rows, mode = batch.remediation
        out["remediation"] = {
            "table": name,
            "schema": [[col, str(dtype)] for col, dtype in schema.items()],
            "rows": _rows(rows),
            "mode": mode,
        }
    return out


def decode_batch(data: dict[str, Any]) -> EnrichmentBatch:
    """The batch :func:`encode_batch` encoded."""
    batch = EnrichmentBatch(
        scan_operations=_unrows(data["scan_operations"]),
        failed_checks=_unrows(data["failed_checks"]),
        source_records=_unrows(data["source_records"]),
        check_metrics=_unrows(data["check_metrics"]),
        key=tuple(data["key"]) if data.get("key") else None,
        anomaly_uuids=list(data.get("anomaly_uuids") or []),
    )
    rem = data.get("remediation")
    if rem:
        schema = ibis.schema(dict(rem["schema"]))
        batch.remediation = (rem["table"], schema, _unrows(rem["rows"]), rem["mode"])
    return batch


# -- delivery ----------------------------------------------------------------------------


def _claim(db, pending_id: int, owner_now: dt.datetime, *, due_only: bool) -> bool:
    """Take the lease of a pending batch (conditional UPDATE). False when someone holds it."""
    conditions = [
        EnrichmentPending.id == pending_id,
        or_(EnrichmentPending.lease_until.is_(None), EnrichmentPending.lease_until < owner_now),
    ]
    if due_only:
        conditions.append(EnrichmentPending.next_attempt <= owner_now)
    with db.session() as s:
        done = s.execute(
            update(EnrichmentPending)
            .where(*conditions)
            .values(lease_until=owner_now + dt.timedelta(seconds=LEASE_SECONDS))
        )
        return done.rowcount == 1


def _write_once(db, pending_id: int) -> str | None:
    """One attempt at writing a leased batch. Returns None on success (the pending row is
    gone and its anomalies are enriched), else the error."""
    with db.session() as s:
        row = s.get(EnrichmentPending, pending_id)
        if row is None:
            return None
        enrichment = s.get(Datastore, row.enrichment_datastore_id)
        data, prefix, cs_id = row.batch, row.prefix, row.container_scan_id
        if enrichment is None:  # the enrichment datastore was deleted: nothing left to write to
            s.execute(update(Anomaly).where(Anomaly.container_scan_id == cs_id).values(enrichment_pending=False))
            s.delete(row)
            return None
        from ..security import datastore_secrets

        try:
            target = target_of(enrichment, datastore_secrets(db.secret_key, enrichment))
        except Exception as e:  # noqa: BLE001 - a target refused now (roots changed): pending, with the reason
            return (str(e).strip().splitlines() or [type(e).__name__])[0]
    try:
        EnrichmentWriter(target, prefix).write(decode_batch(data))
    except Exception as e:  # noqa: BLE001 - any failure is retried later
        return (str(e).strip().splitlines() or [type(e).__name__])[0]
    with db.session() as s:
        s.execute(
            update(Anomaly)
            .where(Anomaly.container_scan_id == cs_id)
            .values(enrichment_pending=False, source_enriched=True)
        )
        s.execute(delete(EnrichmentPending).where(EnrichmentPending.id == pending_id))
    return None


def _release(db, pending_id: int, error: str) -> None:
    """Give the lease back after a failed attempt; the next one waits twice as long."""
    with db.session() as s:
        row = s.get(EnrichmentPending, pending_id)
        if row is None:
            return
        row.attempts += 1
        wait = min(MAX_BACKOFF_SECONDS, 2.0 ** min(row.attempts, 12))
        row.next_attempt = utcnow() + dt.timedelta(seconds=wait * random.uniform(0.5, 1.0))
        row.lease_until = None
        row.last_error = error


def deliver(db, pending_id: int, budget: float | None = None) -> str | None:
    """Write a pending batch now, retrying with exponential backoff (0.05 s doubling to 2 s,
    with jitter) for up to ``budget`` seconds (default :func:`retry_seconds`).

    Returns: None when written (or nothing was left to write), else the last error — the
    batch then stays pending for :func:`finish_due`.
    """
    budget = retry_seconds() if budget is None else budget
    deadline = time.monotonic() + budget
    wait = 0.05
    if not _claim(db, pending_id, utcnow(), due_only=False):
        return "another worker is writing it"
    while True:
        error = _write_once(db, pending_id)
        if error is None:
            return None
        if time.monotonic() + wait > deadline:
            _release(db, pending_id, error)
            return error
        time.sleep(wait * random.uniform(0.5, 1.0))
        wait = min(wait * 2, 2.0)


def record(
    session,
    *,
    container_scan_id: int,
    operation_id: int,
    container_id: int,
    enrichment_datastore_id: int,
    prefix: str,
    batch: EnrichmentBatch,
) -> EnrichmentPending:
    """Add the pending row of a container scan's batch to ``session`` (committed with the
    anomalies). Background finishers leave it alone while the scan itself retries."""
    row = EnrichmentPending(
        container_scan_id=container_scan_id,
        operation_id=operation_id,
        container_id=container_id,
        enrichment_datastore_id=enrichment_datastore_id,
        prefix=prefix,
        batch=encode_batch(batch),
        attempts=0,
        next_attempt=utcnow() + dt.timedelta(seconds=retry_seconds() + LEASE_SECONDS),
    )
    session.add(row)
    session.flush()
    return row


def finish_due(db, limit: int = 20) -> int:
    """Write the pending batches whose next attempt is due (one attempt each). Returns how
    many were written."""
    now = utcnow()
    with db.session() as s:
        due = s.scalars(
            select(EnrichmentPending.id)
            .where(
                EnrichmentPending.next_attempt <= now,
                or_(EnrichmentPending.lease_until.is_(None), EnrichmentPending.lease_until < now),
            )
            .order_by(EnrichmentPending.next_attempt)
            .limit(limit)
        ).all()
    written = 0
    for pending_id in due:
        if not _claim(db, pending_id, utcnow(), due_only=True):
            continue
        error = _write_once(db, pending_id)
        if error is None:
            written += 1
        else:
            log.info("enrichment batch %s still pending: %s", pending_id, error)
            _release(db, pending_id, error)
    return written
