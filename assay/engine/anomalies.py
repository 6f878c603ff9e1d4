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
  of its container and the row's **source** values (every column the row has except the
  container's computed fields: :func:`record_identity`); a shape anomaly's a hash of its
  container, its check and its kind (``shape`` or ``rollup``). 64-bit signed integers
  (BLAKE2b).
* Record identity. Assay stores no primary key of a container (sync reads none, and the
  incremental identifier orders rows but does not tell them apart), so a record is known
  by its source values: adding, changing or removing a computed field keeps every record
  anomaly's fingerprint. A change of the table's own columns (a column added or dropped)
  changes them; :func:`rekeyed` then matches each open record anomaly to the new finding
  whose values agree on the columns both rows have, and the scan moves that anomaly to
  the new fingerprint (keeping its id, status, assignees and comments) instead of
  resolving it and opening a new one. The same match carries anomalies fingerprinted
  before computed fields were left out (they hashed the whole row). Limit: two records
  that differ only in a column added later were one anomaly before; after, the first one
  keeps it and the other is new; and a changed value of any source column is a different
  record (the old anomaly resolves).
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import math
import uuid
from collections.abc import Collection, Iterable
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


def record_identity(row: dict[str, Any], computed_fields: Collection[str] = ()) -> dict[str, Any]:
    """What identifies a record (a JSON-safe row, as :func:`jsonable` gives it): its
    columns except the container's ``computed_fields`` (names)."""
    return {k: v for k, v in row.items() if k not in computed_fields}


def record_fingerprint(container_id: int, row: dict[str, Any], computed_fields: Collection[str] = ()) -> int:
    """The fingerprint of the record anomaly of JSON-safe ``row`` in ``container_id``: a hash
    of the container and :func:`record_identity` (so, without computed fields, of the whole row)."""
    return fingerprint(container_id, record_identity(row, computed_fields))


def rekeyed(
    open_records: Iterable[tuple[int, int, dict[str, Any]]],
    findings: Iterable[Finding],
    computed_fields: Collection[str] = (),
    archived_records: Iterable[tuple[int, int, dict[str, Any]]] = (),
) -> dict[int, int]:
    """Record anomalies to move to a new fingerprint: ``{anomaly_id: fingerprint}``.

    ``open_records`` holds ``(anomaly_id, fingerprint, source_record)`` of the container's
    open (Active/Acknowledged) record anomalies, oldest first. An anomaly whose fingerprint
    no finding has is matched to the first record finding (not already matched by an open
    anomaly's fingerprint) whose source values equal its stored ones on every column both
    have, computed fields left out, and at least one column in common: the same record,
    seen after the table gained or lost a column, or fingerprinted by an older Assay. Each
    finding takes at most one old fingerprint (every open anomaly holding it moves).

    ``archived_records`` (same shape; Resolved/Invalid/Discarded record anomalies, given
    when the scan reactivates recurring anomalies) are matched the same way, but only to
    the findings no open anomaly holds or took: an open anomaly always wins a finding, and
    an archived one whose fingerprint a finding already has is not moved.
    """
    records = [f for f in findings if f.type == AnomalyType.RECORD and f.source_records]
    open_list = list(open_records)
    archived_list = list(archived_records)
    found = {f.fingerprint for f in records}
    taken = {fp for _aid, fp, _row in open_list} & found
    candidates = _Candidates([(f.fingerprint, record_identity(f.source_records[0], computed_fields)) for f in records])
    candidates.drop(taken)
    moved: dict[int, int] = {}  # old fingerprint -> new (anomalies sharing one move together)
    out: dict[int, int] = {}
    for group in (open_list, archived_list):
        if group is archived_list:  # what open anomalies left, less what archived ones already hold
            taken |= {fp for _aid, fp, _row in archived_list} & found
            candidates.drop(taken)
        for anomaly_id, fp, stored in group:
            if fp in taken or not isinstance(stored, dict):
                continue
            if fp not in moved:
                new_fp = candidates.take(record_identity(stored, computed_fields))
                if new_fp is not None:
                    moved[fp] = new_fp
            if fp in moved:
                out[anomaly_id] = moved[fp]
    return out


