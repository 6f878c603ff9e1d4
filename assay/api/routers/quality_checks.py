"""/quality-checks: CRUD. Definitions are validated against the rule catalogue and the
container's fields before anything is stored (422 naming the field otherwise)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict

from ...engine.rules import CheckSpec, RuleDefinitionError, get_rule
from ...engine.validation import validate_check
from ...errors import ValidationError
from ...operations.dry_run import dry_run
from ...sources import SourceError
from ...store.models import Container, QualityCheck, QualityCheckTemplate, utcnow
from ...store.repo import ensure_idle, paginate, with_any_json_value
from ...store.repositories import checks as repo
from ...store.repositories import containers as container_repo
from ...store.repositories import favorites
from ...store.repositories import users as user_repo
from .. import responses as r
from .. import serializers as ser
from ..deps import PageDep, SessionDep, page_of
from ..routing import Route
from ..schemas import (
    CheckDryRun,
    QualityCheckCreate,
    QualityCheckUpdate,
    SavedCheckDryRun,
    TemplateCreate,
    TemplateUpdate,
    ToggleFavorite,
)

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
    owner_id: int | None = None,
    inferred: bool | None = None,
    field: Annotated[list[str] | None, Query()] = None,
    sort_created: Literal["asc", "desc"] | None = None,
) -> dict:
    """Checks, paged; filters ``datastore``, ``container`` (repeatable), ``status``
    (Active/Draft; ``Archived`` = archived ones), ``archived`` (only/include), ``tag``,
    ``rule_type``, ``owner_id``, ``template_locked`` (checks of locked / unlocked templates),
    ``inferred`` (inferred by a profile / authored), ``field`` (repeatable: checks on any of
    these field names); ``sort_created`` ``asc``/``desc`` orders by creation time (default:
    by id). ``template_only=true`` lists the check templates instead (``rule_type``,
    ``template_locked``)."""
    if template_only:
        rows, total, pages = paginate(session, repo.templates(rule_type, template_locked), page.page, page.size)
        counts = repo.template_check_counts(session, [t.id for t in rows])
        return page_of([template_json(t, counts.get(t.id, 0)) for t in rows], total, page, pages)
    stmt = repo.listing(
        datastore=datastore,
        containers=container,
        status=status,
        archived=archived,
        rule_types=rule_type,
        owner_id=owner_id,
        template_locked=template_locked,
        inferred=inferred,
        sort_created=sort_created,
    )
    if tag:  # in the query: total, pages and items count only the checks with a wanted tag
        stmt = with_any_json_value(session, stmt, QualityCheck, QualityCheck.tags, tag)
    if field:  # likewise: checks on any of these field names
        stmt = with_any_json_value(session, stmt, QualityCheck, QualityCheck.fields, field)
    rows, total, pages = paginate(session, stmt, page.page, page.size)
    anomaly_counts = repo.anomaly_counts(session, [r.id for r in rows])
    return page_of([ser.quality_check(r, anomaly_counts.get(r.id, 0)) for r in rows], total, page, pages)


#: What a locked template decides for its checks: its edits reach them, and a direct edit of
#: one of these on such a check is refused.
LOCKED_PROPERTIES = ("description", "coverage", "filter", "properties")


@router.get("/listing", response_model=list[r.QualityCheckListing])
def quality_check_listing(
    session: SessionDep,
    datastore: int | None = None,
    container: Annotated[list[int] | None, Query()] = None,
    status: str | None = None,
    rule_type: Annotated[list[str] | None, Query()] = None,
) -> list[dict]:
    """Every check matching the filters (as ``GET /quality-checks``), unpaged, in the short
    ``QualityCheckListing`` form. Registered before ``/{check_id}``."""
    stmt = repo.listing(datastore=datastore, containers=container, status=status, rule_types=rule_type)
    return [ser.quality_check_listing(q) for q in session.scalars(stmt)]


def _check_users(session, owner_id: int | None, assignee_id: int | None) -> None:
    """422 naming ``owner_id`` / ``default_anomaly_assignee_id`` for an unknown user."""
    if owner_id is not None:
        user_repo.existing_users(session, [owner_id], ("owner_id",))
    if assignee_id is not None:
        user_repo.existing_users(session, [assignee_id], ("default_anomaly_assignee_id",))


@router.post("", response_model=r.QualityCheck)
def create_check(body: QualityCheckCreate, session: SessionDep) -> dict:
    """Create a check. 404 for an unknown container; 422 for an unknown rule type, wrong
    fields or properties, a filter that is not one boolean SQL expression, an unknown
    ``template_id`` (or one of another rule type), or an unknown user as ``owner_id`` /
    ``default_anomaly_assignee_id``. A check made from a locked template takes the
    template's description, coverage, filter and properties (and its fields when none are given)."""
    container = container_repo.get(session, body.container_id)
    rule = get_rule(body.rule).name if _known(body.rule) else body.rule
    definition = {k: getattr(body, k) for k in (*LOCKED_PROPERTIES, "fields")}
    if body.template_id is not None:
        template = session.get(QualityCheckTemplate, body.template_id)
        if template is None:
            raise ValidationError(("template_id",), f"quality check template {body.template_id} does not exist")
        if template.rule_type != rule:
            raise RuleDefinitionError(("rule",), f"template {template.id} is a {template.rule_type} check, not {rule}")
        if template.template_locked:
            definition.update({k: getattr(template, k) for k in LOCKED_PROPERTIES})
        if not definition["fields"]:
            definition["fields"] = list(template.fields or [])
    fields, properties, filter_, coverage = (definition[k] for k in ("fields", "properties", "filter", "coverage"))
    validate_check(rule, fields, properties, filter_, _container_fields(container), coverage)
    _check_reference(session, container, rule, fields, properties)
    _check_users(session, body.owner_id, body.default_anomaly_assignee_id)
    check = QualityCheck(
        container_id=container.id,
        rule_type=rule,
        fields=fields,
        properties=properties or {},
        filter=filter_ or None,
        coverage=coverage,
        description=definition["description"],
        tags=body.tags,
        status=body.status,
        additional_metadata=body.additional_metadata,
        anomaly_message_field=body.anomaly_message_field,
        weight=body.weight if body.weight is not None else 1,
        template_id=body.template_id,
        owner_id=body.owner_id,
        default_anomaly_assignee_id=body.default_anomaly_assignee_id,
    )
    repo.add(session, check)
    session.refresh(check)
    return ser.quality_check(check, 0)


