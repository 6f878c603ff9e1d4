"""Scan: assert every active check of the selected containers and record anomalies.

Per container (one container scan each, in name order):

1. ``incremental.plan_read``: the rows to read (past the checkpoint or a
   ``greater_than_*`` threshold on an incremental identifier), split into partitions and
   capped at ``max_records_analyzed_per_partition`` rows per partition when set;
2. ``engine.plan.evaluate``: ONE fused aggregate query for all active checks, then
   bounded example-row queries for the failing ones; then one grouped query for the
   partitions read;
3. ``engine.anomalies``: record / shape anomalies, rollup past
   ``high_count_rollup_threshold``, fingerprints;
4. auto-resolve (full scans with ``auto_resolve_passed_anomalies`` only, and only when
   neither the record cap nor a threshold cut the read short; a record anomaly of a
   check that failed on more records than it listed, rolled up past the threshold, stays);
5. in ONE metadata transaction, the one that marks the container scan a success: the
   anomalies, time-series measurements, partitions and partition scans, the new
   checkpoint and — when an enrichment datastore is linked — the enrichment batch as a
   pending record (``enrichment/pending.py``);
6. write that batch to the enrichment datastore, idempotently and with retries; when the
   store stays busy or down, the anomalies keep ``enrichment_pending`` and any runner
   writes the batch later — a finding is never discarded because of the enrichment store;
7. update the operation's ``status`` counters.

A container that cannot be read fails its own container scan; the others go on.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import uuid as uuid_mod
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, or_, select, update

from ..domain import AnomalyType
from ..engine.anomalies import (
    Finding,
    anomaly_weight,
    findings_for,
    rekeyed,
    repeat_statuses,
    to_resolve,
    unlisted_checks,
)
from ..engine.plan import evaluate, example_schema
from ..engine.rules import CheckSpec
from ..enrichment import pending
from ..enrichment.writer import EnrichmentBatch, default_prefix, target_of, to_json
from ..security import datastore_secrets
from ..sources import SourceError, open_source
from ..store.db import Database
from ..store.models import (
    Anomaly,
    ComputedField,
    Container,
    ContainerScan,
    FailedCheck,
    GlobalTag,
    Operation,
    Partition,
    PartitionScan,
    QualityCheck,
    utcnow,
)
from . import history
from .incremental import BATCH, LAST_MODIFIED, TIMESTAMP, Read, checkpoint_json, checkpoint_value, plan_read
from .progress import Aborted, update_status
from .resolver import ContainerResolver

log = logging.getLogger(__name__)

OPEN_STATUSES = ("Active", "Acknowledged")
ARCHIVED_STATUSES = ("Resolved", "Invalid", "Discarded")
#: Seconds between two looks at the engine's progress through a container's read.
PROGRESS_EVERY = 1.0


def selected_containers(
    session, datastore_id: int, names: list[str] | None, tags: list[str] | None = None
) -> list[Container]:
    """The datastore's live containers, restricted to ``names`` and to containers carrying
    one of ``tags`` when given (empty = all)."""
    stmt = select(Container).where(Container.datastore_id == datastore_id, Container.deleted_at.is_(None))
    if names:
        stmt = stmt.where(Container.name.in_(names))
    containers = list(session.scalars(stmt.order_by(Container.name)))
    if tags:
        wanted = set(tags)
        containers = [c for c in containers if wanted & set(c.tags or [])]
    return containers


def with_computed_fields(table, computed: list[tuple[str, str | None]]):
    """``table`` plus each computed field (name, Spark-SQL expression). A field whose
    expression no longer compiles is left out, so only the checks that use it fail."""
    from ..engine.expressions import to_ibis

    for name, expression in computed:
        try:
            table = table.mutate(**{name: to_ibis(expression or "", table)})
        except Exception as e:  # noqa: BLE001
            log.warning("computed field %s left out: %s", name, e)
    return table


def _stop_if(should_abort) -> None:
    """Before each query of a container scan: stop at once when the operation is aborting."""
    if should_abort():
        raise Aborted()


@contextlib.contextmanager
def interrupt_on_abort(source, should_abort, every: float = 0.5):
    """While the block runs, a watcher cancels the source's running queries once the
    operation is asked to stop, so an abort does not wait for a long query to finish.

    It keeps cancelling every ``every`` seconds until the block ends: one cancel can miss a
    query started just after it (a profile retrying a failed statistic, Spark starting the
    next job of a query), and a job must not outlive its operation."""
    done = threading.Event()

    def watch():
        while not done.wait(every):
            if should_abort():
                source.interrupt()

    watcher = threading.Thread(target=watch, name="assay-abort-watch", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join(timeout=5)


class _ContainerProgress:
    """While a container is read, a watcher thread puts the engine's progress through the
    query running now (``Source.progress``: DuckDB's query progress; nothing elsewhere) into
    the operation's ``status`` as ``container_progress`` (0 to 1, never moving back within
    a container), about every ``every`` seconds, so a client's progress bar moves inside a
    big container; the key goes again when the container is done. ``lock`` is held by every
    status write of the scan, so the watcher's write never interleaves with the counters'
    read-modify-write, nor lands after the container it measured is done."""

    def __init__(self, db: Database, op_id: int, source, every: float | None = None):
        self.db, self.op_id, self.source = db, op_id, source
        self.every = PROGRESS_EVERY if every is None else every
        self.lock = threading.Lock()
        self.best = 0.0
        self.container = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="assay-scan-progress", daemon=True)

    def next_container(self) -> None:
        """The container is done (call with :attr:`lock` held): the next starts from 0."""
        self.best = 0.0
        self.container += 1

    def _watch(self) -> None:
        while not self._done.wait(self.every):
            container = self.container
            fraction = self.source.progress()
            if fraction is None or fraction < self.best + 0.01:
                continue
            with self.lock:
                if self._done.is_set() or container != self.container:
                    continue
                self.best = fraction
                try:
                    update_status(self.db, self.op_id, container_progress=round(fraction, 3))
                except Exception as e:  # noqa: BLE001 - progress is a nicety; the scan goes on
                    log.debug("could not record the container progress: %s", e)

    def __enter__(self) -> _ContainerProgress:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join(timeout=5)


def run_scan(db: Database, op_id: int, should_abort, wrap=None) -> str | None:
    """Run scan operation ``op_id``. Returns a warning message (or None) for the operation.
    ``wrap`` (external scans) turns the opened source into the source the scan reads.

    Raises: SourceError when the datastore cannot be opened or no container is selected (a
    datastore never synced, tags no container carries); Aborted when asked to stop.
    """
    with db.session() as s:
        op = s.get_one(Operation, op_id)
        datastore = op.datastore
        if datastore is None:
            raise SourceError(f"operation {op_id} has no datastore (deleted?)")
        secrets = datastore_secrets(db.secret_key, datastore)
        params = dict(op.params)
        containers = selected_containers(s, datastore.id, params.get("container_names"), params.get("container_tags"))
        container_ids = [c.id for c in containers]
        enrichment = datastore.enrichment_datastore
        enrichment_info = (
            EnrichmentInfo(
                target_of(enrichment, datastore_secrets(db.secret_key, enrichment)),
                datastore.enrichment_prefix or default_prefix(datastore.name),
                enrichment.id,
            )
            if enrichment
            else None
        )
        ds_name = datastore.name
        datastore_id = datastore.id
        op.container_ids = container_ids
    # A resumed scan keeps what its earlier attempt finished and scans only the rest; the
    # container scans it left unfinished are replaced by this attempt's.
    with db.session() as s:
        scans = s.get_one(Operation, op_id).container_scans
        done = [
            (
                cs.container_id,
                cs.partitions_scanned,
                cs.records_processed,
                cs.anomaly_count,
                cs.auto_resolved_anomaly_count,
            )
            for cs in scans
            if cs.result == "success"
        ]
        for cs in scans:
            if cs.result != "success":
                s.delete(cs)
    done_ids = {row[0] for row in done}
    update_status(
        db,
        op_id,
        total_containers=len(container_ids),
        containers_analyzed=len(done),
        partitions_scanned=sum(r[1] for r in done),
        records_processed=sum(r[2] for r in done),
        anomalies_identified=sum(r[3] for r in done),
        auto_resolved_anomaly_count=sum(r[4] for r in done),
    )
    nothing_selected = not container_ids
    container_ids = [c for c in container_ids if c not in done_ids]
    warnings: list[str] = []
    failed_containers = 0
    with (
        open_source(datastore, secrets) as opened,
        contextlib.closing(wrap(opened)) if wrap else contextlib.nullcontext(opened) as source,
        interrupt_on_abort(source, should_abort),
        contextlib.closing(ContainerResolver(db, source, datastore_id)) as resolver,
        _ContainerProgress(db, op_id, source) as progress,
    ):
        source.describe(f"assay scan operation {op_id} (datastore {ds_name})")
        if nothing_selected:  # said once the datastore opened: a broken connection is the better reason
            raise SourceError(_nothing_selected(ds_name, datastore_id, params))
        for container_id in container_ids:
            if should_abort():
                raise Aborted()
            outcome = _scan_container(
                db, op_id, params, source, container_id, ds_name, enrichment_info, should_abort, resolver
            )
            if should_abort():  # the query was cancelled: this container scan did not finish
                with db.session() as s:
                    for cs in s.get_one(Operation, op_id).container_scans:
                        if cs.container_id == container_id and cs.result == "failure":
                            cs.result, cs.message = "aborted", "aborted by request"
                raise Aborted()
            if outcome.get("failed"):
                failed_containers += 1
                warnings.append(f"{outcome['name']}: {outcome['message']}")
            elif outcome.get("message"):
                warnings.append(f"{outcome['name']}: {outcome['message']}")
            with progress.lock, db.session() as s:
                progress.next_container()
                op = s.get_one(Operation, op_id)
                st = dict(op.status)
                st.pop("container_progress", None)
                st["containers_analyzed"] += 1
                st["partitions_scanned"] += outcome.get("partitions", 0)
                st["records_processed"] += outcome.get("records", 0)
                st["anomalies_identified"] += outcome.get("anomalies", 0)
                st["auto_resolved_anomaly_count"] += outcome.get("resolved", 0)
                op.status = st
                op.heartbeat = utcnow()
    if container_ids and failed_containers == len(container_ids):
        raise SourceError("every container scan failed: " + "; ".join(warnings))
    return "; ".join(warnings) if warnings else None


def _nothing_selected(ds_name: str, datastore_id: int, params: dict) -> str:
    """Why a scan selected no container: the failure message of an empty selection."""
    if params.get("container_names"):
        return f"nothing to scan: datastore '{ds_name}' has no container named {', '.join(params['container_names'])}"
    if params.get("container_tags"):
        return (
            f"nothing to scan: no container of datastore '{ds_name}' carries the tags "
            f"{', '.join(params['container_tags'])}"
        )
    return (
        f"nothing to scan: datastore '{ds_name}' has no containers; run a sync first "
        f'(POST /api/operations/run {{"type": "sync", "datastore_id": {datastore_id}}})'
    )


@dataclass
class _Snapshot:
    """What a container scan needs from the metadata store, loaded once (detached rows)."""

    cs_id: int
    container: Container
    specs: list[CheckSpec]
    check_meta: dict[int, QualityCheck]
    computed: list[tuple[str, str | None]]


@dataclass(frozen=True)
class EnrichmentInfo:
    """The linked enrichment datastore: where to write, the table prefix, its id."""

    target: Any
    prefix: str
    datastore_id: int


def _scan_container(
    db, op_id, params, source, container_id, ds_name, enrichment_info, should_abort=lambda: False, resolver=None
) -> dict[str, Any]:
    """One container scan, in four steps: load (metadata) → read and evaluate (source) →
    persist (anomalies and the enrichment batch, one metadata transaction) → enrich (write
    the batch to the enrichment datastore, or leave it pending)."""
    snap = _load(db, op_id, container_id)
    for spec in snap.specs:  # the scan's check_variables fill {{ name }} in filters and expressions
        spec.variables = params.get("check_variables") or {}
    started = utcnow()
    try:
        read, table, result = _read_and_evaluate(source, snap, params, should_abort, resolver)
    except Exception as e:  # noqa: BLE001 - a broken container is reported on that container
        if isinstance(e, Aborted) or should_abort():  # cancelled by an abort: nothing is recorded
            _mark_aborted(db, snap.cs_id)
            raise Aborted() from e
        return _record_failure(db, op_id, params, snap, ds_name, enrichment_info, started, e)
    findings, warning, cs_message = _judge(snap, params, result, read)
    uuids = [str(uuid_mod.uuid4()) for _ in findings]
    # each anomaly's partition, the same in the API and in the enrichment tables
    partition_names = [_anomaly_partition(read, finding, snap.container.name) for finding in findings]
    finished = utcnow()
    batch = None
    if enrichment_info:
        batch = _enrichment_batch(
            op_id,
            params,
            snap.container,
            ds_name,
            result.records,
            findings,
            uuids,
            snap.check_meta,
            started,
            finished,
            cs_message,
            outcomes=result.outcomes,
            partition_names=partition_names,
        )
        batch.remediation = _remediation(
            params, enrichment_info.prefix, snap.container, table, findings, uuids, partition_names, read
        )
    pending_id, resolved = _persist(
        db,
        op_id,
        params,
        snap,
        read,
        result,
        findings,
        uuids,
        partition_names,
        cs_message,
        finished,
        batch,
        enrichment_info,
    )
    note = _enrich(db, pending_id, snap.cs_id)
    return {
        "name": snap.container.name,
        "records": result.records,
        "partitions": read.partition_count,
        "anomalies": len(findings),
        "resolved": resolved,
        "message": "; ".join(m for m in (warning, note) if m) or None,
    }


def _load(db, op_id: int, container_id: int) -> _Snapshot:
    """Start the container scan (``running``) and load the container, its active checks
    (with their history) and computed fields."""
    with db.session() as s:
        container = s.get_one(Container, container_id)
        cs = ContainerScan(operation_id=op_id, container_id=container_id, start_time=utcnow(), result="running")
        s.add(cs)
        s.flush()
        checks = list(
            s.scalars(
                select(QualityCheck)
                .where(
                    QualityCheck.container_id == container_id,
                    QualityCheck.status == "Active",
                    QualityCheck.deleted_at.is_(None),
                )
                .order_by(QualityCheck.id)
            )
        )
        computed = [
            (cf.name, cf.properties.get("column_expression"))
            for cf in s.scalars(
                select(ComputedField).where(ComputedField.container_id == container_id).order_by(ComputedField.id)
            )
        ]
        specs = [
            CheckSpec(c.id, c.rule_type, list(c.fields or []), dict(c.properties or {}), c.filter, c.coverage)
            for c in checks
        ]
        history.attach(s, container_id, specs)
        snap = _Snapshot(cs.id, container, specs, {c.id: c for c in checks}, computed)
        s.expunge_all()
    return snap


def _read_and_evaluate(source, snap: _Snapshot, params, should_abort, resolver):
    """Plan the read, stage it, and evaluate every check (one fused query, then example
    rows). Returns ``(read, table, evaluation)``. Raises whatever the source raises."""
    threshold = int(params["high_count_rollup_threshold"])
    source_limit = int(params["enrichment_source_record_limit"])
    return read_and_evaluate(
        source,
        snap.container,
        snap.computed,
        snap.specs,
        params,
        example_limit=threshold + source_limit,
        should_abort=should_abort,
        resolver=resolver,
    )


def read_and_evaluate(
    source,
    container: Container,
    computed: list[tuple[str, str | None]],
    specs: list[CheckSpec],
    params: dict[str, Any],
    *,
    example_limit: int,
    should_abort=lambda: False,
    resolver=None,
):
    """The read and evaluation of one container scan, shared by scans and check dry runs:
    plan the read of ``container`` for a scan payload ``params`` (incremental, thresholds,
    ``max_records_analyzed_per_partition``), stage it, add the ``computed`` fields and
    evaluate ``specs`` (one fused query, then up to ``example_limit`` failing rows per
    check), then measure the read's partitions.

    Returns ``(read, table, evaluation)``. Raises whatever the source raises; Aborted when
    ``should_abort()`` turns true between queries.
    """
    read = plan_read(source, container, params)
    read.stage(source)
    table = with_computed_fields(read.table, computed)
    result = evaluate(
        table,
        specs,
        example_limit=example_limit,
        on_query=lambda _label: _stop_if(should_abort),
        resolver=resolver,
    )
    _stop_if(should_abort)
    read.measure(records=result.records)
    return read, table, result


def _judge(snap: _Snapshot, params, result, read):
    """Findings (record / shape anomalies, rolled up) of an evaluation, the operation
    warning (checks that could not run) and the container scan's message."""
    findings = findings_for(
        snap.container.id,
        result.outcomes,
        rollup_threshold=int(params["high_count_rollup_threshold"]),
        source_record_limit=int(params["enrichment_source_record_limit"]),
        coverage_of={spec.id: spec.coverage for spec in snap.specs},
        computed_fields={name for name, _expression in snap.computed},
    )
    unasserted = [o for o in result.outcomes if o.result == "unasserted"]
    # A warning (checks that could not run) also reaches the operation's message; a note on
    # how the container was read (no incremental identifier) stays on the container scan.
    warning = None
    if unasserted:
        warning = f"{len(unasserted)} of {len(snap.specs)} checks could not be asserted: " + "; ".join(
            f"check {o.check_id} ({o.rule_type}): {o.error}" for o in unasserted
        )
    cs_message = "; ".join(m for m in (read.message, warning) if m) or None
    return findings, warning, cs_message


