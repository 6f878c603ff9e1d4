"""Request and response models of the flow and user-notification routes, field for field as
Qualytics' generated client names them (``CreateFlow``, ``Flow``, ``ActionNotification``,
``GetFlowExecution``, ``GetUserNotification`` …). Assay-only additions are marked."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, PlainSerializer, Tag

from ..api.schemas import Int, OperationRequest
from ..api.serializers import iso
from .delivery import NOTIFICATION_TYPES

NotificationType = Literal["InApp", "Email", "Slack", "Microsoft Teams", "PagerDuty", "Webhook", "HttpAction"]
TriggerType = Literal["Operation", "Anomaly", "Manual", "Schedule"]
#: A timestamp answered as ISO 8601 UTC with a trailing Z (naive values are UTC), as elsewhere in the API.
Time = Annotated[dt.datetime, PlainSerializer(iso, return_type=str)]
assert set(NotificationType.__args__) == set(NOTIFICATION_TYPES)  # type: ignore[attr-defined]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, allow_inf_nan=False)


class CreateActionNotification(_Body):
    """A notification action. ``parameters`` per ``notification_type`` (GET
    /api/flows/actions/notification/specifications); secret parameters and ``secret`` are
    stored encrypted and never returned. ``id`` (UpdateActionNotification) names the stored
    action to change; an omitted secret keeps the stored one."""

    type: Literal["notification"] = "notification"
    id: Int | None = None
    uuid: str | None = None
    parent_action_uuid: str | None = None
    order_rank: Int | None = None
    notification_type: NotificationType
    parameters: dict[str, Any] = Field(default_factory=dict)
    secret: str | None = None
    auth_type: Literal["basic", "digest", "bearer"] | None = None
    tokenized_message: str | None = None


class CreateActionOperation(_Body):
    """An operation action: ``schedule`` is an operation payload (scan, profile, sync,
    export) with its ``datastore_id``, queued when the flow runs."""

    type: Literal["operation"]
    id: Int | None = None
    uuid: str | None = None
    parent_action_uuid: str | None = None
    order_rank: Int | None = None
    schedule: OperationRequest


def _action_kind(value: Any) -> str:
    """``type`` of an action body; a body without one is a notification."""
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return "operation" if kind == "operation" else "notification"


ActionIn = Annotated[
    Annotated[CreateActionNotification, Tag("notification")] | Annotated[CreateActionOperation, Tag("operation")],
    Discriminator(_action_kind),
]


class CreateFlow(_Body):
    name: str = Field(min_length=1, max_length=255)
    description: str | None = None
    trigger_type: TriggerType
    filter_datastores: list[Int] | None = None
    filter_operation_type: list[Literal["catalog", "sync", "profile", "scan", "export"]] | None = None
    filter_operation_result: Literal["success", "failure", "aborted"] | None = None
    deactivated: bool = False
    team_ids: list[Int] | None = None
    tags: list[str] | None = None
    check_rule_types: list[str] | None = None
    weight_threshold: Int | None = Field(default=None, ge=0)
    crontab: str | None = Field(
        default=None, description="Assay: trigger Schedule — when to run, a 5-field crontab in UTC"
    )
    actions: list[ActionIn] | None = None


class UpdateDeactivateFlow(_Body):
    deactivated: bool


class UpdateMuteActionNotification(_Body):
    muted: bool


class TestNotification(_Body):
    """Body of the test and preview routes: an action notification. Qualytics' user guide
    also sends the notification type as ``type``; both spellings are accepted."""

    type: str | None = None
    notification_type: NotificationType | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    secret: str | None = None
    auth_type: Literal["basic", "digest", "bearer"] | None = None
    tokenized_message: str | None = None
    trigger_type: TriggerType = Field(default="Operation", description="Assay: the trigger whose tokens to sample")
    flow_name: str = Field(default="Test flow", description="Assay: {{ flow_name }} in the sample")


class BulkUserNotificationIn(_Body):
    id: Int


# -- responses --------------------------------------------------------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class DatastoreStubLite(_Out):
    id: int
    name: str
    store_type: str
    type: str


class GlobalTagOut(_Out):
    name: str


class ActionOut(_Out):
    """``ActionNotification`` or ``ActionOperation`` (by ``type``). Assay adds ``muted``,
    ``order_rank`` and ``secret_parameters`` (names of the stored secrets, never values);
    ``secret`` appears once, in the answer that generated it."""

    created: Time
    id: int
    type: str
    flow_id: int
    uuid: str
    parent_action_uuid: str | None = None
    order_rank: int = 0
    display_name: str | None = None
    notification_type: str | None = None
    auth_type: str | None = None
    parameters: dict[str, Any] | None = None
    tokenized_message: str | None = None
    muted: bool = False
    secret_parameters: list[str] = Field(default_factory=list)
    schedule: dict[str, Any] | None = None


class FlowOut(_Out):
    """``Flow`` / ``GetFlowPermission``."""

    created: Time
    id: int
    name: str
    description: str | None = None
    deactivated: bool
    trigger_type: str
    filter_datastores: list[DatastoreStubLite] = Field(default_factory=list)
    filter_operation_type: list[str] = Field(default_factory=list)
    filter_operation_result: str | None = None
    actions: list[ActionOut] = Field(default_factory=list)
    teams: list[dict[str, Any]] = Field(default_factory=list)
    global_tags: list[GlobalTagOut] = Field(default_factory=list)
    weight_threshold: int | None = None
    check_rule_types: list[str] = Field(default_factory=list)
    last_triggered: Time | None = None
    user_can_manage: bool = True
    crontab: str | None = None
    next_trigger: Time | None = None


class FlowStub(_Out):
    created: Time
    id: int
    name: str
    description: str | None = None
    deactivated: bool
    global_tags: list[GlobalTagOut] = Field(default_factory=list)
    user_can_manage: bool = True


class PageFlow(_Out):
    items: list[FlowOut]
    total: int
    page: int
    size: int
    pages: int


class PageAction(_Out):
    items: list[ActionOut]
    total: int
    page: int
    size: int
    pages: int


class AttemptOut(_Out):
    """Assay: one delivery attempt of an action execution."""

    attempt: int
    worker: str | None = None
    start_time: Time
    end_time: Time | None = None
    result: str
    message: str | None = None


class ActionExecutionNotification(_Out):
    created: Time
    id: int
    message: str
    target_uri: str
    target_url: str


class ActionExecutionOperation(_Out):
    created: Time
    id: int
    type: str
    start_time: Time | None = None
    end_time: Time | None = None
    result: str
    message: str | None = None
    triggered_by: str | None = None
    datastore: dict[str, Any] | None = None


class FlowActionExecutionOut(_Out):
    """``GetFlowActionExecution``; Assay adds ``attempts`` (every delivery attempt with its
    result and error) and ``next_attempt_at`` (when a pending retry is due)."""

    created: Time
    id: int
    flow_execution_id: int
    action: ActionOut | None = None
    result: str
    message: str | None = None
    operation: ActionExecutionOperation | None = None
    notification: ActionExecutionNotification | None = None
    attempts: list[AttemptOut] = Field(default_factory=list)
    next_attempt_at: Time | None = None


class FlowExecutionOut(_Out):
    """``GetFlowExecution`` (with ``action_executions``) / ``GetFlowExecutionStub``."""

    created: Time
    id: int
    flow: FlowStub
    start_time: Time | None = None
    end_time: Time | None = None
    result: str
    message: str | None = None
    trigger_id: int | None = None
    trigger_type: str
    target_url: str | None = None
    action_executions: list[FlowActionExecutionOut] | None = None


class PageFlowExecution(_Out):
    items: list[FlowExecutionOut]
    total: int
    page: int
    size: int
    pages: int


class ActionNotificationTest(_Out):
    """``GetActionNotificationTest``."""

    delivery_response: str
    success: bool


class MessagePreview(_Out):
    """Assay: the text a notification action would send for a sample event."""

    notification_type: str
    trigger_type: str
    title: str
    message: str
    unknown_tokens: list[str]


class NotificationSpec(_Out):
    display_name: str
    type: str
    properties: list[dict[str, Any]]
    auth_type: str | None = None
    secret: str | None = None


class TriggerTokens(_Out):
    trigger_type: str
    valid_message_tokens: list[str]
    descriptions: dict[str, str]
    default_message: str


class NotificationOut(_Out):
    created: Time
    id: int
    message: str
    target_uri: str
    target_url: str
    action_execution: dict[str, Any] | None = None


class UserNotificationOut(_Out):
    created: Time
    id: int
    notification: NotificationOut
    acknowledged: bool


class PageUserNotification(_Out):
    items: list[UserNotificationOut]
    total: int
    page: int
    size: int
    pages: int


class BulkUserNotificationAck(_Out):
    acknowledged_count: int
    requested_count: int


class VersionTransaction(_Out):
    id: int
    issued_at: Time
    user: dict[str, Any] | None = None


class FlowVersionOut(_Out):
    """``ContinuumVersion``: ``changeset`` maps each changed field to ``[old, new]``."""

    changeset: dict[str, list[Any]]
    transaction: VersionTransaction
    operation_type: int
    operation: str | None = None


class EntityHistory(_Out):
    """``GetEntityHistory``."""

    created: Time
    id: int
    versions: list[FlowVersionOut]


# -- notification rules (Qualytics' older API; each rule runs as a flow) -------------------------------

ReceiverType = Literal["Email", "Slack", "Microsoft Teams", "PagerDuty", "Webhook", "HttpAction"]


class CreateNotificationReceiver(_Body):
    type: ReceiverType
    parameters: dict[str, Any] = Field(default_factory=dict)
    secret: str | None = None
    auth_type: Literal["basic", "digest", "bearer"] | None = None


class CreateNotificationRule(_Body):
    """``CreateNotificationRule`` / ``UpdateNotificationRule``. Assay runs a rule as a flow
    with the same trigger: an in-app notification plus one action per receiver."""

    name: str = Field(min_length=1, max_length=255)
    description: str | None = None
    trigger_type: Literal["Operation", "Anomaly"]
    tokenized_message: str | None = None
    receivers: list[CreateNotificationReceiver] = Field(default_factory=list)
    team_ids: list[Int] | None = None
    tags: list[str] | None = None


class UpdateMuteNotificationRule(_Body):
    muted: bool


class NotificationReceiverOut(_Out):
    id: int
    created: Time
    display_name: str
    type: str
    parameters: dict[str, Any]
    secret_parameters: list[str] = Field(default_factory=list)


class NotificationRuleOut(_Out):
    id: int
    created: Time
    name: str
    description: str | None = None
    muted: bool
    trigger_type: str
    tokenized_message: str | None = None
    receivers: list[NotificationReceiverOut]
    teams: list[dict[str, Any]] = Field(default_factory=list)
    global_tags: list[GlobalTagOut] = Field(default_factory=list)


class PageNotificationRule(_Out):
    items: list[NotificationRuleOut]
    total: int
    page: int
    size: int
    pages: int
