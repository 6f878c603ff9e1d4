"""Promote quality checks: copy check definitions from one container to another (same or
another datastore), as Qualytics' ``promote_quality_check`` operation does.

Queued with ``POST /api/operations/run`` ``{type: "promote_quality_check", datastore_id,
container_id, destination_container_id, check_ids? | check_tags?, check_additional_tags?,
as_draft = true}``; stored and listed as an operation of type ``promote``. For each source
check (``Active`` or ``Draft``, not archived; all of them, or ``check_ids``, or those
carrying any of ``check_tags``):

* **match**, as Qualytics' entity matching does: first the destination check an earlier
  successful promotion of this source check to this destination container created, updated
  or skipped (the ``results`` of those promote operations; Qualytics keeps the created and
  updated links, Assay the skipped ones too, so a check first matched to an authored one keeps
  following it), when it is not archived; else a check with the same rule type, fields,
  properties and filter (overlap matching; not archived);
* **skipped** when the match has the same definition (fields, properties, filter), description,
  coverage, weight and tags; **updated** to the source's when any differs (a source or a
  destination copy edited since: re-promoting updates it in place, never a second copy; an
  updated definition that does not fit the destination makes it a ``Draft`` with a warning);
  **created** when there is no match — as ``Draft`` with ``as_draft`` (the default), else
  ``Active`` when the definition is valid on the destination's fields;
* a check whose fields are not all on the destination, or whose definition is not valid
  there, is created as ``Draft`` with a warning (``message`` of its result).

References of cross-container checks (``existsIn``, ``dataDiff``, …) promoted to a container of
another datastore: a reference inside the source datastore (``ref_datastore_id`` unset or the
source's) is remapped to the container of the same name in the destination's datastore; when
there is none it keeps reading the source's container (``ref_datastore_id`` made explicit) and
the check is a warned Draft. A reference to any other datastore is kept exactly as it is.

Tags of a promoted check: the source check's plus ``check_additional_tags``. ``status``
counts ``total_checks``, ``checks_created``, ``checks_updated``, ``checks_skipped``,
``checks_warned`` and lists ``results``: ``{source_check_id, destination_check_id, action,
message}``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..domain import CheckStatus, OperationResult
from ..engine.rules import get_rule
from ..engine.validation import validate_check
from ..store.models import Container, Operation, QualityCheck

PROMOTABLE = (CheckStatus.ACTIVE, CheckStatus.DRAFT)


def source_checks(session, container_id: int, check_ids: list[int] | None, check_tags: list[str] | None):
    """The checks a promotion copies (see the module docstring), by id."""
    stmt = select(QualityCheck).where(
        QualityCheck.container_id == container_id,
        QualityCheck.deleted_at.is_(None),
        QualityCheck.status.in_(PROMOTABLE),
    )
    if check_ids:
        stmt = stmt.where(QualityCheck.id.in_(check_ids))
    checks = list(session.scalars(stmt.order_by(QualityCheck.id)))
    if check_tags:
        wanted = set(check_tags)
        checks = [c for c in checks if wanted & set(c.tags or [])]
    return checks


def _same_definition(a: QualityCheck, b: QualityCheck, b_properties: dict) -> bool:
    """``a`` has ``b``'s definition, ``b`` having ``b_properties`` (retargeted) at the destination."""
    return (
        a.rule_type == b.rule_type
        and list(a.fields or []) == list(b.fields or [])
        and (a.properties or {}) == b_properties
        and (a.filter or None) == (b.filter or None)
    )


def _retarget(session, src: QualityCheck, source_ds: int, destination_ds: int) -> tuple[dict, str | None]:
    """(properties, warning) of ``src`` promoted into datastore ``destination_ds`` (module
    docstring: only references inside the source datastore are remapped)."""
    props = dict(src.properties or {})
    try:
        needs_reference = get_rule(src.rule_type).needs_reference
    except KeyError:
        return props, None
    if not needs_reference or source_ds == destination_ds or props.get("ref_container_id") is None:
        return props, None
    explicit = props.get("ref_datastore_id")
    if explicit is not None and int(explicit) != source_ds:
        return props, None  # another datastore's container: the same wherever the check lives
    ref = session.get(Container, int(props["ref_container_id"]))
    twin = (
        session.scalar(
            select(Container).where(
                Container.datastore_id == destination_ds, Container.name == ref.name, Container.deleted_at.is_(None)
            )
        )
        if ref is not None
        else None
    )
    if twin is None:
        props["ref_datastore_id"] = source_ds
        return props, (
            f"no container named '{ref.name if ref else props['ref_container_id']}' in datastore {destination_ds}: "
            f"the reference stays container {props['ref_container_id']} of datastore {source_ds}"
        )
    props["ref_container_id"] = twin.id
    if explicit is not None:
        props["ref_datastore_id"] = destination_ds
    return props, None