def _mark_aborted(db, cs_id: int) -> None:
    """The container scan an abort interrupted: ``aborted``, with no findings and no
    enrichment batch (the API already ended it so; this keeps it so)."""
    with db.session() as s:
        cs = s.get_one(ContainerScan, cs_id)
        cs.result, cs.message = "aborted", "aborted by request"
        cs.end_time = cs.end_time or utcnow()


def _record_failure(db, op_id, params, snap: _Snapshot, ds_name, enrichment_info, started, e) -> dict[str, Any]:
    """A container that could not be read or evaluated: its container scan fails with the
    reason, and the enrichment datastore gets a ``failure`` scan record (delivered like any
    batch, so a busy store does not lose it)."""
    name = snap.container.name
    message = str(e).splitlines()[0] if str(e) else type(e).__name__
    log.warning("container %s failed: %s", name, message)
    finished = utcnow()
    pending_id = None
    with db.session() as s:
        cs = s.get_one(ContainerScan, snap.cs_id)
        cs.result, cs.message, cs.end_time = "failure", message, finished
        if enrichment_info:
            batch = _enrichment_batch(
                op_id,
                params,
                snap.container,
                ds_name,
                0,
                [],
                [],
                snap.check_meta,
                started,
                finished,
                message,
                result="failure",
            )
            pending_id = pending.record(
                s,
                container_scan_id=snap.cs_id,
                operation_id=op_id,
                container_id=snap.container.id,
                enrichment_datastore_id=enrichment_info.datastore_id,
                prefix=enrichment_info.prefix,
                batch=batch,
            ).id
    _enrich(db, pending_id, snap.cs_id)
    return {"name": name, "failed": True, "message": message}