class _Candidates:
    """The record findings :func:`rekeyed` matches stored records to, in order, as
    ``(fingerprint, identity)``; each is taken at most once.

    :meth:`take` finds the first finding not yet taken whose values equal a stored record's
    on every column both have (at least one). The findings are grouped by their set of
    columns and indexed by their values, so a stored record that has every column of a group
    is matched by one look-up: an incremental scan's new records are compared with every open
    anomaly of the container, which would otherwise cost open anomalies × findings
    comparisons. A stored record that lacks some of a group's columns (the table gained a
    column), or unhashable values (arrays, structs), are compared one finding at a time."""

    def __init__(self, rows: list[tuple[int, dict[str, Any]]]):
        self.rows = rows
        self.used: set[int] = set()  # positions taken or dropped
        # columns -> (the columns in a fixed order, positions, {values: positions} or None)
        self.groups: dict[frozenset[str], tuple[tuple[str, ...], list[int], dict[tuple, list[int]] | None]] = {}
        for pos, (_fp, row) in enumerate(rows):
            keys = frozenset(row)
            if keys not in self.groups:
                self.groups[keys] = (tuple(sorted(keys)), [], {})
            ordered, positions, index = self.groups[keys]
            positions.append(pos)
            if index is not None:
                try:
                    index.setdefault(tuple(row[k] for k in ordered), []).append(pos)
                except TypeError:  # an unhashable value: this group is searched one by one
                    self.groups[keys] = (ordered, positions, None)

    def drop(self, fingerprints: set[int]) -> None:
        """Take the findings of ``fingerprints`` out of the match."""
        self.used.update(pos for pos, (fp, _row) in enumerate(self.rows) if fp in fingerprints)

    def take(self, old: dict[str, Any]) -> int | None:
        """The fingerprint of the first untaken finding that matches ``old``, now taken; None if none does."""
        best: int | None = None
        old_keys = old.keys()
        for keys, (ordered, positions, index) in self.groups.items():
            common = old_keys & keys
            if not common:
                continue
            if index is not None and len(common) == len(keys):
                try:
                    hits = index.get(tuple(old[k] for k in ordered), [])
                except TypeError:  # an unhashable stored value: compared one by one below
                    pass
                else:
                    pos = next((p for p in hits if p not in self.used), None)
                    if pos is not None and (best is None or pos < best):
                        best = pos
                    continue
            for pos in positions:
                if best is not None and pos > best:
                    break
                new = self.rows[pos][1]
                if pos not in self.used and all(old[k] == new[k] for k in common):
                    best = pos
                    break
        if best is None:
            return None
        self.used.add(best)
        return self.rows[best][0]


def findings_for(
    container_id: int,
    outcomes: Iterable[CheckOutcome],
    *,
    rollup_threshold: int,
    source_record_limit: int,
    coverage_of: dict[int, float | None] | None = None,
    computed_fields: Collection[str] = (),
) -> list[Finding]:
    """Anomalies for one container scan from its check outcomes.

    ``computed_fields``: names of the container's computed fields, left out of record
    fingerprints (:func:`record_fingerprint`).

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
            fp = record_fingerprint(container_id, clean, computed_fields)
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


def unlisted_checks(outcomes: Iterable[CheckOutcome], findings: Iterable[Finding]) -> set[int]:
    """Ids of the failed row checks of ``outcomes`` whose failing records are not all record
    findings among ``findings`` (what :func:`findings_for` made of those outcomes): the
    records a check's record findings count fall short of its failed count when the rest
    rolled up past the threshold into one shape anomaly, fewer example rows were read than
    records failed, the rows could not be read, or the check covers part of its records (a
    shape finding only). A record anomaly of such a check that the scan did not find again
    may still fail."""
    listed: dict[int, int] = {}
    for f in findings:
        if f.type == AnomalyType.RECORD:
            for fc in f.failed_checks:
                listed[fc.check_id] = listed.get(fc.check_id, 0) + fc.anomalous_records_count
    return {
        o.check_id
        for o in outcomes
        if o.result == CheckResult.FAILED and o.kind == "row" and listed.get(o.check_id, 0) < o.failed
    }


def to_resolve(
    open_anomalies: Iterable[tuple[int, int, set[int]]],
    asserted_checks: set[int],
    new_fingerprints: set[int],
    *,
    records: Collection[int] = (),
    unlisted: Collection[int] = (),
) -> list[int]:
    """Ids of open anomalies that a successful full scan resolves.

    ``open_anomalies`` holds ``(anomaly_id, fingerprint, check_ids)`` of the container's
    Active/Acknowledged anomalies. One is resolved when every one of its checks was
    asserted (passed or failed, not unasserted) in this scan and no new finding has its
    fingerprint, unless it is a record anomaly (its id in ``records``) of a check in
    ``unlisted`` (:func:`unlisted_checks`): that check's failing records were not all
    listed, so its record may still fail.
    """
    records, unlisted = set(records), set(unlisted)
    out = []
    for anomaly_id, fp, check_ids in open_anomalies:
        if anomaly_id in records and check_ids & unlisted:
            continue
        if check_ids and check_ids <= asserted_checks and fp not in new_fingerprints:
            out.append(anomaly_id)
    return out