def _evaluate(
    request: Request,
    container: Container,
    spec: CheckSpec,
    max_records: int | None,
    examples: int,
    check_variables: dict | None,
) -> dict:
    """Dry run ``spec`` on ``container`` (``operations.dry_run``) with the scan variables
    ``check_variables``; a source that cannot be opened or read is a 422 naming ``container_id``."""
    ds = container.datastore
    try:
        out = dry_run(
            request.app.state.database,
            container.id,
            spec,
            max_records_analyzed_per_partition=max_records,
            high_count_rollup_threshold=ds.high_count_rollup_threshold,
            enrichment_source_record_limit=ds.enrichment_source_record_limit,
            example_limit=examples,
            check_variables=check_variables,
        )
    except SourceError as e:
        raise ValidationError(("container_id",), f"container {container.id} cannot be read: {e}") from None
    return {
        "quality_check_id": spec.id or None,
        "container_id": container.id,
        "rule_type": spec.rule_type,
        "result": out.result,
        "records_processed": out.records_processed,
        "asserted_records": out.asserted_records,
        "anomalous_records": out.anomalous_records,
        "message": out.message,
        "error": out.error,
        "read_message": out.read_message,
        "examples": out.examples,
        "anomalies": out.anomalies,
    }


@router.post("/dry-run", response_model=r.CheckDryRunResult)
def dry_run_check(body: CheckDryRun, session: SessionDep, request: Request) -> dict:
    """Assay extension (Qualytics publishes no dry-run path): evaluate an unsaved check
    definition on its container with the scan engine and answer what a scan would find
    (counts, failing rows, the anomalies it would record) without recording anything.
    The definition is validated as on create (404 unknown container, 422 bad definition)."""
    container = container_repo.get(session, body.container_id)
    rule = get_rule(body.rule).name if _known(body.rule) else body.rule
    validate_check(rule, body.fields, body.properties, body.filter, _container_fields(container), body.coverage)
    _check_reference(session, container, rule, body.fields, body.properties)
    spec = CheckSpec(0, rule, list(body.fields), dict(body.properties or {}), body.filter or None, body.coverage)
    return _evaluate(
        request, container, spec, body.max_records_analyzed_per_partition, body.example_limit, body.check_variables
    )


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