def _default_assignees(check_meta: dict[int, QualityCheck], finding: Finding) -> list[int]:
    """The ``default_anomaly_assignee_id`` of each check the finding failed, in check order, once each."""
    ids = (check_meta[fc.check_id].default_anomaly_assignee_id for fc in finding.failed_checks)
    return list(dict.fromkeys(i for i in ids if i is not None))


def _rekey(s, container_id: int, findings: list[Finding], computed_fields: set[str], *, archived: bool = False) -> None:
    """Move record anomalies of ``container_id`` whose record is found again under another
    fingerprint (the table gained or lost a column, or an older Assay hashed the whole row)
    to the new fingerprint (``anomalies.rekeyed``), so the scan neither resolves them nor
    opens new ones: they keep their id, status, assignees and comments. Open ones always;
    with ``archived`` (the scan reactivates recurring anomalies) also archived ones
    (Resolved/Invalid/Discarded), for the findings no open anomaly holds or took, so the
    reactivation recognises them."""
    new_fps = {f.fingerprint for f in findings if f.type == AnomalyType.RECORD}
    if not new_fps:
        return
    statuses = [*OPEN_STATUSES, *(ARCHIVED_STATUSES if archived else ())]
    held = s.execute(
        select(Anomaly.id, Anomaly.fingerprint, Anomaly.status).where(
            Anomaly.container_id == container_id,
            Anomaly.type == AnomalyType.RECORD,
            Anomaly.status.in_(statuses),
        )
    ).all()
    if not new_fps - {fp for _id, fp, _st in held}:
        return  # every record found again has its anomaly already
    unmatched = [aid for aid, fp, _st in held if fp not in new_fps]
    if not unmatched:
        return
    # the columns the match needs, not the anomalies with their eagerly loaded relations: an
    # incremental scan finds new records, so every open anomaly is read here on each scan
    stored = s.execute(
        select(Anomaly.id, Anomaly.fingerprint, Anomaly.source_records)
        .where(Anomaly.id.in_(unmatched))
        .order_by(Anomaly.id)
    ).all()
    open_ids = {aid for aid, _fp, st in held if st in OPEN_STATUSES}
    moves = rekeyed(
        [(aid, fp, (records or [None])[0]) for aid, fp, records in stored if aid in open_ids],
        findings,
        computed_fields,
        archived_records=[(aid, fp, (records or [None])[0]) for aid, fp, records in stored if aid not in open_ids],
    )
    if moves:
        s.execute(update(Anomaly), [{"id": aid, "fingerprint": fp} for aid, fp in moves.items()])


