"""Profile: field statistics of the selected containers, then inferred checks.

Per container (in name order):

1. read the container as a scan would (``operations.incremental.plan_read``: honours
   ``greater_than_time`` / ``greater_than_batch`` for containers whose incremental
   identifier is of that kind, and ``max_records_analyzed_per_partition`` per partition),
   computed fields included; one grouped query counts the partitions read
   (``partitions_analyzed``);
2. ``engine.profile.profile_table``: one aggregate pass (+ count, sample, histograms);
   stored as a container profile with its field profiles;
3. when ``inference_threshold`` > 0 (level 0 computes statistics only and never touches a
   check): ``engine.inference.infer`` proposes checks up to that
   level, tests them on a hold-out set and verifies them on the rows read; then the
   container's inferred checks are synchronised:

   * a check is identified by container + rule + fields. An existing **inferred** check
     with that key is updated in place (properties, coverage) — never duplicated;
   * an **authored** check with that key (``inferred: false``, e.g. an inferred check a user
     edited through ``PUT /api/quality-checks/{id}``) is never touched, and no inferred
     twin is created;
   * new checks are created ``Active`` (``Draft`` with ``infer_as_draft``);
   * inferred checks of a level **above** this run's level that never produced an anomaly
     are archived (status ``Discarded``); those with anomalies are kept. A check archived
     that way comes back when a later profile at its level proposes it again; an inferred
     check a user archived does not;
   * inferred checks on a field the container no longer has (dropped at the source) are
     archived the same way (they come back when the field does and is proposed again);
   * inferred checks at or below the level that are no longer proposed because the data
     now breaks them STAY active: they are what catches the broken data (a scan, not a
     profile, decides whether the data still meets them).

A profile whose every container failed raises (the operation fails with the reasons, as a
scan); a resumed profile keeps the containers its earlier attempt finished (their counters
are recomputed from their container profiles) and profiles only the rest; at level 4 the
finished containers are profiled again, without being counted, for the reference rules.

Level 4: ``predictedBy`` is inferred with the container's other checks; ``existsIn``,
``notExistsIn`` and ``dataDiff`` need the other containers' profiles: at that level every
container is profiled first, then those are inferred from the profiles of this run and
verified against the referenced containers. ``expectedSchema`` (level 1) is identified by
rule alone, so a schema change updates its field list in place.

Counters: ``status.checks_added`` (new or restored), ``checks_updated`` (properties or
coverage changed; for ``expectedSchema`` also its fields), ``checks_synchronized``
(inferred checks the run confirmed: added, updated or unchanged); the same per container
on its container profile.

Sample sizes: the profile's sample holds at most ``MAX_SAMPLE_ROWS`` rows whatever
``max_count_testing_sample``; the hold-out set is a third of it, at most
``max_count_testing_sample`` rows.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from sqlalchemy import func, select

from ..domain import CheckStatus, OperationResult
from ..engine.inference import (
    REFERENCE_RULES,
    InferenceOptions,
    Proposal,
    check_key,
    check_level,
    infer,
    references_for,
    verify,
)
from ..engine.profile import ProfileOptions, profile_table
from ..security import datastore_secrets
from ..sources import SourceError, open_source
from ..store.db import Database
from ..store.models import (
    Anomaly,
    ComputedField,
    Container,
    ContainerProfile,
    FailedCheck,
    FieldProfile,
    Operation,
    QualityCheck,
    utcnow,
)
from .incremental import plan_read
from .progress import Aborted
from .resolver import ContainerResolver
from .scan import interrupt_on_abort, selected_containers, with_computed_fields

log = logging.getLogger(__name__)

#: Rows of the profile sample at most (training + hold-out).
MAX_SAMPLE_ROWS = 30_000
#: A field is a candidate key (an existsIn reference) from this approximate distinct ratio;
#: the check is verified exactly before it is kept.
KEY_RATIO = 0.9
#: Marks (in ``additional_metadata``) an inferred check archived by a profile, not by a user.
ARCHIVED_BY_PROFILE = "_assay_archived_by_profile"

DEFAULTS = {
    "max_count_testing_sample": 100_000,
    "percent_testing_threshold": 0.4,
    "high_correlation_threshold": 0.5,
    "histogram_max_distinct_values": 100,
}


def _param(params: dict[str, Any], key: str) -> Any:
    value = params.get(key)
    return DEFAULTS[key] if value is None else value


def run_profile(db: Database, op_id: int, should_abort) -> str | None:
    """Run profile operation ``op_id``; returns a warning or None. Raises SourceError, Aborted."""
    with db.session() as s:
        op = s.get_one(Operation, op_id)
        datastore = op.datastore
        assert datastore is not None  # (every sync/profile operation has one)
        secrets = datastore_secrets(db.secret_key, datastore)
        params = dict(op.params)
        containers = selected_containers(s, datastore.id, params.get("container_names"), params.get("container_tags"))
        ids = [c.id for c in containers]
        datastore_id = datastore.id
        op.container_ids = ids
        op.status = {**op.status, "total_containers": len(ids)}
    level = int(params.get("inference_threshold") or 0)
    testing = int(_param(params, "max_count_testing_sample"))
    profile_opts = ProfileOptions(
        histogram_max_distinct_values=int(_param(params, "histogram_max_distinct_values")),
        high_correlation_threshold=float(_param(params, "high_correlation_threshold")),
        sample_size=MAX_SAMPLE_ROWS,
    )
    infer_opts = InferenceOptions(
        level=level,
        percent_testing_threshold=float(_param(params, "percent_testing_threshold")),
        max_count_testing_sample=testing,
    )
    draft = bool(params.get("infer_as_draft"))
    read_params = {
        k: params.get(k) for k in ("greater_than_time", "greater_than_batch", "max_records_analyzed_per_partition")
    }
    # A resumed profile keeps what its earlier attempt finished and profiles only the rest
    # (its failed container profiles are replaced by this attempt's); the counters are
    # recomputed from the finished container profiles.
    with db.session() as s:
        earlier = list(
            s.scalars(
                select(ContainerProfile).where(ContainerProfile.operation_id == op_id).order_by(ContainerProfile.id)
            )
        )
        done = {cp.container_id: cp.id for cp in earlier if cp.result == OperationResult.SUCCESS}
        for cp in earlier:
            if cp.result != OperationResult.SUCCESS:
                s.delete(cp)
        if earlier:
            ok = [cp for cp in earlier if cp.result == OperationResult.SUCCESS]
            op = s.get_one(Operation, op_id)
            op.status = {
                **op.status,
                "containers_analyzed": len(ok),
                "records_processed": sum(cp.records_processed for cp in ok),
                "fields_profiled": sum(len(cp.field_profiles) for cp in ok),
                "checks_synchronized": sum(cp.checks_synchronized for cp in ok),
                "checks_added": sum(cp.checks_added for cp in ok),
                "checks_updated": sum(cp.checks_updated for cp in ok),
            }
    failures: list[str] = []
    attempted = 0
    profiled: list[tuple[int, int, Any, Any]] = []  # level 4: (container id, profile id, profile, table)
    with open_source(datastore, secrets) as source, interrupt_on_abort(source, should_abort):
        source.describe(f"assay profile operation {op_id} (datastore {datastore.name})")
        for container_id in ids:
            if should_abort():
                raise Aborted()
            if container_id in done and level < 4:
                continue
            with db.session() as s:
                container = s.get_one(Container, container_id)
                types = {f.name: f.type for f in container.fields}
                computed = [
                    (cf.name, cf.properties.get("column_expression"))
                    for cf in s.scalars(
                        select(ComputedField)
                        .where(ComputedField.container_id == container_id)
                        .order_by(ComputedField.id)
                    )
                ]
                s.expunge(container)
            records, stats, kept, partitions, table, prof = 0, {}, [], 0, None, None
            if container_id in done:  # level 4, resumed: its profile is needed for the references
                try:
                    table = with_computed_fields(plan_read(source, container, read_params).table, computed)
                    profiled.append(
                        (container_id, done[container_id], profile_table(table, types, profile_opts), table)
                    )
                except Exception:  # noqa: BLE001 - references are best effort
                    log.warning("profile of container %s for references failed", container.name, exc_info=True)
                continue
            attempted += 1
            try:
                read = plan_read(source, container, read_params)
                table = with_computed_fields(read.table, computed)
                read.measure()  # one grouped query: the partitions read
                partitions = read.partition_count
                prof = profile_table(table, types, profile_opts)
                records, stats = prof.records, prof.fields
                if level:
                    kept = infer(table, prof, infer_opts, container_id=container_id)
                result, message = OperationResult.SUCCESS, None
            except Aborted:
                raise
            except Exception as e:  # noqa: BLE001 - reported on that container, the rest go on
                if should_abort():  # its queries were cancelled by an abort: nothing is recorded
                    raise Aborted() from e
                log.warning("profile of container %s failed", container.name, exc_info=True)
                result = OperationResult.FAILURE
                message = str(e).splitlines()[0] if str(e) else type(e).__name__
                failures.append(f"{container.name}: {message}")
            with db.session() as s:
                counts = (0, 0, 0)
                if result == OperationResult.SUCCESS and level > 0:  # level 0: statistics only, checks untouched
                    assert table is not None  # read when the profile succeeded
                    counts = sync_checks(s, container_id, kept, level, draft, op_id, fields=list(table.columns))
                profile = ContainerProfile(
                    operation_id=op_id,
                    container_id=container_id,
                    records_count=records,
                    records_processed=records,
                    result=result,
                    message=message,
                    checks_synchronized=counts[0],
                    checks_added=counts[1],
                    checks_updated=counts[2],
                )
                profile.field_profiles = [
                    FieldProfile(container_id=container_id, field_name=name, statistics=values)
                    for name, values in stats.items()
                ]
                s.add(profile)
                s.flush()
                if result == OperationResult.SUCCESS and level >= 4:
                    profiled.append((container_id, profile.id, prof, table))
                _count(
                    s,
                    op_id,
                    containers=1,
                    partitions=partitions if result == OperationResult.SUCCESS else 0,
                    records=records,
                    fields=len(stats),
                    counts=counts,
                )

        if level >= 4 and profiled:
            _references(db, op_id, source, datastore_id, profiled, infer_opts, draft, level, should_abort)
    if attempted and len(failures) == attempted:
        raise SourceError("every container profile failed: " + "; ".join(failures))
    return "; ".join(failures) if failures else None


def _references(db, op_id, source, datastore_id, profiled, infer_opts, draft, level, should_abort) -> None:
    """Level 4, after every container was profiled: ``existsIn`` against key fields
    (complete and distinct) of the other profiled containers, ``notExistsIn`` and
    ``dataDiff`` against the other profiled containers, verified on the data."""
    keys = []
    with db.session() as s:
        names = {c.id: c.name for c in s.scalars(select(Container).where(Container.datastore_id == datastore_id))}
    for cid, _pid, prof, _t in profiled:
        for fname, st in prof.raw.items():
            if (
                st.get("completeness") == 1
                and (st.get("unique_distinct_ratio") or 0) >= KEY_RATIO
                and prof.types.get(fname) in ("Integral", "String")
            ):
                keys.append((cid, names.get(cid, str(cid)), fname, prof.types[fname]))
    others = [(cid, names.get(cid, str(cid)), prof) for cid, _pid, prof, _t in profiled]
    with contextlib.closing(ContainerResolver(db, source, datastore_id)) as resolver:
        for cid, pid, prof, table in profiled:
            if should_abort():
                raise Aborted()
            opts = InferenceOptions(
                **{
                    **infer_opts.__dict__,
                    "references": keys,
                    "others": others,
                    "container_name": names.get(cid, str(cid)),
                }
            )
            try:
                kept = verify(table, references_for(prof, opts, cid), resolver)
            except Exception:  # noqa: BLE001 - references are best effort per container
                log.warning("reference inference of container %s failed", cid, exc_info=True)
                continue
            with db.session() as s:
                counts = sync_checks(s, cid, kept, level, draft, op_id, rules=REFERENCE_RULES)
                cp = s.get(ContainerProfile, pid)
                cp.checks_synchronized += counts[0]
                cp.checks_added += counts[1]
                cp.checks_updated += counts[2]
                _count(s, op_id, counts=counts)


def _count(
    s,
    op_id: int,
    containers: int = 0,
    partitions: int = 0,
    records: int = 0,
    fields: int = 0,
    counts: tuple[int, int, int] = (0, 0, 0),
) -> None:
    op = s.get_one(Operation, op_id)
    st = dict(op.status)
    for key, n in (
        ("containers_analyzed", containers),
        ("partitions_analyzed", partitions),
        ("records_processed", records),
        ("fields_profiled", fields),
        ("checks_synchronized", counts[0]),
        ("checks_added", counts[1]),
        ("checks_updated", counts[2]),
    ):
        st[key] = st.get(key, 0) + n
    op.status = st
    op.heartbeat = utcnow()


def sync_checks(
    s,
    container_id: int,
    kept: list[Proposal],
    level: int,
    draft: bool,
    op_id: int,
    rules: tuple[str, ...] | None = None,
    fields: list[str] | None = None,
) -> tuple[int, int, int]:
    """Apply the inferred checks ``kept`` to the container's checks (see the module docstring).

    ``rules``: only these rule types are synchronised and considered for archiving (None: all).
    ``fields``: the container's fields as read; inferred checks on a field not among them
    (dropped at the source) are archived (None: not checked).
    Returns: (synchronized, added, updated).
    """
    existing = list(
        s.scalars(select(QualityCheck).where(QualityCheck.container_id == container_id).order_by(QualityCheck.id))
    )
    by_key: dict[tuple, list[QualityCheck]] = {}
    for c in existing:
        by_key.setdefault(check_key(c.rule_type, c.fields), []).append(c)
    synchronized = added = updated = 0
    now = utcnow()
    for p in kept:
        matches = by_key.get(p.key, [])
        if any(not c.inferred and c.deleted_at is None for c in matches):
            continue  # a user owns this check
        live = [c for c in matches if c.inferred and c.deleted_at is None]
        restorable = [
            c
            for c in matches
            if c.inferred and c.deleted_at is not None and (c.additional_metadata or {}).get(ARCHIVED_BY_PROFILE)
        ]
        if live or restorable:
            c = (live or restorable)[0]
            changed = (
                (c.properties or {}) != p.properties
                or c.coverage != p.coverage
                or list(c.fields or []) != list(p.fields)
            )
            if changed:
                c.properties, c.coverage, c.last_updated = dict(p.properties), p.coverage, now
                c.fields = list(p.fields)
            if not live:
                c.deleted_at = None
                c.status = CheckStatus.DRAFT if draft else CheckStatus.ACTIVE
                meta = dict(c.additional_metadata or {})
                meta.pop(ARCHIVED_BY_PROFILE, None)
                c.additional_metadata = meta or None
                added += 1
            elif changed:
                updated += 1
            synchronized += 1
            continue
        if any(c.inferred for c in matches):
            continue  # archived by a user: not brought back
        s.add(
            QualityCheck(
                container_id=container_id,
                rule_type=p.rule,
                fields=list(p.fields),
                properties=dict(p.properties),
                coverage=p.coverage,
                inferred=True,
                status=CheckStatus.DRAFT if draft else CheckStatus.ACTIVE,
                description=p.description or f"Inferred by profile operation {op_id}",
            )
        )
        added += 1
        synchronized += 1
    # archive inferred checks on fields the container no longer has (not re-proposed)
    if fields is not None:
        present, proposed = set(fields), {p.key for p in kept}
        for c in existing:
            if (
                c.inferred
                and c.deleted_at is None
                and check_key(c.rule_type, c.fields) not in proposed
                and (rules is None or c.rule_type in rules)
                and any(f not in present for f in (c.fields or []))
            ):
                c.deleted_at, c.status = now, CheckStatus.DISCARDED
                c.additional_metadata = {**(c.additional_metadata or {}), ARCHIVED_BY_PROFILE: op_id}
    # archive inferred checks above this run's level that never produced an anomaly
    above = [
        c
        for c in existing
        if c.inferred
        and c.deleted_at is None
        and check_level(c.rule_type, c.coverage) > level
        and (rules is None or c.rule_type in rules)
    ]
    if above:
        with_anomalies = set(
            s.scalars(
                select(FailedCheck.quality_check_id)
                .join(Anomaly, Anomaly.id == FailedCheck.anomaly_id)
                .where(FailedCheck.quality_check_id.in_([c.id for c in above]))
                .group_by(FailedCheck.quality_check_id)
                .having(func.count() > 0)
            )
        )
        for c in above:
            if c.id not in with_anomalies:
                c.deleted_at, c.status = now, CheckStatus.DISCARDED
                c.additional_metadata = {**(c.additional_metadata or {}), ARCHIVED_BY_PROFILE: op_id}
    s.flush()
    return synchronized, added, updated
