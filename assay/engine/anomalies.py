"""Turn check outcomes into anomalies: record vs shape, rollup, fingerprints, auto-resolve.

Rules (see docs/semantics.md):

* A failing **row** check yields one **record** anomaly per failing row, up to
  ``high_count_rollup_threshold`` rows; when more rows fail than that, the rest are
  rolled up into ONE **shape** anomaly whose ``anomalous_records_count`` is the full
  number of failing rows, with up to ``enrichment_source_record_limit`` of the rest as
  source records. Exactly at the threshold there is no rollup.
* A row check with ``coverage`` < 1 that fails (failing share above 1 − coverage)
  yields one shape anomaly instead, as does every failing **aggregate** check.
* One source row that fails several checks is ONE record anomaly with several
  failed checks. Identical rows (same values in every column) cannot be told apart:
  they are one record anomaly whose ``anomalous_records_count`` counts them.
* Fingerprints identify "the same finding" across scans: a record anomaly's is a hash
  of its container and the row's values; a shape anomaly's a hash of its container, its
  check and its kind (``shape`` or ``rollup``). 64-bit signed integers (BLAKE2b).
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..domain import AnomalyStatus, AnomalyType, CheckResult
from .plan import CheckOutcome
from .rules import RowRule


@dataclass
class FailedCheckFinding:
    check_id: int
    message: str
    anomalous_records_count: int


@dataclass
class Finding:
    """An anomaly to record: ``type`` record|shape, with its failed checks and source rows."""

    type: str
    fingerprint: int
    message: str
    anomalous_records_count: int
    failed_checks: list[FailedCheckFinding] = field(default_factory=list)
    source_records: list[dict[str, Any]] = field(default_factory=list)
    raw_records: list[dict[str, Any]] = field(default_factory=list)  # same rows, engine-typed (remediation)


def jsonable(value: Any) -> Any:
    """A JSON-safe copy of a source value: datetimes and dates as ISO 8601 strings,
    decimals as strings (exact), NaN/±Infinity as the strings "NaN"/"Infinity"/"-Infinity",
    bytes as hex, UUIDs as strings; lists and dicts recursively."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return str(value)


def fingerprint(*parts: Any) -> int:
    """A stable signed 64-bit hash of ``parts`` (JSON-canonicalised)."""
    text = json.dumps(jsonable(list(parts)), sort_keys=True, separators=(",", ":"))
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big", signed=True)


def findings_for(
    container_id: int,
    outcomes: Iterable[CheckOutcome],
    *,
    rollup_threshold: int,
    source_record_limit: int,
    coverage_of: dict[int, float | None] | None = None,
) -> list[Finding]:
    """Anomalies for one container scan from its check outcomes.

    ``outcomes`` of failing row checks must carry at least
    ``min(failed, rollup_threshold + source_record_limit)`` example rows, or say why they
    could not be read (``examples_error``): such a check gives one shape anomaly counting
    all its failed records, its message naming the problem.
    """
    coverage_of = coverage_of or {}
    records: dict[int, Finding] = {}
    shapes: list[Finding] = []
    for out in outcomes:
        if out.result != CheckResult.FAILED:
            continue
        coverage = coverage_of.get(out.check_id)
        if out.kind == "row" and out.examples_error:
            # its failing rows could not be read: one anomaly still counts them all
            failed = out.message or f"{out.failed} records failed the check"
            message = f"{failed}; its anomalous records could not be read: {out.examples_error}"
            shapes.append(
                Finding(
                    AnomalyType.SHAPE,
                    fingerprint(container_id, out.check_id, "unread"),
                    message,
                    out.failed,
                    [FailedCheckFinding(out.check_id, message, out.failed)],
                )
            )
            continue
        if out.kind != "row" or (coverage is not None and coverage < 1.0):
            kind = AnomalyType.SHAPE
            shapes.append(
                Finding(
                    AnomalyType.SHAPE,
                    fingerprint(container_id, out.check_id, kind),
                    out.message or "",
                    out.failed,
                    [FailedCheckFinding(out.check_id, out.message or "", out.failed)],
                    [jsonable(r) for r in out.examples[:source_record_limit]],
                    list(out.examples[:source_record_limit]),
                )
            )
            continue
        as_records = out.examples[: min(out.failed, rollup_threshold)]
        for row in as_records:
            clean = jsonable(row)
            fp = fingerprint(container_id, clean)
            message = out.rule.record_message(row) if isinstance(out.rule, RowRule) else out.message or ""
            finding = records.get(fp)
            if finding is None:
                finding = records[fp] = Finding(AnomalyType.RECORD, fp, message, 0, [], [clean], [row])
            listed = next((fc for fc in finding.failed_checks if fc.check_id == out.check_id), None)
            if listed is None:
                listed = FailedCheckFinding(out.check_id, message, 0)
                finding.failed_checks.append(listed)
            # Identical rows share a fingerprint: one anomaly that counts each of them.
            listed.anomalous_records_count += 1
            finding.anomalous_records_count = max(fc.anomalous_records_count for fc in finding.failed_checks)
        if out.failed > rollup_threshold:
            rest = out.examples[rollup_threshold : rollup_threshold + source_record_limit]
            shapes.append(
                Finding(
                    AnomalyType.SHAPE,
                    fingerprint(container_id, out.check_id, "rollup"),
                    out.message or "",
                    out.failed,
                    [FailedCheckFinding(out.check_id, out.message or "", out.failed)],
                    [jsonable(r) for r in rest],
                    list(rest),
                )
            )
    return list(records.values()) + shapes