def _same_kind(s, op_id: int):
    """A criterion on ``Anomaly``: recorded by an operation of the same kind as ``op_id``.

    An external scan's anomalies are about records sent to ``POST /api/containers/{id}/scan``,
    which were never in the table, so a regular scan of the table does not auto-resolve them
    (nor an external scan the anomalies of a regular scan). Anomalies whose operation was
    deleted count as a regular scan's."""
    external = s.scalar(select(Operation.type).where(Operation.id == op_id)) == "external_scan"
    of_external = select(Operation.id).where(Operation.type == "external_scan")
    if external:
        return Anomaly.operation_id.in_(of_external)
    return or_(Anomaly.operation_id.is_(None), Anomaly.operation_id.not_in(of_external))


def _persist(
    db,
    op_id,
    params,
    snap: _Snapshot,
    read,
    result,
    findings,
    uuids,
    partition_names,
    cs_message,
    finished,
    batch,
    enrichment_info,
) -> tuple[int | None, int]:
    """Record everything the container scan found in ONE metadata transaction: auto-resolved
    and reactivated anomalies, new anomalies (``enrichment_pending`` while their batch is
    not written), check states, measurements, partitions, the checkpoint, the container
    scan's success and the pending enrichment batch. Returns ``(pending id, resolved count)``."""
    container_id, cs_id = snap.container.id, snap.cs_id
    check_meta = snap.check_meta
    cap = params.get("max_records_analyzed_per_partition")
    auto_resolve = not params.get("incremental") and bool(params.get("auto_resolve_passed_anomalies"))
    partitions = read.partition_count
    pending_id = None
    with db.session() as s:
        _rekey(
            s,
            container_id,
            findings,
            {name for name, _expression in snap.computed},
            archived=bool(params.get("reactivate_recurring_anomalies")),
        )
        resolved_ids: list[int] = []
        # A read capped by max_records_analyzed_per_partition may have left failing rows unread:
        # only a read of every record can tell that an anomaly no longer reproduces.
        truncated = cap is not None and cap >= 0 and any(p.records >= cap for p in read.partitions)
        if auto_resolve and not truncated and read.threshold is None:
            asserted = {o.check_id for o in result.outcomes if o.result in ("passed", "failed")}
            open_rows = s.execute(
                select(Anomaly.id, Anomaly.fingerprint, Anomaly.type, FailedCheck.quality_check_id)
                .join(FailedCheck, FailedCheck.anomaly_id == Anomaly.id)
                .where(
                    Anomaly.container_id == container_id,
                    Anomaly.status.in_(OPEN_STATUSES),
                    _same_kind(s, op_id),
                )
            ).all()
            by_anomaly: dict[int, tuple[int, set[int]]] = {}
            for aid, fp, _type, qcid in open_rows:
                entry = by_anomaly.setdefault(aid, (fp, set()))
                if qcid is not None:
                    entry[1].add(qcid)
            resolved_ids = to_resolve(
                [(aid, fp, ids) for aid, (fp, ids) in by_anomaly.items()],
                asserted,
                {f.fingerprint for f in findings},
                # a check with more failing records than it listed (rolled up past the
                # threshold, unread) leaves its other record anomalies undecided
                records={aid for aid, _fp, type_, _qcid in open_rows if type_ == AnomalyType.RECORD},
                unlisted=unlisted_checks(result.outcomes, findings),
            )
            for anomaly in s.scalars(select(Anomaly).where(Anomaly.id.in_(resolved_ids))):
                anomaly.status = "Resolved"
                anomaly.resolved_by_operation_id = op_id
        container = s.get_one(Container, container_id)
        # only the anomalies that share a fingerprint with a finding decide duplicates and
        # reactivations: the container's whole anomaly history is never loaded
        known = [
            row
            for fps in _chunks(sorted({f.fingerprint for f in findings}))
            for row in s.execute(
                select(Anomaly.id, Anomaly.fingerprint, Anomaly.status)
                .where(Anomaly.container_id == container_id, Anomaly.fingerprint.in_(fps))
                .order_by(Anomaly.id)
            ).all()
        ]
        known.sort(key=lambda row: row[0])
        statuses, reactivate = repeat_statuses(
            [f.fingerprint for f in findings],
            {fp for _id, fp, st in known if st in OPEN_STATUSES},
            {fp for _id, fp, st in known if st in ARCHIVED_STATUSES},
            archive_duplicates=bool(params.get("archive_duplicate_anomalies")),
            reactivate_recurring=bool(params.get("reactivate_recurring_anomalies")),
        )
        latest_archived = {fp: aid for aid, fp, st in known if fp in reactivate and st in ARCHIVED_STATUSES}
        for anomaly in s.scalars(select(Anomaly).where(Anomaly.id.in_(latest_archived.values()))):
            anomaly.status = "Active"
        all_tags = {t for c in check_meta.values() for t in (c.tags or [])}
        tag_weights = (
            dict(s.execute(select(GlobalTag.name, GlobalTag.weight_modifier).where(GlobalTag.name.in_(all_tags))).all())
            if all_tags
            else {}
        )
        new_anomalies: list[tuple[Anomaly, Finding]] = []
        for finding, anomaly_uuid, status, partition_name in zip(
            findings, uuids, statuses, partition_names, strict=False
        ):
            tags = sorted({t for fc in finding.failed_checks for t in (check_meta[fc.check_id].tags or [])})
            anomaly = Anomaly(
                uuid=anomaly_uuid,
                type=finding.type,
                status=status,
                datastore_id=container.datastore_id,
                container_id=container_id,
                operation_id=op_id,
                container_scan_id=cs_id,
                partition_name=partition_name,
                message=finding.message,
                anomalous_records_count=finding.anomalous_records_count,
                fingerprint=finding.fingerprint,
                weight=anomaly_weight(
                    [check_meta[fc.check_id].weight for fc in finding.failed_checks],
                    [tag_weights.get(t, 0) for t in tags],
                ),
                source_records=finding.source_records,
                source_enriched=False,
                enrichment_pending=batch is not None,
                tags=tags,
                # a new anomaly goes to the default assignees of the checks it failed
                assignee_ids=_default_assignees(check_meta, finding),
            )
            s.add(anomaly)
            new_anomalies.append((anomaly, finding))
        now = utcnow()
        checks = {
            c.id: c
            for c in s.scalars(select(QualityCheck).where(QualityCheck.id.in_({o.check_id for o in result.outcomes})))
        }
        for out in result.outcomes:
            check = checks.get(out.check_id)
            if check is None:
                continue
            if out.result == "unasserted":
                check.last_error = out.error
            else:
                check.last_error = None
                check.last_asserted = now
                check.is_passing = out.result == "passed"
        history.record(s, container_id, op_id, result.outcomes)
        s.flush()  # the new anomalies' ids (one INSERT: Anomaly.uuid is its insert sentinel)
        # their failed checks in one INSERT too (as the anomalies' ORM children, each took
        # a statement of its own)
        failed_checks = [
            {
                "anomaly_id": anomaly.id,
                "quality_check_id": fc.check_id,
                "message": fc.message,
                "anomalous_records_count": fc.anomalous_records_count,
            }
            for anomaly, finding in new_anomalies
            for fc in finding.failed_checks
        ]
        if failed_checks:
            s.execute(insert(FailedCheck), failed_checks)
        _record_partitions(s, container, cs_id, read, findings)
        cs = s.get_one(ContainerScan, cs_id)
        cs.result = "success"
        cs.message = cs_message
        cs.end_time = finished
        cs.records_processed = result.records
        cs.partitions_scanned = partitions
        cs.anomaly_count = len(findings)
        cs.auto_resolved_anomaly_count = len(resolved_ids)
        if findings:  # flows hook (issue 18): the scan's anomaly digest event commits with its anomalies
            from ..flows.outbox import record_scan_anomalies

            record_scan_anomalies(s, op_id)
        cs.check_results = [
            {
                "quality_check_id": o.check_id,
                "rule_type": o.rule_type,
                "result": o.result,
                "asserted_records_count": o.asserted,
                "anomalous_records_count": o.failed,
                "error": o.error,
            }
            for o in result.outcomes
        ]
        if batch is not None:
            pending_id = pending.record(
                s,
                container_scan_id=cs_id,
                operation_id=op_id,
                container_id=container_id,
                enrichment_datastore_id=enrichment_info.datastore_id,
                prefix=enrichment_info.prefix,
                batch=batch,
            ).id
    return pending_id, len(resolved_ids)


