"""Who may call what: the one table of every route's permission, and its enforcement.

Two layers (the Qualytics model):

* the **platform role** of the user, Member < Manager < Admin (``Rule.role``: the least
  role the route needs);
* the **team permission** on the datastore the request is about, Reporter < Viewer <
  Drafter < Author < Editor (``Rule.permission``), found as ``Rule.find`` says: a path or
  query parameter or a body field holding the id of a datastore, container, check, anomaly,
  operation, schedule… (``Find``). Admins bypass team permissions.

``POLICY`` maps each route's operation id (its handler's name) to its ``Rule``. The app
adds :func:`enforce` to every protected route; a route without an entry answers 403 to all
but Admins (fail closed, also for routes left out of the OpenAPI document), and
``tests/security/test_policy.py`` fails naming the entry to add. An id of a
datastore none of the user's teams holds (or of anything in it) answers 404 with the same
message as an id that does not exist; a visible one with too weak a permission answers 403.
Listings need no entry detail: the request's session is team-scoped
(``store/repositories/scope.py``), so a list only ever holds the user's teams' rows.

``docs/permissions.md`` is generated from this table: ``python scripts/permissions_table.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy import select

from ..errors import NotFound
from ..security import AuthError, verify_token
from ..store.models import (
    Anomaly,
    Comment,
    ComputedField,
    Container,
    ContainerProfile,
    ContainerScan,
    Datastore,
    Field,
    FieldProfile,
    Operation,
    Partition,
    QualityCheck,
    Schedule,
    User,
)
from ..store.repositories.scope import Scope, permission_rank, role_rank, scope_of
from .auth import bearer

# -- how a request names its datastore ------------------------------------------------------

# what an id names → (label in the 404 message, the select of its datastore id)
_KINDS: dict[str, tuple[str, Any]] = {
    "datastore": ("Datastore", lambda i: select(Datastore.id).where(Datastore.id == i)),
    "container": ("Container", lambda i: select(Container.datastore_id).where(Container.id == i)),
    "check": (
        "Quality check",
        lambda i: select(Container.datastore_id).join(QualityCheck.container).where(QualityCheck.id == i),
    ),
    "anomaly": ("Anomaly", lambda i: select(Anomaly.datastore_id).where(Anomaly.id == i)),
    "operation": ("Operation", lambda i: select(Operation.datastore_id).where(Operation.id == i)),
    "schedule": ("Schedule", lambda i: select(Schedule.datastore_id).where(Schedule.id == i)),
    "partition": (
        "Partition",
        lambda i: select(Container.datastore_id).join(Partition.container).where(Partition.id == i),
    ),
    "container_scan": (
        "Container scan",
        lambda i: select(Container.datastore_id).join(ContainerScan.container).where(ContainerScan.id == i),
    ),
    "field": (
        "Field",
        lambda i: (
            select(Container.datastore_id)
            .select_from(Field)
            .join(Container, Container.id == Field.container_id)
            .where(Field.id == i)
        ),
    ),
    "container_profile": (
        "Container profile",
        lambda i: (
            select(Container.datastore_id)
            .select_from(ContainerProfile)
            .join(Container, Container.id == ContainerProfile.container_id)
            .where(ContainerProfile.id == i)
        ),
    ),
    "field_profile": (
        "Field profile",
        lambda i: (
            select(Container.datastore_id)
            .select_from(FieldProfile)
            .join(Container, Container.id == FieldProfile.container_id)
            .where(FieldProfile.id == i)
        ),
    ),
    "comment": (
        "Comment",
        lambda i: (
            select(Anomaly.datastore_id)
            .join(Comment, Comment.anomaly_id == Anomaly.id)
            .where(Comment.id == i)
            .union_all(
                select(Container.datastore_id)
                .join(Partition, Partition.container_id == Container.id)
                .join(Comment, Comment.partition_id == Partition.id)
                .where(Comment.id == i)
            )
        ),
    ),
    "computed_field": (
        "Computed field",
        lambda i: (
            select(Container.datastore_id)
            .select_from(ComputedField)
            .join(Container, Container.id == ComputedField.container_id)
            .where(ComputedField.id == i)
        ),
    ),
}


@dataclass(frozen=True)
class Find:
    """Where a request names the thing (and so the datastore) it acts on.

    ``kind``: what the id names (a key of ``_KINDS``: datastore, container, check, anomaly,
    operation, schedule, partition, container_scan, field, container_profile, field_profile,
    computed_field). ``source``: "path",
    "query" or "body". ``name``: the parameter, or a dotted body path ("container.datastore_id");
    for a body that is a list, ``name`` is read in each item (bulk routes)."""

    kind: str
    source: str
    name: str

    def describe(self) -> str:
        return f"{self.kind} by {self.source} `{self.name}`"


def path(kind: str, name: str) -> Find:
    return Find(kind, "path", name)


def query(kind: str, name: str) -> Find:
    return Find(kind, "query", name)


def body(kind: str, name: str) -> Find:
    return Find(kind, "body", name)


@dataclass(frozen=True)
class Rule:
    """What one route needs. ``public``: no token at all. ``role``: the least platform role.
    ``permission``: the least team permission on the datastore ``find`` locates (None with a
    ``find``: the datastore must only be visible to the user). ``beyond_draft``: the permission
    needed instead when the body's ``status`` is not "Draft" (Drafters write draft checks only).
    ``field_roles``: (body field, least role) — sending that field needs that role too (e.g.
    a datastore's ``teams``: Manager). ``note``: a word for the docs table."""

    role: str = "Member"
    permission: str | None = None
    find: Find | None = None
    beyond_draft: str | None = None
    field_roles: tuple[tuple[str, str], ...] = ()
    public: bool = False
    note: str = ""


PUBLIC = Rule(public=True)
#: Any signed-in user; what the route lists is team-scoped by the session.
SIGNED_IN = Rule()
#: Reading flows and notification rules: they are server-wide and name datastores of every
#: team (filters, actions, history), so Managers (who see every datastore's row) and Admins.
FLOW_READER = Rule(role="Manager", note="flows name datastores of every team")


def role(name: str, note: str = "") -> Rule:
    return Rule(role=name, note=note)


def team(
    permission: str | None,
    find: Find,
    *,
    role: str = "Member",
    beyond_draft: str | None = None,
    field_roles: tuple[tuple[str, str], ...] = (),
) -> Rule:
    return Rule(role=role, permission=permission, find=find, beyond_draft=beyond_draft, field_roles=field_roles)


DS = path("datastore", "datastore_id")
CONTAINER = path("container", "container_id")
CHECK = path("check", "check_id")
ANOMALY = path("anomaly", "anomaly_id")
OPERATION = path("operation", "operation_id")
SCHEDULE = path("schedule", "schedule_id")

# One line per route, keyed by operation id (= handler name). Keep it in the routers' order.
POLICY: dict[str, Rule] = {
    # health, status, sign-in, set-up and the CLI's browser login
    "health": PUBLIC,
    "status": PUBLIC,
    "cli_authorize": PUBLIC,
    "cli_authorize_confirm": PUBLIC,
    "sign_in": PUBLIC,
    "setup_admin": PUBLIC,
    # datastores
    "list_datastores": SIGNED_IN,
    "create_datastore": role("Manager"),
    "get_datastore": team(None, DS),
    "update_datastore": team("Editor", DS, field_roles=(("teams", "Manager"),)),
    "delete_datastore": team("Editor", DS, role="Manager"),
    "update_favorite_datastore": team("Reporter", DS),
    "link_enrichment": team("Editor", DS),
    "unlink_enrichment": team("Editor", DS),
    "verify_draft": role("Manager"),
    "verify_datastore": team("Editor", DS),
    "get_score_settings": team("Reporter", DS),
    "update_score_settings": team("Editor", DS),
    "list_quality_scores": team("Reporter", DS),
    "list_enrichment_tables": team("Viewer", DS),
    "list_enrichment_records": team("Viewer", DS),
    "get_datastore_operations": team("Reporter", DS),
    # short listings and specifications (connection types, computed-field transformations)
    "get_connection_listing": SIGNED_IN,
    "get_datastore_listing": SIGNED_IN,
    "get_datastore_specifications": SIGNED_IN,
    "get_datastore_specification": SIGNED_IN,
    "get_computed_field_specifications": SIGNED_IN,
    # connections
    "list_connections": SIGNED_IN,
    "create_connection": role("Manager"),
    "get_connection": SIGNED_IN,
    "update_connection": role("Manager"),
    "delete_connection": role("Manager"),
    "test_connection": role("Manager"),
    # containers, fields, profiles, computed assets
    "list_containers": SIGNED_IN,
    "create_container": team("Editor", body("datastore", "datastore_id")),
    "bulk_tag_containers": team("Editor", body("container", "id")),
    "listing": SIGNED_IN,
    "get_container": team("Reporter", CONTAINER),
    "update_container": team("Editor", CONTAINER),
    "delete_container": team("Editor", CONTAINER),
    "update_favorite_container": team("Reporter", CONTAINER),
    "get_container_latest_scan": team("Reporter", CONTAINER),
    "run_external_scan": team("Editor", CONTAINER),
    "list_fields": team("Reporter", CONTAINER),
    "validate_container": team("Drafter", body("datastore", "container.datastore_id")),
    "field_profiles": team("Reporter", CONTAINER),
    "container_profile": team("Reporter", CONTAINER),
    "create_computed_field": team("Editor", body("container", "container_id")),
    "get_fields": SIGNED_IN,
    "bulk_update_fields": team("Editor", body("field", "id")),
    "get_fields_listing": SIGNED_IN,
    "get_field": team("Reporter", path("field", "field_id")),
    "update_field": team("Editor", path("field", "field_id")),
    "get_field_profiles": team("Reporter", path("field", "field_id")),
    "get_field_history": team("Reporter", path("field", "field_id")),
    "get_container_field_profile": team("Reporter", CONTAINER),
    "get_container_profile_field_profile": team("Reporter", path("container_profile", "profile_id")),
    "list_container_profiles": SIGNED_IN,
    "get_container_profile": team("Reporter", path("container_profile", "profile_id")),
    "get_container_profile_field_profiles": team("Reporter", path("container_profile", "profile_id")),
    "list_field_profiles": SIGNED_IN,
    "list_field_profiles_listing": SIGNED_IN,
    "get_field_profile": team("Reporter", path("field_profile", "profile_id")),
    "update_computed_field": team("Editor", path("computed_field", "field_id")),
    "delete_computed_field": team("Editor", path("computed_field", "field_id")),
    # quality checks and templates
    "rule_specifications": SIGNED_IN,
    "list_checks": SIGNED_IN,
    "create_check": team("Drafter", body("container", "container_id"), beyond_draft="Author"),
    "bulk_delete_checks": team("Author", body("check", "id")),
    "get_check": team("Reporter", CHECK),
    "update_check": team("Drafter", CHECK, beyond_draft="Author"),
    "delete_check": team("Author", CHECK),
    "bulk_update_checks": team("Author", body("check", "id")),
    "quality_check_listing": SIGNED_IN,
    "dry_run_check": team("Drafter", body("container", "container_id")),
    "dry_run_saved_check": team("Drafter", CHECK),
    "update_favorite_check": team("Reporter", CHECK),
    "get_template": SIGNED_IN,
    "list_templates": SIGNED_IN,
    "update_template": role("Manager"),
    "create_template": role("Manager"),
    # anomalies
    "list_anomalies": SIGNED_IN,
    "bulk_update_anomalies": team("Editor", body("anomaly", "id")),
    "bulk_delete_anomalies": team("Editor", body("anomaly", "id")),
    "source_records": team("Viewer", ANOMALY),
    "get_anomaly": team("Reporter", ANOMALY),
    "update_anomaly": team("Editor", ANOMALY),
    "delete_anomaly": team("Editor", ANOMALY),
    "bulk_update_anomalies_put": team("Editor", body("anomaly", "id")),
    # comments (on anomalies and partitions); only their author edits or deletes them
    "get_comments": team("Reporter", query("anomaly", "anomaly_id")),
    "create_comment": team("Viewer", body("anomaly", "anomaly_id")),
    "get_comment": team("Reporter", path("comment", "comment_id")),
    "update_comment": team("Viewer", path("comment", "comment_id")),
    "delete_comment": team("Viewer", path("comment", "comment_id")),
    # schedules and operations
    "create_schedule": team("Editor", body("datastore", "datastore_id")),
    "list_schedules": SIGNED_IN,
    "get_schedule": team("Reporter", SCHEDULE),
    "update_schedule": team("Editor", SCHEDULE),
    "delete_schedule": team("Editor", SCHEDULE),
    "deactivate": team("Editor", SCHEDULE),
    "run_operation": team("Editor", body("datastore", "datastore_id")),
    "list_operations": SIGNED_IN,
    "get_operation": team("Reporter", OPERATION),
    "delete_operation": team("Editor", OPERATION),
    "abort_operation": team("Editor", OPERATION),
    "resume_operation": team("Editor", OPERATION),
    "rerun_operation": team("Editor", OPERATION),
    "heartbeat": team("Reporter", OPERATION),
    "heartbeat_head": team("Reporter", OPERATION),
    # partitions and container scans
    "list_partitions": SIGNED_IN,
    "get_partition": team("Reporter", path("partition", "partition_id")),
    "update_partition": team("Editor", path("partition", "partition_id")),
    "triage_partition_anomalies": team("Editor", path("partition", "partition_id")),
    "list_container_scans": SIGNED_IN,
    "get_container_scan": team("Reporter", path("container_scan", "scan_id")),
    "list_container_scan_anomalies": team("Reporter", path("container_scan", "scan_id")),
    # insights and metrics (over the user's datastores: the session is team-scoped)
    "get_insights": SIGNED_IN,
    "get_metrics": SIGNED_IN,
    "get_scan_metrics": SIGNED_IN,
    "get_activity_log": role("Admin", "every user's changes, not team-scoped"),
    "delete_container_scan": team("Editor", path("container_scan", "scan_id")),
    # tags
    "list_tags": SIGNED_IN,
    "create_tag": role("Manager"),
    "get_tag": SIGNED_IN,
    "delete_tag": role("Manager"),
    "get_global_tags_listing": SIGNED_IN,
    "update_global_tag": role("Manager"),
    # export of metadata to the enrichment datastore
    "export_anomalies": team("Editor", query("datastore", "datastore")),
    "export_checks": team("Editor", query("datastore", "datastore")),
    "export_field_profiles": team("Editor", query("datastore", "datastore")),
    "export_templates": team("Editor", query("datastore", "enrich_datastore_id"), role="Manager"),
    # users, teams, tokens
    "me": SIGNED_IN,
    "list_users": role("Manager"),
    "create_user": role("Admin"),
    "get_user": role("Manager"),
    "update_user": role("Admin"),
    "delete_user": role("Admin", "deactivates"),
    "list_teams": role("Manager"),
    "create_team": role("Admin"),
    "get_team": role("Manager"),
    "update_team": role("Admin"),
    "delete_team": role("Admin"),
    "list_tokens": SIGNED_IN,
    "create_token": SIGNED_IN,
    "revoke_token": SIGNED_IN,
    "restore_token": SIGNED_IN,
    "delete_token": SIGNED_IN,
    "list_service_tokens": role("Admin"),
    "create_service_token": role("Admin"),
    "sign_out": SIGNED_IN,
    # flows
    "flow_listing": FLOW_READER,
    "notification_specifications": SIGNED_IN,
    "notification_tokens": SIGNED_IN,
    "test_notification": role("Manager"),
    "preview_notification": role("Manager"),
    "test_stored_notification": role("Manager"),
    "mute_action": role("Manager"),
    "flow_actions": FLOW_READER,
    "list_executions": FLOW_READER,
    "get_execution": FLOW_READER,
    "delete_execution": role("Manager"),
    "abort_execution": role("Manager"),
    "list_flows": FLOW_READER,
    "create_flow": role("Manager"),
    "get_flow": FLOW_READER,
    "update_flow": role("Manager"),
    "delete_flow": role("Manager"),
    "flow_history": FLOW_READER,
    "deactivate_flow": role("Manager"),
    "execute_flow": role("Manager"),
    # in-app notifications (the caller's own) and notification rules
    "list_user_notifications": SIGNED_IN,
    "acknowledge_many": SIGNED_IN,
    "acknowledge_one": SIGNED_IN,
    "get_user_notification": SIGNED_IN,
    "receiver_specifications": SIGNED_IN,
    "rule_tokens": SIGNED_IN,
    "list_rules": FLOW_READER,
    "create_rule": role("Manager"),
    "get_rule": FLOW_READER,
    "update_rule": role("Manager"),
    "delete_rule": role("Manager"),
    "mute_rule": role("Manager"),
}

MISSING = Rule(role="Admin", note="no policy entry: Admins only until one is added")


def rule_for(operation_id: str) -> Rule:
    """The rule of ``operation_id``; routes without an entry are Admin-only (fail closed)."""
    return POLICY.get(operation_id, MISSING)


# -- enforcement ------------------------------------------------------------------------------


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


def _ids(find: Find, request: Request, payload: Any) -> list[Any]:
    """The raw ids ``find`` names in the request (empty when absent: validation answers)."""
    if find.source == "path":
        value = request.path_params.get(find.name)
        return [] if value is None else [value]
    if find.source == "query":
        return request.query_params.getlist(find.name)
    items = payload if isinstance(payload, list) else [payload]
    out = []
    for item in items:
        value = item
        for part in find.name.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None:
            out.append(value)
    return out


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _stays_draft(session, rule: Rule, ids: list, payload: Any) -> bool:
    """Whether a Drafter's write keeps every check it touches a Draft: the body's ``status``
    is "Draft" (an update may also leave it out) and, for an existing check, the check is a
    Draft now — a Drafter may neither activate a check nor take an active one over."""
    existing = rule.find is not None and rule.find.kind == "check"
    items = payload if isinstance(payload, list) else [payload]
    if not all(
        isinstance(item, dict) and (item.get("status") == "Draft" or (existing and "status" not in item))
        for item in items
    ):
        return False
    if existing:
        check_ids = [i for i in (_as_int(raw) for raw in ids) if i is not None]
        statuses = session.scalars(select(QualityCheck.status).where(QualityCheck.id.in_(check_ids))).all()
        return all(status == "Draft" for status in statuses)
    return True


def check(session, user: User, scope: Scope | None, rule: Rule, ids: list[Any], payload: Any) -> None:
    """Raise 403/404 unless ``user`` may do what ``rule`` guards on the things ``ids`` name.

    Raises: HTTPException 403 for a missing role or too weak a permission on a visible
    datastore; NotFound (404, "<Kind> <id> not found") for an id that does not exist or
    lies in a datastore none of the user's teams holds (the same answer for both)."""
    if role_rank(user.role) < role_rank(rule.role):
        raise HTTPException(403, f"this requires the {rule.role} role (you are {user.role})")
    for name, least in rule.field_roles:
        if isinstance(payload, dict) and payload.get(name) is not None and role_rank(user.role) < role_rank(least):
            raise HTTPException(403, f"changing '{name}' requires the {least} role (you are {user.role})")
    if scope is None or rule.find is None:  # Admins bypass team permissions
        return
    needed = rule.permission
    if rule.beyond_draft and not _stays_draft(session, rule, ids, payload):
        needed = rule.beyond_draft
    label, datastore_of = _KINDS[rule.find.kind]
    for raw in ids:
        id_ = _as_int(raw)
        if id_ is None:
            continue  # not an id: the route's validation answers 422
        datastore_id = session.scalar(datastore_of(id_))
        visible = datastore_id is not None and (
            datastore_id in scope.permissions or (rule.find.kind == "datastore" and scope.all_datastore_rows)
        )
        if not visible:
            raise NotFound(f"{label} {id_} not found")
        have = scope.permissions.get(datastore_id)
        if needed and permission_rank(have) < permission_rank(needed):
            raise HTTPException(
                403,
                f"this requires the {needed} permission on datastore {datastore_id} "
                f"(your teams hold {have or 'no permission'} on it)",
            )


def _operation_id(request: Request) -> str:
    route = request.scope.get("route")
    if route is not None and getattr(route, "name", None):
        return route.name
    endpoint = request.scope.get("endpoint")
    return getattr(endpoint, "__name__", "")


async def enforce(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> User:
    """The dependency on every protected route: authenticate the bearer token (401), then
    apply the route's :data:`POLICY` rule (403/404). Leaves ``request.state.user`` and
    ``request.state.scope`` for the request's session (``deps.get_session``)."""
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials.strip():
        raise _unauthorized("missing bearer token: send 'Authorization: Bearer <token>'")
    token = credentials.credentials
    rule = rule_for(_operation_id(request))
    payload: Any = None
    if (rule.find is not None and rule.find.source == "body") or rule.beyond_draft or rule.field_roles:
        try:
            payload = json.loads(await request.body() or b"null")
        except ValueError:
            payload = None  # the route's own parsing answers 422
    return await run_in_threadpool(_authorize, request, token.strip(), rule, payload)


def _authorize(request: Request, token: str, rule: Rule, payload: Any) -> User:
    database = request.app.state.database
    with database.session() as session:
        try:
            user, row = verify_token(session, request.app.state.settings.secret_key, token)
        except AuthError as e:
            raise _unauthorized(str(e)) from None
        scope = scope_of(session, user)
        ids = _ids(rule.find, request, payload) if rule.find is not None else []
        check(session, user, scope, rule, ids, payload)
        session.expunge(user)
    request.state.user = user
    request.state.scope = scope
    request.state.token_id = row.id  # POST /auth/sign-out revokes this token
    return user
