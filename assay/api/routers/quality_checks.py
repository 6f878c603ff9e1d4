"""/quality-checks: CRUD. Definitions are validated against the rule catalogue and the
container's fields before anything is stored (422 naming the field otherwise)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict

from ...engine.rules import RuleDefinitionError, get_rule
from ...engine.validation import validate_check
from ...store.models import Container, QualityCheck, QualityCheckTemplate, utcnow
from ...store.repo import ensure_idle, paginate
from ...store.repositories import checks as repo
from ...store.repositories import containers as container_repo
from .. import responses as r
from .. import serializers as ser
from ..deps import PageDep, SessionDep, page_of
from ..routing import Route
from ..schemas import QualityCheckCreate, QualityCheckUpdate, TemplateCreate

router = APIRouter(prefix="/quality-checks", tags=["quality-checks"], route_class=Route)


@router.get("/specifications/rules", response_model=list[r.RuleSpecification])
def rule_specifications(session: SessionDep) -> list[dict]:
    """The rule catalogue, generated from the registered rule classes
    (``engine.rules.catalogue.specifications``); ``count`` = non-archived checks of each type.
    Registered before ``/{check_id}`` so ``specifications`` is never read as an id."""
    from ...engine.rules.catalogue import specifications

    return specifications(repo.counts_by_rule_type(session))


def _container_fields(container: Container) -> dict[str, tuple[str, str]]:
    return {f.name: (f.type, f.native_type) for f in container.fields}


@router.get("", response_model=r.QualityCheckPage | r.QualityCheckTemplatePage)
def list_checks(
    session: SessionDep,
    page: PageDep,
    datastore: int | None = None,
    container: Annotated[list[int] | None, Query()] = None,
    status: str | None = None,
    archived: str | None = None,
    tag: Annotated[list[str] | None, Query()] = None,
    rule_type: Annotated[list[str] | None, Query()] = None,
    template_only: bool = False,
    template_locked: bool | None = None,
) -> dict:
    """Checks, paged; filters ``datastore``, ``container`` (repeatable), ``status``
    (Active/Draft; ``Archived`` = archived ones), ``archived`` (only/include), ``tag``, ``rule_type``;
    with ``template_only`` the check templates instead, filtered by ``rule_type`` and ``template_locked``."""
    if template_only:
        rows, total, pages = paginate(session, repo.templates(rule_type, template_locked), page.page, page.size)
        return page_of([template_json(t) for t in rows], total, page, pages)
    stmt = repo.listing(
        datastore=datastore, containers=container, status=status, archived=archived, rule_types=rule_type
    )
    rows, total, pages = paginate(session, stmt, page.page, page.size)
    if tag:
        wanted = set(tag)
        rows = [r for r in rows if wanted & set(r.tags or [])]
    counts = repo.anomaly_counts(session, [r.id for r in rows])
    return page_of([ser.quality_check(r, counts.get(r.id, 0)) for r in rows], total, page, pages)


@router.post("", response_model=r.QualityCheck)
def create_check(body: QualityCheckCreate, session: SessionDep) -> dict:
    """Create a check. 404 for an unknown container; 422 for an unknown rule type, wrong
    fields or properties, or a filter that is not one boolean SQL expression."""
    container = container_repo.get(session, body.container_id)
    rule = get_rule(body.rule).name if _known(body.rule) else body.rule
    validate_check(rule, body.fields, body.properties, body.filter, _container_fields(container), body.coverage)
    _check_reference(session, container, rule, body.fields, body.properties)
    check = QualityCheck(
        container_id=container.id,
        rule_type=rule,
        fields=body.fields,
        properties=body.properties or {},
        filter=body.filter or None,
        coverage=body.coverage,
        description=body.description,
        tags=body.tags,
        status=body.status,
        additional_metadata=body.additional_metadata,
        anomaly_message_field=body.anomaly_message_field,
        weight=body.weight if body.weight is not None else 1,
    )
    repo.add(session, check)
    session.refresh(check)
    return ser.quality_check(check, 0)


def _check_reference(session, container: Container, rule: str, fields: list[str], properties: dict | None) -> None:
    """For a cross-container rule: the reference container exists (in ``ref_datastore_id``
    when given, else in the check's datastore), and the reference fields it names exist.

    Raises: RuleDefinitionError naming ``properties.ref_container_id`` /
    ``properties.ref_datastore_id`` / ``properties.field_name``.
    """
    if not get_rule(rule).needs_reference:
        return
    props = properties or {}
    ref = container_repo.find(session, props.get("ref_container_id"))
    datastore_id = props.get("ref_datastore_id") or container.datastore_id
    if ref is None or ref.deleted_at is not None:
        raise RuleDefinitionError(
            ("properties", "ref_container_id"), f"container {props.get('ref_container_id')} does not exist"
        )
    if ref.datastore_id != datastore_id:
        raise RuleDefinitionError(
            ("properties", "ref_datastore_id"), f"container {ref.id} ({ref.name}) is not in datastore {datastore_id}"
        )
    ref_fields = {f.name for f in ref.fields}  # empty: the reference is not synced yet
    name = props.get("field_name")
    if isinstance(name, str) and ref_fields and name not in ref_fields:
        raise RuleDefinitionError(
            ("properties", "field_name"), f"field '{name}' does not exist in container {ref.name}"
        )


def _known(name: str) -> bool:
    try:
        get_rule(name)
        return True
    except KeyError:
        return False


@router.get("/{check_id}", response_model=r.QualityCheck)
def get_check(check_id: int, session: SessionDep) -> dict:
    check = repo.get(session, check_id)
    return ser.quality_check(check, repo.anomaly_counts(session, [check_id]).get(check_id, 0))


@router.put("/{check_id}", response_model=r.QualityCheck)
def update_check(check_id: int, body: QualityCheckUpdate, session: SessionDep) -> dict:
    """Update a check; the result is validated as a whole, as on create."""
    check = repo.get(session, check_id)
    if body.container_id is not None and body.container_id != check.container_id:
        raise RuleDefinitionError(("container_id",), "a check cannot move to another container")
    if body.rule is not None and body.rule != check.rule_type:
        raise RuleDefinitionError(("rule",), "the rule type of a check cannot change")
    sent = body.model_fields_set
    fields = body.fields if body.fields is not None else check.fields
    properties = body.properties if "properties" in sent else check.properties
    filter_ = body.filter if "filter" in sent else check.filter
    coverage = body.coverage if "coverage" in sent else check.coverage
    validate_check(check.rule_type, fields, properties, filter_, _container_fields(check.container), coverage)
    _check_reference(session, check.container, check.rule_type, fields, properties)
    if (list(fields or []), properties or {}, filter_ or None, coverage) != (
        list(check.fields or []),
        check.properties or {},
        check.filter,
        check.coverage,
    ):
        check.inferred = False  # editing how an inferred check evaluates makes it authored (§1.3)
    check.fields, check.properties, check.filter, check.coverage = fields, properties or {}, filter_ or None, coverage
    for key in ("description", "tags", "additional_metadata", "status", "anomaly_message_field", "weight"):
        if key in sent and (getattr(body, key) is not None or key in ("description", "additional_metadata")):
            setattr(check, key, getattr(body, key))
    if "status" in sent and body.status in ("Active", "Draft"):
        check.deleted_at = None
    check.last_updated = utcnow()
    session.flush()
    return ser.quality_check(check, repo.anomaly_counts(session, [check_id]).get(check_id, 0))


@router.delete("/{check_id}", status_code=204)
def delete_check(
    check_id: int,
    session: SessionDep,
    archive: bool = True,
    status: Literal["Invalid", "Discarded"] = "Discarded",
    delete_anomalies: bool = False,
) -> Response:
    """Archive (``archive=true``, status Invalid or Discarded) or delete a check."""
    check = repo.get(session, check_id)
    if not archive or delete_anomalies:
        ensure_idle(session, check.container.datastore_id, f"delete quality check {check_id}")
    if delete_anomalies:
        for anomaly in repo.anomalies_of(session, check_id):
            session.delete(anomaly)
    if archive:
        check.deleted_at, check.status = utcnow(), status
    else:
        session.delete(check)
    return Response(status_code=204)


class CheckBulkDelete(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: int
    archive: bool = True
    status: Literal["Invalid", "Discarded"] = "Discarded"
    delete_anomalies: bool = False


@router.delete("", status_code=204)
def bulk_delete_checks(body: list[CheckBulkDelete], session: SessionDep) -> Response:
    """Archive or delete several checks: ``[{id, archive, status, delete_anomalies}]``;
    404 if any id is unknown (nothing changes)."""
    for item in body:
        repo.get(session, item.id)
    for item in body:
        delete_check(item.id, session, item.archive, item.status, item.delete_anomalies)
    return Response(status_code=204)


templates = APIRouter(prefix="/quality-check-templates", tags=["quality-checks"], route_class=Route)


def template_json(t: QualityCheckTemplate) -> dict:
    return {
        "id": t.id,
        "created": ser.iso(t.created),
        "rule_type": t.rule_type,
        "fields": [{"name": f} for f in t.fields],
        "description": t.description,
        "coverage": t.coverage,
        "filter": t.filter,
        "properties": t.properties,
        "global_tags": ser.tags(t.tags),
        "template_locked": t.template_locked,
        "is_template": True,
        "additional_metadata": t.additional_metadata,
        "anomaly_message_field": t.anomaly_message_field,
        "container": None,
        "status": "Active",
        "template_checks_count": 0,
    }


@templates.post("", response_model=r.QualityCheckTemplate)
def create_template(body: TemplateCreate, session: SessionDep) -> dict:
    """A reusable check definition independent of any container (rule, fields, properties
    validated against the catalogue; field names are checked when the template is applied)."""
    if not _known(body.rule):
        raise RuleDefinitionError(("rule",), f"unknown rule type '{body.rule}'")
    rule = get_rule(body.rule).name
    validate_check(rule, body.fields, body.properties, None, {}, body.coverage)
    t = QualityCheckTemplate(
        rule_type=rule,
        fields=body.fields,
        properties=body.properties or {},
        filter=body.filter or None,
        coverage=body.coverage,
        description=body.description,
        tags=body.tags,
        template_locked=body.template_locked,
        additional_metadata=body.additional_metadata,
        anomaly_message_field=body.anomaly_message_field,
    )
    repo.add(session, t)
    return template_json(t)