def _enrich(db, pending_id: int | None, cs_id: int) -> str | None:
    """Write a container scan's recorded batch to the enrichment datastore (with retries).
    Returns None when written, else a note — also put on the container scan — that the
    rows are pending and will be written when the store is back."""
    if pending_id is None:
        return None
    error = pending.deliver(db, pending_id)
    if error is None:
        return None
    note = f"enrichment pending (written when the enrichment datastore is back): {error}"
    with db.session() as s:
        cs = s.get_one(ContainerScan, cs_id)
        cs.message = "; ".join(m for m in (cs.message, note) if m)
    return note


def _anomaly_partition(read: Read, finding: Finding, container_name: str) -> str:
    """The partition an anomaly belongs to: that of its source rows when they all fall in
    one, else the container's name."""
    names = {read.partition_of_row(row) for row in finding.raw_records} if finding.raw_records else set()
    if len(names) == 1 and None not in names:
        return str(names.pop())
    if len(read.partitions) == 1:
        return read.partitions[0].name
    return container_name


def _record_partitions(s, container: Container, cs_id: int, read: Read, findings: list[Finding]) -> None:
    """After a successful container scan: move the checkpoint to the highest identifier read
    (never back), upsert the partitions read, and record one partition scan per partition."""
    if read.identifier and read.high is not None:
        new = checkpoint_value(read.identifier_type, checkpoint_json(read.high))
        old = checkpoint_value(read.identifier_type, container.incremental_checkpoint)
        if old is None or new > old:
            container.incremental_checkpoint = checkpoint_json(read.high)
    # the partitions this read touched, not every partition the container ever had
    known = {
        p.name: p
        for names in _chunks(sorted({p.name for p in read.partitions}))
        for p in s.scalars(select(Partition).where(Partition.container_id == container.id, Partition.name.in_(names)))
    }
    anomalies_of: dict[str, list[int]] = {}
    for anomaly_id, partition_name in s.execute(
        select(Anomaly.id, Anomaly.partition_name).where(Anomaly.container_scan_id == cs_id).order_by(Anomaly.id)
    ):
        anomalies_of.setdefault(partition_name, []).append(anomaly_id)
    by_time = read.identifier_type == TIMESTAMP
    rows: list[Partition] = []
    for p in read.partitions:
        row = known.get(p.name)
        if row is None:
            row = known[p.name] = Partition(container_id=container.id, name=p.name)
            s.add(row)
        rows.append(row)
        row.location = p.location
        row.partition_size = p.records
        if read.identifier == LAST_MODIFIED:
            modified = dict(read.files or []).get(p.location or "")
            row.min_time = row.max_time = modified
        elif by_time:
            row.min_time, row.max_time = _as_utc(p.low), _as_utc(p.high)
        elif read.identifier_type == BATCH:
            row.min_offset = float(p.low) if p.low is not None else None
            row.max_offset = float(p.high) if p.high is not None else None
    s.flush()  # once: the new partitions' ids
    for p, row in zip(read.partitions, rows, strict=True):
        s.add(
            PartitionScan(
                container_scan_id=cs_id,
                partition_id=row.id,
                partition=p.name,
                records_processed=p.records,
                result="success",
                anomaly_ids=anomalies_of.get(p.name, []),
            )
        )


