"""Promote quality checks: copy check definitions from one container to another (same or
another datastore), as Qualytics' ``promote_quality_check`` operation does.

Queued with ``POST /api/operations/run`` ``{type: "promote_quality_check", datastore_id,
container_id, destination_container_id, check_ids? | check_tags?, check_additional_tags?,
as_draft = true}``; stored and listed as an operation of type ``promote``. For each source
check (``Active`` or ``Draft``, not archived; all of them, or ``check_ids``, or those
carrying any of ``check_tags``):

* **match** a destination check with the same rule type, fields, properties and filter
  (overlap matching; not archived);
* **skipped** when the match has the same description, coverage, weight and tags;
  **updated** (those four) when it differs; **created** when there is no match — as
  ``Draft`` with ``as_draft`` (the default), else ``Active`` when the definition is valid on
  the destination's fields;
* a check whose fields are not all on the destination, or whose definition is not valid
  there, is created as ``Draft`` with a warning (``message`` of its result).

Tags of a promoted check: the source check's plus ``check_additional_tags``. ``status``
counts ``total_checks``, ``checks_created``, ``checks_updated``, ``checks_skipped``,
``checks_warned`` and lists ``results``: ``{source_check_id, destination_check_id, action,
message}``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..domain import CheckStatus
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


def _same_definition(a: QualityCheck, b: QualityCheck) -> bool:
    return (
        a.rule_type == b.rule_type
        and list(a.fields or []) == list(b.fields or [])
        and (a.properties or {}) == (b.properties or {})
        and (a.filter or None) == (b.filter or None)
    )


def promote(session, params: dict[str, Any]) -> dict[str, Any]:
    """Promote the checks (module docstring); returns the ``status`` counters and results."""
    destination = session.get_one(Container, params["destination_container_id"])
    fields = {f.name: (f.type, f.native_type) for f in destination.fields}
    existing = list(
        session.scalars(
            select(QualityCheck).where(QualityCheck.container_id == destination.id, QualityCheck.deleted_at.is_(None))
        )
    )
    extra = list(params.get("check_additional_tags") or [])
    results = []
    for src in source_checks(session, params["container_id"], params.get("check_ids"), params.get("check_tags")):
        tags = list(dict.fromkeys([*(src.tags or []), *extra]))
        match = next((c for c in existing if _same_definition(c, src)), None)
        if match is not None:
            same = (match.description, match.coverage, match.weight, sorted(match.tags or [])) == (
                src.description,
                src.coverage,
                src.weight,
                sorted(tags),
            )
            if not same:
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
                    "message": None,
                }
            )
            continue
        warning = None
        missing = [f for f in src.fields or [] if f not in fields]
        if missing:
            warning = f"fields not on the destination container: {', '.join(missing)}"
        else:
            try:
                validate_check(src.rule_type, list(src.fields or []), src.properties, src.filter, fields, src.coverage)
            except Exception as e:  # noqa: BLE001 - any invalid definition is promoted as a draft
                warning = f"not valid on the destination: {e}"
        draft = bool(params.get("as_draft", True)) or warning is not None
        check = QualityCheck(
            container_id=destination.id,
            rule_type=src.rule_type,
            fields=list(src.fields or []),
            properties=dict(src.properties or {}),
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