@router.post("/{check_id}/dry-run", response_model=r.CheckDryRunResult)
def dry_run_saved_check(
    check_id: int, session: SessionDep, request: Request, body: SavedCheckDryRun | None = None
) -> dict:
    """Assay extension: dry run a saved check (whatever its status) as :func:`dry_run_check`
    does; time-series checks compare with their own earlier measurements. Nothing is recorded."""
    body = body or SavedCheckDryRun()
    check = repo.get(session, check_id)
    spec = CheckSpec(
        check.id, check.rule_type, list(check.fields or []), dict(check.properties or {}), check.filter, check.coverage
    )
    return _evaluate(
        request,
        check.container,
        spec,
        body.max_records_analyzed_per_partition,
        body.example_limit,
        body.check_variables,
    )


@router.patch("/{check_id}/favorite", response_model=r.QualityCheck)
def update_favorite_check(check_id: int, body: ToggleFavorite, session: SessionDep) -> dict:
    """Mark (``{"favorite": true}``) or unmark a check as the caller's favourite: per user (another
    user's star is not changed nor seen), and not a change of the check (no activity entry)."""
    check = repo.get(session, check_id)
    favorites.set_favorite(session, check, body.favorite)
    return ser.quality_check(check, repo.anomaly_counts(session, [check_id]).get(check_id, 0))


def full_coverage(value: float | None) -> float:
    """A check's coverage with null read as 1.0 (every record), as the engine reads it."""
    return 1.0 if value is None else float(value)


def _refuse_locked(check: QualityCheck, body: QualityCheckUpdate) -> None:
    """422 naming the first locked property the update would change on a check of a locked template."""
    if check.template is None or not check.template.template_locked:
        return

    def norm(key: str, value):
        if key == "coverage":
            return full_coverage(value)
        return (value or {}) if key == "properties" else (None if value == "" else value)

    for key in LOCKED_PROPERTIES:
        if key in body.model_fields_set and norm(key, getattr(body, key)) != norm(key, getattr(check, key)):
            raise ValidationError(
                (key,),
                f"{key} is locked by quality check template {check.template_id}: "
                "edit the template (PUT /api/quality-check-templates/{id}) instead",
            )


@router.put("/{check_id}", response_model=r.QualityCheck)
def update_check(check_id: int, body: QualityCheckUpdate, session: SessionDep) -> dict:
    """Update a check; the result is validated as a whole, as on create. 422 naming the
    property for a change of a property its locked template decides (description,
    coverage, filter, properties), and naming ``owner_id`` / ``default_anomaly_assignee_id``
    for an unknown user."""
    check = repo.get(session, check_id)
    if body.container_id is not None and body.container_id != check.container_id:
        raise RuleDefinitionError(("container_id",), "a check cannot move to another container")
    if body.rule is not None and body.rule != check.rule_type:
        raise RuleDefinitionError(("rule",), "the rule type of a check cannot change")
    _refuse_locked(check, body)
    _check_users(session, body.owner_id, body.default_anomaly_assignee_id)
    sent = body.model_fields_set
    fields = body.fields if body.fields is not None else check.fields
    properties = body.properties if "properties" in sent else check.properties
    filter_ = body.filter if "filter" in sent else check.filter
    coverage = body.coverage if "coverage" in sent else check.coverage
    validate_check(check.rule_type, fields, properties, filter_, _container_fields(check.container), coverage)
    _check_reference(session, check.container, check.rule_type, fields, properties)
    if (list(fields or []), properties or {}, filter_ or None, full_coverage(coverage)) != (
        list(check.fields or []),
        check.properties or {},
        check.filter,
        full_coverage(check.coverage),
    ):
        check.inferred = False  # editing how an inferred check evaluates makes it authored (§1.3)
    check.fields, check.properties, check.filter, check.coverage = fields, properties or {}, filter_ or None, coverage
    for key in ("description", "tags", "additional_metadata", "status", "anomaly_message_field", "weight"):
        if key in sent and (getattr(body, key) is not None or key in ("description", "additional_metadata")):
            setattr(check, key, getattr(body, key))
    for key in ("owner_id", "default_anomaly_assignee_id"):  # null clears
        if key in sent:
            setattr(check, key, getattr(body, key))
    if "status" in sent and body.status in ("Active", "Draft"):
        check.deleted_at = None
    if body.favorite is not None:  # the caller's own star, as PATCH …/favorite
        favorites.set_favorite(session, check, body.favorite)
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


class CheckBulkUpdate(BaseModel):
    """One item of PUT /quality-checks (Qualytics' ``BulkUpdateQualityCheck``)."""

    model_config = ConfigDict(extra="ignore")
    id: int
    status: Literal["Active", "Draft", "Invalid", "Discarded"]
    delete_anomalies: bool = False