#: Values per ``IN (…)`` of a metadata query (SQLite allows 32,766 bound values; some builds 999).
_IN_CHUNK = 500


def _chunks(values: list) -> list[list]:
    """``values`` in lists of at most :data:`_IN_CHUNK` (none for no values)."""
    return [values[i : i + _IN_CHUNK] for i in range(0, len(values), _IN_CHUNK)]


def _as_utc(value):
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)
    return None


def _remediation(params, prefix, container, table, findings: list[Finding], uuids, partition_names, read: Read):
    """The remediation copy for ``append``/``overwrite``: the anomalous rows with all source
    columns plus ``_QUALYTICS_SOURCE_PARTITION`` (the row's partition, else its anomaly's) and
    ``ANOMALY_UUID``; None for ``none``."""
    import ibis

    mode = params.get("remediation") or "none"
    if mode == "none":
        return None
    source = dict(example_schema(table).items())  # the types of the rows it copies
    names = remediation_names(list(source))
    schema = ibis.schema(
        {
            **{names[name]: dtype for name, dtype in source.items()},
            "_QUALYTICS_SOURCE_PARTITION": "string",
            "ANOMALY_UUID": "string",
        }
    )
    rows = [
        {
            **{names.get(name, name): value for name, value in raw.items()},
            "_QUALYTICS_SOURCE_PARTITION": read.partition_of_row(raw) or partition,
            "ANOMALY_UUID": anomaly_uuid,
        }
        for finding, anomaly_uuid, partition in zip(findings, uuids, partition_names, strict=False)
        for raw in finding.raw_records
    ]
    return f"{prefix}_remediation_{container.id}", schema, rows, mode


