"""Pydantic request bodies, field for field as the Qualytics API names them.

Unknown extra keys are ignored (clients send more than we use); wrong types and values
out of range are 422s that name the field. Booleans given as strings ("True") are
accepted, as Pydantic's lax mode does, because existing Airflow scripts send them.
Float fields take finite numbers only (NaN / Infinity / 1e400 are 422s). In operation and
schedule payloads ids and counts are :data:`Int`: a JSON integer (or an integer-valued
number such as ``2.0``) within 64 bits, never a boolean (``true`` is not datastore 1).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from .limits import Name, Tags, no_control_characters

#: An enrichment table prefix: at most 60 characters, no control character.
Prefix = Annotated[str, Field(max_length=60), AfterValidator(no_control_characters)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, allow_inf_nan=False)


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _not_bool(v: Any) -> Any:
    """Refuse ``true`` / ``false`` where an integer is expected (lax mode would take them as 1 / 0)."""
    if isinstance(v, bool):
        raise ValueError("must be an integer, not a boolean")
    return v


#: An id or count in an operation payload: an integer within 64 bits (what the metadata store
#: holds; larger is a 422 naming the field, not an overflow later), never a boolean.
Int = Annotated[int, BeforeValidator(_not_bool), Field(ge=INT64_MIN, le=INT64_MAX)]


def _utc_representable(v: dt.datetime | None) -> dt.datetime | None:
    """``greater_than_time``: its UTC value must lie in years 1…9999 (what Python and the
    databases hold), e.g. ``0001-01-01T00:00:00+14:00`` is refused. A naive time is UTC."""
    if v is not None and v.utcoffset():
        try:
            v.astimezone(dt.UTC)
        except (OverflowError, ValueError):
            raise ValueError("is outside years 1..9999 once converted to UTC") from None
    return v


UtcTime = Annotated[dt.datetime | None, AfterValidator(_utc_representable)]


class ConnectionIn(_Body):
    """An inline connection. ``type``: ``duckdb`` or ``local`` (a folder, ``uri`` = file:///abs/folder)."""

    model_config = ConfigDict(extra="allow")
    type: str = Field(min_length=1)
    uri: str | None = None
    name: str | None = None


RemediationStrategy = Literal["none", "append", "overwrite"]


class DatastoreCreate(_Body):
    name: Name
    connection: ConnectionIn | None = None
    connection_id: int | None = None
    database: str | None = None
    schema_: str | None = Field(default=None, alias="schema")
    enrichment_only: bool = Field(default=False, validation_alias=AliasChoices("enrichment_only", "enrich_only"))
    enrichment_prefix: Prefix | None = Field(
        default=None, validation_alias=AliasChoices("enrichment_prefix", "enrich_container_prefix")
    )
    enrichment_source_record_limit: int = Field(default=10, ge=1, le=1_000_000_000)
    enrichment_remediation_strategy: RemediationStrategy = "none"
    #: an enrichment-only datastore to link at creation (as PATCH /datastores/{id}/enrichment/{eid}).
    #: Not ``enrichment_datastore_id``: that is what GET answers, and qualytics-cli's
    #: ``config import`` sends it back unchanged to another server, where that id means nothing.
    enrich_datastore_id: int | None = None
    high_count_rollup_threshold: int = Field(default=10, ge=1, le=1000)
    #: ``null`` (what qualytics-cli sends without ``--tags``) means no tags.
    tags: Tags | None = Field(default_factory=list)
    description: str | None = None
    trigger_sync: bool = False
    max_concurrent_operations: int | None = Field(default=None, ge=1, le=1000)
    teams: list[str] | None = Field(
        default=None,
        max_length=1000,
        description="names of the teams that hold it, each with its permission on it; [] for none (only Admins "
        "reach its content); not sent or null: the public team (every user; Reporter on a fresh install)",
    )


class DatastoreUpdate(_Body):
    """PUT /datastores/{id}: partial update, only the keys sent change (as Qualytics does)."""

    name: Name | None = None
    connection: ConnectionIn | None = None
    #: another connection for the datastore (qualytics-cli sends its current one back: no change)
    connection_id: int | None = None
    database: str | None = None
    schema_: str | None = Field(default=None, alias="schema")
    enrichment_prefix: Prefix | None = Field(
        default=None, validation_alias=AliasChoices("enrichment_prefix", "enrich_container_prefix")
    )
    enrichment_source_record_limit: int | None = Field(default=None, ge=1, le=1_000_000_000)
    enrichment_remediation_strategy: RemediationStrategy | None = None
    high_count_rollup_threshold: int | None = Field(default=None, ge=1, le=1000)
    tags: Tags | None = None
    description: str | None = None
    max_concurrent_operations: int | None = Field(default=None, ge=1, le=1000)
    teams: list[str] | None = Field(default=None, max_length=1000, description="names of the teams that hold it")


class _CheckDefinition(_Body):
    """What a check and a check template share."""

    rule: str = Field(min_length=1, validation_alias=AliasChoices("rule", "rule_type"))
    fields: list[str] = Field(default_factory=list)
    description: str | None = None
    coverage: float | None = Field(default=None, ge=0, le=1)
    filter: str | None = None
    properties: dict[str, Any] | None = None
    tags: Tags = Field(default_factory=list)
    additional_metadata: dict[str, Any] | None = None
    anomaly_message_field: str | None = None

    @field_validator("tags", mode="before")
    @classmethod
    def _no_tags(cls, v: Any) -> Any:
        """``tags: null`` (Qualytics' clients send it) is no tags."""
        return [] if v is None else v


class TemplateCreate(_CheckDefinition):
    template_locked: bool = False


class QualityCheckCreate(_CheckDefinition):
    container_id: int
    status: Literal["Active", "Draft"] = "Active"
    weight: int | None = Field(default=None, ge=0, le=100)
    template_id: int | None = None
    owner_id: int | None = None
    default_anomaly_assignee_id: int | None = None


class QualityCheckUpdate(_Body):
    """PUT /quality-checks/{id}: ``container_id`` and ``rule`` cannot change (422 if they differ)."""

    container_id: int | None = None
    rule: str | None = Field(default=None, validation_alias=AliasChoices("rule", "rule_type"))
    fields: list[str] | None = None
    description: str | None = None
    coverage: float | None = Field(default=None, ge=0, le=1)
    filter: str | None = None
    properties: dict[str, Any] | None = None
    tags: Tags | None = None
    additional_metadata: dict[str, Any] | None = None
    status: Literal["Active", "Draft", "Invalid", "Discarded"] | None = None
    anomaly_message_field: str | None = None
    weight: int | None = Field(default=None, ge=0, le=100)
    owner_id: int | None = None
    default_anomaly_assignee_id: int | None = None
    favorite: bool | None = None


class TemplateUpdate(_Body):
    """PUT /quality-check-templates/{id} (Qualytics' ``UpdateQualityCheckTemplate``): when
    the template is (or becomes) locked, its checks take ``description``, ``coverage``,
    ``filter`` and ``properties``."""

    description: str | None = None
    coverage: float | None = Field(default=None, ge=0, le=1)
    filter: str | None = None
    properties: dict[str, Any] | None = None
    tags: Tags | None = None
    additional_metadata: dict[str, Any] | None = None
    template_locked: bool | None = None


class ToggleFavorite(_Body):
    """PATCH …/favorite (Qualytics' ``ToggleFavorite``)."""

    favorite: bool


class _OperationBase(_Body):
    datastore_id: Int


def _record_limit(v: int | None) -> int | None:
    """``max_records_analyzed_per_partition``: 1…1e9, or -1 / null for every record (stored as None)."""
    if v == 0:
        raise ValueError("must be at least 1, or -1 / null for every record")
    return None if v == -1 else v


#: A scan's (or dry run's) ``check_variables``: ``{{ name }}`` → value (``engine.variables``).
CheckVariables = dict[str, str | int | float | bool] | None

RecordLimit = Annotated[Int | None, Field(ge=-1, le=1_000_000_000), AfterValidator(_record_limit)]


class CheckDryRun(_CheckDefinition):
    """POST /quality-checks/dry-run: a check definition (as for POST /quality-checks) plus
    ``max_records_analyzed_per_partition`` (-1 / null: every record; default 10,000) and
    ``example_limit`` (failing rows returned, 0…100, default 10)."""

    container_id: int
    max_records_analyzed_per_partition: RecordLimit = 10_000
    example_limit: int = Field(default=10, ge=0, le=100)
    check_variables: CheckVariables = Field(
        default=None,
        description="values substituted for {{ name }} in the check's filter and expressions, as a scan's "
        "check_variables are (as written)",
    )


class SavedCheckDryRun(_Body):
    """POST /quality-checks/{id}/dry-run: the caps and ``check_variables`` of :class:`CheckDryRun`."""

    max_records_analyzed_per_partition: RecordLimit = 10_000
    example_limit: int = Field(default=10, ge=0, le=100)
    check_variables: CheckVariables = Field(
        default=None,
        description="values substituted for {{ name }} in the check's filter and expressions, as a scan's "
        "check_variables are (as written)",
    )


#: What a sync includes: ``table`` and ``view`` containers.
TableKind = Literal["table", "view"]


def _every_table_kind() -> list[TableKind]:
    return ["table", "view"]


class SyncOperation(_OperationBase):
    """``{type: "sync" | "catalog", datastore_id, prune, recreate, include}``."""

    type: Literal["sync", "catalog"]
    prune: bool = False
    recreate: bool = False
    include: list[TableKind] = Field(default_factory=_every_table_kind)


class ScanOperation(_OperationBase):
    """The scan payload (docs/semantics.md "Reading a container"). ``null`` and ``-1`` for
    ``max_records_analyzed_per_partition`` both mean every record. ``archive_duplicate_anomalies``
    defaults to true (an unchanged re-scan adds no open anomaly); ``auto_resolve_passed_anomalies``
    to true for full scans."""

    type: Literal["scan"]
    name: str | None = None
    container_names: list[str] | None = None
    container_tags: Tags | None = None
    incremental: bool = False
    remediation: RemediationStrategy | None = None
    auto_resolve_passed_anomalies: bool | None = None
    max_records_analyzed_per_partition: RecordLimit = None
    enrichment_source_record_limit: Int | None = Field(default=None, ge=1, le=1_000_000_000)
    high_count_rollup_threshold: Int | None = Field(default=None, ge=1, le=1000)
    greater_than_time: UtcTime = None
    greater_than_batch: float | None = Field(default=None, allow_inf_nan=False)
    archive_duplicate_anomalies: bool = Field(
        default=True,
        description="A finding whose fingerprint an open (Active/Acknowledged) anomaly already has is stored as "
        "Duplicate, so re-scanning unchanged data does not add open anomalies. Default true; send false to record "
        "every finding of every scan as Active.",
    )
    reactivate_recurring_anomalies: bool = Field(
        default=False,
        description="A finding whose fingerprint only an archived (Resolved/Invalid/Discarded) anomaly has is "
        "stored as Duplicate and that archived anomaly goes back to Active. Default false: a new Active anomaly "
        "is recorded instead.",
    )
    check_categories: list[str] | None = None
    check_variables: CheckVariables = Field(
        default=None,
        description="values substituted for {{ name }} in the filters and expressions of the checks (as written)",
    )

    @model_validator(mode="after")
    def _incremental_never_auto_resolves(self):
        if self.incremental:
            self.auto_resolve_passed_anomalies = False
        elif self.auto_resolve_passed_anomalies is None:
            self.auto_resolve_passed_anomalies = True
        return self


AI_EFFORT = {"off": 0, "low": 1, "medium": 2, "high": 3, "xhigh": 4, "max": 5}


class ProfileOperation(_OperationBase):
    """The profile payload (docs/semantics.md "Profile and inferred checks"). ``ai_effort`` is the newer spelling of
    ``inference_threshold``: off=0, low=1, medium=2, high=3, xhigh=4, max=5; when both are
    sent they must agree. Defaults (operations/profile.py): level 2, max_count_testing_sample
    100000, percent_testing_threshold 0.4, high_correlation_threshold 0.5,
    histogram_max_distinct_values 100 (at most 10000)."""

    type: Literal["profile"]
    container_names: list[str] | None = None
    container_tags: Tags | None = None
    inference_threshold: Int | None = Field(default=None, ge=0, le=5)
    ai_effort: Literal["off", "low", "medium", "high", "xhigh", "max"] | None = None
    infer_as_draft: bool = False
    max_records_analyzed_per_partition: RecordLimit = None
    max_count_testing_sample: Int | None = Field(default=None, ge=1, le=1_000_000_000)
    percent_testing_threshold: float | None = Field(default=None, ge=0, le=1)
    high_correlation_threshold: float | None = Field(default=None, ge=0, le=1)
    histogram_max_distinct_values: Int | None = Field(default=None, ge=1, le=10_000)
    greater_than_time: UtcTime = None
    greater_than_batch: float | None = Field(default=None, allow_inf_nan=False)

    @model_validator(mode="after")
    def _effort(self):
        if self.ai_effort is not None:
            level = AI_EFFORT[self.ai_effort]
            if self.inference_threshold is not None and self.inference_threshold != level:
                raise ValueError(
                    f"ai_effort '{self.ai_effort}' means inference_threshold {level}, not {self.inference_threshold}"
                )
            self.inference_threshold = level
        elif self.inference_threshold is None:
            self.inference_threshold = 2
        return self


class ExportOperation(_OperationBase):
    """``{type: "export", datastore_id, asset_type, container_ids?, include_deleted}``: replace
    ``<prefix>_export_<asset>`` in the datastore's enrichment datastore."""

    type: Literal["export"]
    asset_type: Literal["anomalies", "checks", "profiles", "field_profiles"]
    container_ids: list[Int] | None = None
    container_tags: Tags | None = None
    include_deleted: bool = False


class MaterializeOperation(_OperationBase):
    """``{type: "materialize", datastore_id, container_names?, container_tags?,
    max_records_per_partition?}``: snapshot the selected containers (default: every live
    one, computed tables included) into the enrichment datastore as
    ``<prefix>_mat_<container>`` tables, replaced on every run (operations/materialize.py).
    ``max_records_per_partition``: 1…1e9 rows per container, or -1 / null for all."""

    type: Literal["materialize"]
    container_names: list[str] | None = None
    container_tags: Tags | None = None
    max_records_per_partition: RecordLimit = None


class PromoteQualityCheckOperation(_OperationBase):
    """``{type: "promote_quality_check", datastore_id, container_id, destination_container_id,
    check_ids? | check_tags?, check_additional_tags?, as_draft = true}``: copy checks of a
    container of ``datastore_id`` to another container (operations/promote.py); queued as an
    operation of type ``promote``. ``check_ids`` and ``check_tags`` exclude each other."""

    type: Literal["promote_quality_check"]
    container_id: Int
    destination_container_id: Int
    check_ids: list[Int] | None = None
    check_tags: Tags | None = None
    check_additional_tags: Tags | None = None
    as_draft: bool = True

    @model_validator(mode="after")
    def _one_selection(self):
        if self.check_ids and self.check_tags:
            raise ValueError("check_ids and check_tags exclude each other: send one of them")
        return self


OperationRequest = Annotated[
    SyncOperation
    | ScanOperation
    | ProfileOperation
    | ExportOperation
    | MaterializeOperation
    | PromoteQualityCheckOperation,
    Field(discriminator="type"),
]


Weight = Annotated[float, Field(ge=0.0, le=2.0)]


class QualityScoreSettingsUpdate(_Body):
    """PUT /datastores/{id}/score-settings: partial update, only the keys sent change.
    ``decay_period_days``: 7–180; each weight 0.0–2.0 (null: back to the default, 1.0)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    decay_period_days: int | None = Field(default=None, ge=7, le=180)
    completeness_weight: Weight | None = None
    coverage_weight: Weight | None = None
    conformity_weight: Weight | None = None
    consistency_weight: Weight | None = None
    precision_weight: Weight | None = None
    timeliness_weight: Weight | None = None
    volumetrics_weight: Weight | None = None
    accuracy_weight: Weight | None = None


class CustomExpressionProperties(_Body):
    """``properties`` of a ``customExpression`` computed field."""

    column_expression: str = Field(
        min_length=1,
        title="Column expression",
        description="a Spark-SQL expression over the container's fields, e.g. amount * 1.2",
    )