def previous_links(session, destination_id: int) -> dict[int, int]:
    """Source check id → destination check id of the earlier successful promotions to container
    ``destination_id`` (the latest link of a source check wins)."""
    links: dict[int, int] = {}
    ops = session.scalars(
        select(Operation)
        .where(Operation.type == "promote", Operation.result == OperationResult.SUCCESS)
        .order_by(Operation.id)
    )
    for op in ops:
        if (op.params or {}).get("destination_container_id") != destination_id:
            continue
        for r in (op.status or {}).get("results") or []:
            if r.get("destination_check_id") is not None:
                links[int(r["source_check_id"])] = int(r["destination_check_id"])
    return links


def _problem(src: QualityCheck, properties: dict, fields: dict, reference_warning: str | None) -> str | None:
    """Why ``src`` with ``properties`` does not fit a container of ``fields``, or None."""
    missing = [f for f in src.fields or [] if f not in fields]
    if missing:
        return f"fields not on the destination container: {', '.join(missing)}"
    if reference_warning is not None:
        return reference_warning
    try:
        validate_check(src.rule_type, list(src.fields or []), properties, src.filter, fields, src.coverage)
    except Exception as e:  # noqa: BLE001 - any invalid definition is promoted as a draft
        return f"not valid on the destination: {e}"
    return None


def promote(session, params: dict[str, Any]) -> dict[str, Any]:
    """Promote the checks (module docstring); returns the ``status`` counters and results."""
    destination = session.get_one(Container, params["destination_container_id"])
    links = previous_links(session, destination.id)
    fields = {f.name: (f.type, f.native_type) for f in destination.fields}
    existing = list(
        session.scalars(
            select(QualityCheck).where(QualityCheck.container_id == destination.id, QualityCheck.deleted_at.is_(None))
        )
    )
    extra = list(params.get("check_additional_tags") or [])
    source_ds = session.get_one(Container, params["container_id"]).datastore_id
    results = []
    for src in source_checks(session, params["container_id"], params.get("check_ids"), params.get("check_tags")):
        tags = list(dict.fromkeys([*(src.tags or []), *extra]))
        properties, reference_warning = _retarget(session, src, source_ds, destination.datastore_id)
        linked = links.get(src.id)
        match = next((c for c in existing if c.id == linked and c.rule_type == src.rule_type), None)
        if match is None:
            match = next((c for c in existing if _same_definition(c, src, properties)), None)
        if match is not None:
            same = _same_definition(match, src, properties) and (
                match.description,
                match.coverage,
                match.weight,
                sorted(match.tags or []),
            ) == (src.description, src.coverage, src.weight, sorted(tags))
            warning = None
            if not same:
                if not _same_definition(match, src, properties):
                    warning = _problem(src, properties, fields, reference_warning)
                    match.fields, match.properties, match.filter = list(src.fields or []), properties, src.filter
                    match.inferred = False
                    if warning is not None:
                        match.status = CheckStatus.DRAFT
                match.description, match.coverage, match.weight, match.tags = (
                    src.description,
                    src.coverage,
                    src.weight,
                    tags,
                )
            results.append(
                {
                    "source_check_id": src.id,
                    "destination_check_id": match.id,
                    "action": "skipped" if same else "updated",
                    "message": warning,
                }
            )
            continue
        warning = _problem(src, properties, fields, reference_warning)
        draft = bool(params.get("as_draft", True)) or warning is not None
        check = QualityCheck(
            container_id=destination.id,
            rule_type=src.rule_type,
            fields=list(src.fields or []),
            properties=properties,
            filter=src.filter,
            coverage=src.coverage,
            description=src.description,
            tags=tags,
            status=CheckStatus.DRAFT if draft else CheckStatus.ACTIVE,
            additional_metadata=src.additional_metadata,
            anomaly_message_field=src.anomaly_message_field,
            weight=src.weight,
            inferred=False,
        )
        session.add(check)
        session.flush()
        existing.append(check)
        results.append(
            {"source_check_id": src.id, "destination_check_id": check.id, "action": "created", "message": warning}
        )
    return {
        "total_checks": len(results),
        "checks_created": sum(r["action"] == "created" for r in results),
        "checks_updated": sum(r["action"] == "updated" for r in results),
        "checks_skipped": sum(r["action"] == "skipped" for r in results),
        "checks_warned": sum(r["message"] is not None for r in results),
        "results": results,
    }


def run_promote(db, op_id: int, should_abort) -> str | None:
    """Run promote operation ``op_id`` in one transaction: all of it or nothing. Returns a
    warning naming the checks promoted as drafts because they do not fit the destination."""
    with db.session() as s:
        op = s.get_one(Operation, op_id)
        status = promote(s, dict(op.params))
        op.status = {**(op.status or {}), **status}
        warned = [r for r in status["results"] if r["message"]]
    if warned:
        return "; ".join(f"check {r['source_check_id']} promoted as draft: {r['message']}" for r in warned)
    return None