#: The columns Assay adds to a remediation table (Qualytics' names).
REMEDIATION_COLUMNS = ("_QUALYTICS_SOURCE_PARTITION", "ANOMALY_UUID")


def remediation_names(columns: list[str]) -> dict[str, str]:
    """``{source column: its column in the remediation table}``.

    Enrichment engines compare column names without case (DuckDB, SQLite, MySQL), so a
    source column that equals, in any case, one of ``REMEDIATION_COLUMNS`` or an earlier
    source column is written as ``<name>_1`` (``_2``, … until the name is free): its values
    are kept beside the anomaly's ``ANOMALY_UUID`` instead of replacing it or failing the
    write. Every other column keeps its name. Deterministic, so every scan appends to the
    same columns."""
    taken = {name.lower() for name in REMEDIATION_COLUMNS}
    names: dict[str, str] = {}
    clashing: list[str] = []
    for name in columns:
        if name.lower() in taken:
            clashing.append(name)
        else:
            taken.add(name.lower())
            names[name] = name
    for name in clashing:
        n = 1
        while f"{name}_{n}".lower() in taken:
            n += 1
        names[name] = f"{name}_{n}"
        taken.add(names[name].lower())
    return {name: names[name] for name in columns}


def _enrichment_batch(
    op_id,
    params,
    container,
    ds_name,
    records,
    findings: list[Finding],
    uuids,
    check_meta,
    started,
    finished,
    message,
    result: str = "success",
    outcomes=(),
    partition_names: list[str] | None = None,
) -> EnrichmentBatch:
    """The enrichment rows of one container scan. ``partition_names``: each finding's partition
    (as the API reports it), written as ``SOURCE_PARTITION`` of its failed checks and source records."""
    batch = EnrichmentBatch()
    cap = params.get("max_records_analyzed_per_partition")
    batch.scan_operations.append(
        {
            "OPERATION_ID": op_id,
            "DATASTORE_ID": container.datastore_id,
            "CONTAINER_ID": container.id,
            "PARTITION_NAME": container.name,
            "INCREMENTAL": bool(params.get("incremental")),
            "RECORDS_PROCESSED": records,
            "ENRICHMENT_SOURCE_RECORD_LIMIT": int(params["enrichment_source_record_limit"]),
            "MAX_RECORDS_ANALYZED": -1 if cap is None else int(cap),
            "ANOMALY_COUNT": len(findings),
            "START_TIME": started,
            "END_TIME": finished,
            "RESULT": result,
            "MESSAGE": message,
        }
    )
    for out in outcomes:
        batch.check_metrics.append(
            {
                "OPERATION_ID": op_id,
                "CONTAINER_ID": container.id,
                "SOURCE_DATASTORE": ds_name,
                "SOURCE_CONTAINER": container.name,
                "SOURCE_PARTITION": container.name,
                "QUALITY_CHECK_ID": out.check_id,
                "ASSERTION_RESULT": out.result,
                "ASSERTION_DETAILS": out.error or out.message,
                "ASSERTED_RECORDS_COUNT": out.asserted,
                "ANOMALOUS_RECORDS_COUNT": out.failed,
                "_QUALYTICS_SOURCE_PARTITION": container.name,
            }
        )
    batch.key = (op_id, container.id)  # a repeated write replaces, never duplicates
    batch.anomaly_uuids = list(uuids)
    limit = int(params["enrichment_source_record_limit"])
    partition_names = partition_names or [container.name] * len(findings)
    for finding, anomaly_uuid, partition in zip(findings, uuids, partition_names, strict=False):
        for fc in finding.failed_checks:
            check = check_meta[fc.check_id]
            batch.failed_checks.append(
                {
                    "QUALITY_CHECK_ID": fc.check_id,
                    "ANOMALY_UUID": anomaly_uuid,
                    "QUALITY_CHECK_MESSAGE": fc.message,
                    "SUGGESTED_REMEDIATION_FIELD": None,
                    "SUGGESTED_REMEDIATION_VALUE": None,
                    "SUGGESTED_REMEDIATION_SCORE": None,
                    "QUALITY_CHECK_RULE_TYPE": check.rule_type,
                    "QUALITY_CHECK_TAGS": ",".join(check.tags or []),
                    "QUALITY_CHECK_PARAMETERS": to_json(check.properties or {}),
                    "QUALITY_CHECK_DESCRIPTION": check.description,
                    "QUALITY_CHECK_FIELDS": ",".join(check.fields or []),
                    "QUALITY_CHECK_METADATA": to_json(check.additional_metadata) if check.additional_metadata else None,
                    "ANOMALOUS_RECORDS_COUNT": fc.anomalous_records_count,
                    "OPERATION_ID": op_id,
                    "DETECTED_TIME": finished,
                    "SOURCE_DATASTORE": ds_name,
                    "SOURCE_CONTAINER": container.name,
                    "SOURCE_PARTITION": partition,
                    "FINGERPRINT": finding.fingerprint,
                }
            )
        for row in finding.source_records[:limit]:
            batch.source_records.append(
                {
                    "SOURCE_CONTAINER": container.name,
                    "SOURCE_PARTITION": partition,
                    "ANOMALY_UUID": anomaly_uuid,
                    "CONTEXT": finding.type,
                    "RECORD": to_json(row),
                }
            )
    return batch