@router.put("", status_code=204)
def bulk_update_checks(body: list[CheckBulkUpdate], session: SessionDep) -> Response:
    """Set the status of several checks: ``[{id, status, delete_anomalies}]``. Active/Draft
    restores an archived check; Invalid/Discarded archives it (``delete_anomalies``: its
    anomalies are deleted too, as by DELETE). 404 if any id is unknown (nothing changes)."""
    for item in body:
        repo.get(session, item.id)
    for item in body:
        if item.status in ("Invalid", "Discarded"):
            delete_check(item.id, session, True, item.status, item.delete_anomalies)
        else:
            check = repo.get(session, item.id)
            check.status, check.deleted_at, check.last_updated = item.status, None, utcnow()
    return Response(status_code=204)


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


def template_json(t: QualityCheckTemplate, checks_count: int = 0) -> dict:
    return {
        "id": t.id,
        "created": ser.iso(t.created),
        "rule_type": t.rule_type,
        "fields": [{"name": f} for f in t.fields],
        "description": t.description,
        "coverage": ser.coverage(t.coverage),
        "filter": t.filter,
        "properties": t.properties,
        "global_tags": ser.tags(t.tags),
        "template_locked": t.template_locked,
        "is_template": True,
        "additional_metadata": t.additional_metadata,
        "anomaly_message_field": t.anomaly_message_field,
        "container": None,
        "status": "Active",
        "template_checks_count": checks_count,
    }


@templates.post("", response_model=r.QualityCheckTemplate)
def create_template(body: TemplateCreate, session: SessionDep) -> dict:
    """A reusable check definition independent of any container (rule, fields, properties
    validated against the catalogue; field names are checked when the template is applied)."""
    if not _known(body.rule):
        raise RuleDefinitionError(("rule",), f"unknown rule type '{body.rule}'")
    rule = get_rule(body.rule).name
    validate_check(rule, body.fields, body.properties, None, {}, body.coverage, fields_later=True)
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


@templates.get("", response_model=r.QualityCheckTemplatePage)
def list_templates(
    session: SessionDep,
    page: PageDep,
    rule_type: Annotated[list[str] | None, Query()] = None,
    template_locked: bool | None = None,
) -> dict:
    """Check templates by id, paged; filters ``rule_type`` (repeatable) and ``template_locked``
    (the same page as ``GET /quality-checks?template_only=true``)."""
    return list_checks(session, page, rule_type=rule_type, template_only=True, template_locked=template_locked)


@templates.get("/{template_id}", response_model=r.QualityCheckTemplate)
def get_template(template_id: int, session: SessionDep) -> dict:
    t = repo.get_template(session, template_id)
    return template_json(t, repo.template_check_counts(session, [t.id]).get(t.id, 0))


@templates.put("/{template_id}", response_model=r.QualityCheckTemplate)
def update_template(template_id: int, body: TemplateUpdate, session: SessionDep) -> dict:
    """Update a template. When it is (or becomes) locked, its checks take its description,
    coverage, filter and properties; each check is validated against its own container
    first, and a 422 naming the property and the check leaves everything unchanged."""
    t = repo.get_template(session, template_id)
    sent = body.model_fields_set
    new = {k: getattr(body, k) if k in sent else getattr(t, k) for k in LOCKED_PROPERTIES}
    validate_check(t.rule_type, t.fields, new["properties"], None, {}, new["coverage"], fields_later=True)
    locked = body.template_locked if body.template_locked is not None else t.template_locked
    checks = repo.of_template(session, t.id) if locked else []
    for check in checks:
        try:
            validate_check(
                check.rule_type,
                check.fields,
                new["properties"],
                new["filter"],
                _container_fields(check.container),
                new["coverage"],
            )
        except RuleDefinitionError as e:
            raise ValidationError(e.loc, f"quality check {check.id} of this template: {e}") from None
    t.description, t.coverage = new["description"], new["coverage"]
    t.filter, t.properties = new["filter"] or None, new["properties"] or {}
    if body.tags is not None:
        t.tags = body.tags
    if "additional_metadata" in sent:
        t.additional_metadata = body.additional_metadata
    t.template_locked = locked
    now = utcnow()
    for check in checks:
        for key in LOCKED_PROPERTIES:
            setattr(check, key, getattr(t, key))
        check.last_updated = now
    session.flush()
    return template_json(t, repo.template_check_counts(session, [t.id]).get(t.id, 0))