def repeat_statuses(
    fingerprints: list[int],
    open_fps: set[int],
    archived_fps: set[int],
    *,
    archive_duplicates: bool,
    reactivate_recurring: bool,
) -> tuple[list[str], set[int]]:
    """Statuses of new findings, and which archived fingerprints go back to Active.

    * ``archive_duplicates``: a finding whose fingerprint an open (Active/Acknowledged)
      anomaly already has is stored as ``Duplicate``;
    * ``reactivate_recurring``: a finding whose fingerprint only an archived anomaly has
      is stored as ``Duplicate`` and that archived anomaly becomes ``Active`` again.

    Without the flags every finding is a new ``Active`` anomaly (so an identical full
    scan repeated adds the same anomalies again, each linked to its own scan).
    """
    statuses: list[str] = []
    reactivate: set[int] = set()
    for fp in fingerprints:
        if archive_duplicates and fp in open_fps:
            statuses.append(AnomalyStatus.DUPLICATE)
        elif reactivate_recurring and fp in archived_fps and fp not in open_fps:
            statuses.append(AnomalyStatus.DUPLICATE)
            reactivate.add(fp)
        else:
            statuses.append(AnomalyStatus.ACTIVE)
    return statuses, reactivate


def anomaly_weight(check_weights: list[int | None], tag_modifiers: list[int]) -> int:
    """Severity of an anomaly: the sum of its failed checks' weights (a check's weight
    defaults to 1) plus the ``weight_modifier`` (−10…10) of each tag it carries, at least 1.

    So one failing check of weight 1 gives 1; a row failing two checks of weight 3 tagged
    ``critical`` (modifier +5) gives 3 + 3 + 5 = 11.
    """
    return max(1, sum(w if w is not None else 1 for w in check_weights) + sum(tag_modifiers))


def to_resolve(
    open_anomalies: Iterable[tuple[int, int, set[int]]],
    asserted_checks: set[int],
    new_fingerprints: set[int],
) -> list[int]:
    """Ids of open anomalies that a successful full scan resolves.

    ``open_anomalies`` holds ``(anomaly_id, fingerprint, check_ids)`` of the container's
    Active/Acknowledged anomalies. One is resolved when every one of its checks was
    asserted (passed or failed, not unasserted) in this scan and no new finding has its
    fingerprint.
    """
    out = []
    for anomaly_id, fp, check_ids in open_anomalies:
        if check_ids and check_ids <= asserted_checks and fp not in new_fingerprints:
            out.append(anomaly_id)
    return out
