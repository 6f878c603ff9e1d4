"""Response models: what every route answers, in the Qualytics field names.

The serializers (``serializers.py``) build the answers as dicts; these models describe them
for ``/api/openapi.json`` and for generated clients, and FastAPI checks every answer
against them. Conventions:

* Every model is **strict** (an ``int`` is never coerced from a float or a bool) and
  **closed** (``extra="forbid"``): a key the serializer returns that the model does not
  declare is a server error, so a model can never silently drop a field. Only shapes that
  are open by nature (connection parameters, a schedule's stored payload, field-profile
  statistics, check properties, ``additional_metadata``) allow extra keys or ``Any``.
* Routes serialize with ``response_model_exclude_unset``: a key a serializer leaves out
  stays out (e.g. ``token`` outside token creation), so the answers are exactly what the
  serializer built.
* Dates are ISO 8601 strings in UTC with a trailing ``Z``.
* Errors: every 4xx answer is an ``Error`` (see ``errors.py``).
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PField

T = TypeVar("T")

#: A number as stored: an integer stays an integer, a fraction a float.
Number = int | float


class Out(BaseModel):
    """Base of every response model: strict and closed (see the module docstring)."""

    model_config = ConfigDict(strict=True, extra="forbid", populate_by_name=True)


class Open(Out):
    """A response object whose keys are open by nature (extra keys are kept as they are)."""

    model_config = ConfigDict(strict=True, extra="allow", populate_by_name=True)


# -- errors -------------------------------------------------------------------------------
class ErrorItem(BaseModel):
    """One offending input of a 422: where (``loc``), what (``msg``) and a machine ``type``."""

    model_config = ConfigDict(extra="allow")
    loc: list[str | int] = PField(description='path of the input, e.g. ["body", "connection", "host"]')
    msg: str
    type: str


class Error(BaseModel):
    """Every error answer (401, 403, 404, 409, 413, 422). ``detail`` is a sentence saying what
    is wrong; for a 422 about the request's content it is instead the list of offending
    inputs, each naming its location (``loc``)."""

    model_config = ConfigDict(extra="forbid")
    detail: str | list[ErrorItem]


# -- envelopes ----------------------------------------------------------------------------
class Page(Out, Generic[T]):
    """A page of a listing: ``items`` plus ``total`` items, 1-based ``page``, ``size`` and ``pages``."""

    items: list[T]
    total: int
    page: int
    size: int
    pages: int


class Tag(Out):
    name: str


class Verification(Out):
    """Whether a datastore or connection could be opened, with the driver's reason when not."""

    connected: bool
    message: str | None = None


# -- datastores and connections -----------------------------------------------------------
class DatastoreStub(Out):
    id: int
    name: str
    store_type: str
    type: str
    enrich_only: bool
    enrich_container_prefix: str | None = None
    favorite: bool


class DatastoreRef(Out):
    id: int
    name: str


class OperationStub(Out):
    """The latest operation of a datastore."""

    id: int
    created: str | None = None
    type: str
    result: str
    start_time: str | None = None
    end_time: str | None = None
    message: str | None = None


class Datastore(Out):
    """A datastore. Secrets of ``connection`` are never returned. ``enrich_only`` and
    ``enrich_container_prefix`` repeat ``enrichment_only`` / ``enrichment_prefix`` under
    their Qualytics names."""

    id: int
    created: str | None = None
    name: str
    store_type: str
    type: str
    connection: dict[str, Any] = PField(description="its settings; with id and name when a shared connection")
    connection_id: int | None = None
    database: str | None = None
    schema_: str | None = PField(default=None, alias="schema")
    enrichment_only: bool
    enrich_only: bool
    enrichment_prefix: str | None = None
    enrich_container_prefix: str | None = None
    enrichment_source_record_limit: int | None = None
    enrichment_remediation_strategy: str | None = None
    high_count_rollup_threshold: int | None = None
    enrichment_datastore_id: int | None = None
    enrichment_datastore: DatastoreRef | None = None
    enrich_datastore: DatastoreRef | None = PField(
        default=None, description="the linked enrichment datastore (Qualytics' name; same as enrichment_datastore)"
    )
    connected: bool = PField(description="false when the datastore's latest finished operation failed")
    latest_operation: OperationStub | None = None
    global_tags: list[Tag]
    favorite: bool
    description: str | None = None
    max_concurrent_operations: int | None = None
    teams: list[TeamRef] = PField(default_factory=list, description="the teams that hold it, with their permission")
    created_by: int | None = PField(default=None, description="id of the user who created it")
    jdbc_url: str | None = PField(
        default=None,
        description="database datastores: their JDBC-style URL, never with a user or password "
        "(jdbc:postgresql://host:5432/db, jdbc:mysql://host:3306/db, jdbc:duckdb:/path/file.duckdb, "
        "jdbc:sqlite:/path/file.sqlite); null for file datastores",
    )
    uri: str | None = PField(
        default=None,
        description="file datastores: the folder or bucket URI they read (file:///folder, s3://bucket/prefix), "
        "without a password; null for database datastores and for a Spark datastore without a folder",
    )
    metrics: DatastoreMetrics | None = None


class ConnectionStub(Out):
    """One line of ``GET /connections/listing`` (Qualytics' ``ConnectionStub``)."""

    created: str | None = None
    id: int
    name: str
    connection_type: str
    type: str


class DatastoreListing(Out):
    """One line of ``GET /datastores/listing`` (Qualytics' ``DatastoreStub``)."""

    id: int
    name: str
    store_type: str
    type: str


class SpecProperty(Out):
    """One setting of a connection type or a computed-field transformation: the body key it
    goes to (``map_to``), its form ``type`` (string, integer, number, boolean, select with
    ``values``), bounds, default, whether it is ``secret`` and whether it sits in the body's
    ``connection`` object (``connection_property``)."""

    field: str
    map_to: str
    required: bool
    title: str
    type: str
    values: list[str] | None = None
    secret: bool
    minimum: Number | None = None
    maximum: Number | None = None
    placeholder: Any = None
    default: Any = None
    info: str | None = None
    connection_property: bool = True


class DatastoreSpec(Out):
    """A connection type Assay reads (Qualytics' ``GetDatastoreSpec``); ``supports_enrichment``:
    it can hold an enrichment datastore."""

    display_name: str
    type: str
    implemented: bool
    supports_enrichment: bool
    properties: list[SpecProperty]


class ComputedFieldSpec(Out):
    """A computed-field transformation Assay evaluates (Qualytics' ``GetComputedFieldSpec``);
    ``fields``: how many source fields it takes (``single`` / ``multi`` / ``none``)."""

    transformation: str
    description: str
    fields: str
    fields_type_filter: list[str] | None = None
    properties: list[SpecProperty]


class Connection(Open):
    """A shared connection; its non-secret parameters (``host``, ``port``, ``uri`` …) are
    returned as further keys. ``connection_type`` repeats ``store_type`` (``jdbc`` / ``dfs``)
    under Qualytics' name; ``secrets_manager`` is always null (secrets are stored encrypted)."""

    id: int
    created: str | None = None
    name: str
    type: str
    store_type: str
    connection_type: str
    secrets_manager: dict[str, Any] | None = None


# -- quality scores, metrics and insights (definitions: docs/quality-score.md) ----------
class QualityScore(Out):
    """A quality score (0–100, higher is better) and its eight dimensions (each 0–100, or
    null when unmeasured); ``created``: when the latest scan or profile it reflects happened.
    ``total`` is null for a datastore none of whose containers was scanned in the decay window."""

    created: str | None = None
    total: Number | None = None
    completeness: Number | None = None
    coverage: Number | None = None
    conformity: Number | None = None
    consistency: Number | None = None
    precision: Number | None = None
    timeliness: Number | None = None
    volumetrics: Number | None = None
    accuracy: Number | None = None


class DatedQualityScore(QualityScore):
    """A quality score of one day (``date``, UTC), as of the end of that day."""

    date: str


class QualityScoreSettings(Out):
    """A datastore's score settings: decay period (days, 7–180) and dimension weights
    (0.0–2.0; null: never set, the default 1.0 applies)."""

    decay_period_days: int
    completeness_weight: Number | None = None
    coverage_weight: Number | None = None
    conformity_weight: Number | None = None
    consistency_weight: Number | None = None
    precision_weight: Number | None = None
    timeliness_weight: Number | None = None
    volumetrics_weight: Number | None = None
    accuracy_weight: Number | None = None


class ContainerMetrics(Out):
    """Qualytics' ``ContainerMetrics``. ``records``: the latest profile's record count;
    ``completeness``: that profile's mean field completeness (0…1); ``important_checks``:
    active checks of weight ≥ 3; ``passing_checks`` / ``failing_checks``: active checks
    whose last assertion passed / failed; ``anomalies``: all, ``active_anomalies``: status
    ``Active``."""

    last_profiled: str | None = None
    last_scanned: str | None = None
    fields: int
    records: int | None = None
    completeness: Number | None = None
    active_checks: int | None = None
    important_checks: int | None = None
    passing_checks: int | None = None
    failing_checks: int | None = None
    anomalies: int | None = None
    active_anomalies: int | None = None
    quality_score: QualityScore | None = None


class DatastoreMetrics(Out):
    """Qualytics' ``DatastoreMetrics``: counts over the live containers; ``new_anomalies``
    (``Active``), ``open_anomalies`` (``Active`` or ``Acknowledged``); ``confidence_score``
    is the quality score's ``total``."""

    containers: int
    partitions: int
    records: int
    quality_checks: int
    anomalies: int
    new_anomalies: int
    open_anomalies: int
    archived_anomalies: int
    confidence_score: Number | None = None
    quality_score: QualityScore | None = None


class DailyCount(Out):
    """A count on one day (``date``: ``YYYY-MM-DD`` in the client's time zone)."""

    date: str
    count: int


class Insights(Out):
    """Qualytics' ``GetInsights`` (``GET /api/insights``): totals over the timeframe ending on
    ``report_date``, each with ``trend_*`` (percent change against the timeframe before it;
    null when that was 0) and ``week_*`` (one count per day of the timeframe)."""

    generated_at: str
    report_date: str
    total_users: int
    trend_users: Number | None = None
    total_datastores: int
    trend_datastores: Number | None = None
    total_records_profiled: int
    trend_records_profiled: Number | None = None
    total_fields_profiled: int
    trend_fields_profiled: Number | None = None
    total_active_checks: int
    trend_active_checks: Number | None = None
    total_inferred_checks: int
    trend_inferred_checks: Number | None = None
    total_authored_checks: int
    trend_authored_checks: Number | None = None
    total_sla_monitoring: int
    trend_sla_monitoring: Number | None = None
    total_sla_violations: int
    trend_sla_violations: Number | None = None
    total_records_scanned: int
    trend_records_scanned: Number | None = None
    total_anomalies_identified: int
    trend_anomalies_identified: Number | None = None
    total_anomalies_active: int
    trend_anomalies_active: Number | None = None
    total_anomalies_acknowledged: int
    trend_anomalies_acknowledged: Number | None = None
    total_anomalies_resolved: int
    trend_anomalies_resolved: Number | None = None
    total_anomalies_invalid: int
    trend_anomalies_invalid: Number | None = None
    week_records_profiled: list[DailyCount]
    week_fields_profiled: list[DailyCount]
    week_inferred_checks: list[DailyCount]
    week_authored_checks: list[DailyCount]
    week_sla_monitoring: list[DailyCount]
    week_sla_violations: list[DailyCount]
    week_records_scanned: list[DailyCount]
    week_anomalies_identified: list[DailyCount]
    week_anomalies_active: list[DailyCount]
    week_anomalies_acknowledged: list[DailyCount]
    week_anomalies_resolved: list[DailyCount]
    week_anomalies_invalid: list[DailyCount]
    week_checks_passing: list[DailyCount]
    week_checks_failing: list[DailyCount]


class HubMetrics(Out):
    """Qualytics' ``HubMetrics`` (``GET /api/metrics``): records scanned and anomalies caught
    over the last ``timeframe`` days, in total and per day."""

    total_records_scanned: int
    total_anomalies_caught: int
    records_scanned: list[DailyCount]
    anomalies_caught: list[DailyCount]


class ScanRange(Out):
    min: int | None = None
    max: int | None = None


class ScanRangeMetrics(Out):
    """The smallest and largest daily value of each scan metric."""

    partitions_scanned: ScanRange
    records_scanned: ScanRange
    anomalies_caught: ScanRange


class ScanDailyMetrics(Out):
    date: str
    partitions_scanned: int
    records_scanned: int
    anomalies_caught: int


class ScanMetrics(Out):
    """Qualytics' ``ScanMetrics`` (``GET /api/scan-metrics``): a datastore's successful
    container scans between two dates, in total and per day."""

    total_partitions_scanned: int
    total_records_scanned: int
    total_anomalies_caught: int
    range_metrics: ScanRangeMetrics
    daily_metrics: list[ScanDailyMetrics]


class ActivityUser(Out):
    id: int
    created: str | None = None
    user_id: str | None = None
    email: str | None = None
    name: str | None = None
    role: str | None = None


class ActivityTransaction(Out):
    """When and by whom (``user``: null when the user was deleted); ``id``: the change's id."""

    id: int
    issued_at: str
    user: ActivityUser | None = None


class Activity(Out):
    """Qualytics' ``Activity``: a change a user made through the API — ``verb`` ``insert`` /
    ``update`` / ``delete`` of row ``object_id`` of ``object_type`` (the table: ``datastore``,
    ``container``, ``quality_check``, ``anomaly``…). Operations' own changes are not logged."""

    transaction: ActivityTransaction
    verb: str
    object_type: str | None = None
    object_id: int | None = None


class ActivityPage(Page[Activity]):
    pass


# -- enrichment browsing ------------------------------------------------------------------
class EnrichmentTable(Out):
    """A table of an enrichment datastore (Qualytics' ``GetDatastorePathListing``): its
    ``name``, its ``label`` (the name without the source datastore's prefix) and that source
    ``datastore`` (the enrichment datastore itself when no linked datastore's prefix matches)."""

    name: str
    label: str
    datastore: DatastoreStub | None = None


class EnrichmentSourceRecords(Out):
    """Rows of an enrichment table: a JSON array (as a string) of objects with lower-case keys."""

    source_records: str | None = None


# -- containers and fields ----------------------------------------------------------------
class ContainerStub(Out):
    id: int
    name: str
    container_type: str
    table_type: str | None = None
    store_type: str | None = PField(default=None, description="its datastore's: jdbc | dfs")


class Container(ContainerStub):
    created: str | None = None
    datastore: DatastoreStub | None = None
    deleted_at: str | None = None
    favorite: bool
    global_tags: list[Tag]
    file_pattern: str | None = None
    file_format: str | None = None
    additional_metadata: dict[str, Any] | None = None
    description: str | None = None
    metrics: ContainerMetrics
    incremental_field_name: str | None = None
    incremental_identifier_type: str | None = None
    partition_field: str | None = None
    incremental_checkpoint: Any = None
    status: str | None = PField(default=None, description="Active, or Archived once its source is gone")
    row_identifier_field: str | None = None
    exclude_fields: list[str] | None = None
    freshness_tracking_enabled: bool | None = None
    volumetric_tracking_enabled: bool | None = None
    query: str | None = PField(default=None, description="computed containers: the SELECT they read")
    source_container_id: int | None = None
    left_container_id: int | None = None
    right_container_id: int | None = None
    right_datastore_id: int | None = None
    left_join_field_name: str | None = None
    right_join_field_name: str | None = None
    left_prefix: str | None = None
    right_prefix: str | None = None
    join_type: str | None = None
    select_clause: str | None = None
    where_clause: str | None = None
    group_by_clause: str | None = None
    sources: list[dict[str, Any]] | None = PField(default=None, description="SQL-mode computed join: its sources")
    computed_fields: list[ComputedField] | None = PField(default=None, description="on GET /containers/{id}")
    relative_path: str | None = PField(
        default=None,
        description="file patterns: the folder of their files under the datastore's uri, with a leading and a "
        "trailing / (/ at the root)",
    )
    file_name: str | None = PField(
        default=None,
        description="file patterns: the glob of their files' names without the extension (orders*); "
        "a Delta table: its folder's name",
    )
    extension: str | None = PField(
        default=None, description="file patterns: csv, csv.gz, parquet, json …; empty for a Delta table (a folder)"
    )
    format: str | None = PField(default=None, description="file patterns: csv | parquet | json | delta")
    has_header: bool | None = PField(
        default=None, description="CSV file patterns: whether the first row names the fields; null for other formats"
    )
    escape_character: str | None = PField(
        default=None, description="CSV file patterns: the escape character set on the datastore (null: the default)"
    )
    last_modified: str | None = PField(
        default=None,
        description="file patterns: the newest modification time of their files a scan read (ISO 8601); null "
        "before the first successful scan or when the incremental identifier is one of their fields",
    )
    source_container: ContainerStub | None = PField(
        default=None, description="computed files: the file pattern they read (null once it is gone)"
    )


class ContainerListing(Out):
    """A live container in ``GET /api/containers/listing`` (Qualytics' ``TableContainerListing``)."""

    id: int
    name: str
    container_type: str
    table_type: str | None = None
    deleted_at: str | None = None
    favorite: bool
    volumetric_tracking_enabled: bool
    freshness_tracking_enabled: bool
    datastore: DatastoreListing


class Field(Out):
    id: int
    created: str | None = None
    name: str
    type: str
    native_type: str | None = None
    nullable: bool | None = None
    completeness: Number | None = None
    weight: int
    global_tags: list[Tag]
    is_computed_field: bool
    quality_score: Number | None = None
    latest_profile_id: int | None = None


class FieldListing(Out):
    """A field in ``GET /api/fields/listing``."""

    id: int
    name: str
    type: str
    container_id: int


class ChangeTransaction(Out):
    """When and by whom a change was made."""

    id: int
    issued_at: str
    user: UserStub | None = None


class FieldChange(Out):
    """One change: ``changeset`` is ``{key: [old, new]}``; ``operation_type`` 1 = update."""

    changeset: dict[str, list[Any]]
    transaction: ChangeTransaction
    operation_type: int
    operation: str | None = None


class FieldHistory(Out):
    """The changes of an object made through the API (Qualytics' ``GetEntityHistory``), oldest first."""

    created: str | None = None
    id: int
    versions: list[FieldChange]


class FieldProfile(Open):
    """A field's statistics from the latest profile; the statistics (``min``, ``max``,
    ``histogram_buckets`` …) are further keys."""

    id: int
    created: str | None = None
    name: str
    field_name: str
    container_profile_id: int


class ContainerProfile(Out):
    id: int
    created: str | None = None
    parent_profile_id: int | None = None
    container: ContainerStub | None = None
    records_count: int | None = None
    records_processed: int | None = None
    checks_synchronized: int | None = None
    checks_added: int | None = None
    checks_updated: int | None = None
    field_profiles_count: int
    result: str | None = None
    message: str | None = None


class ContainerProfileDetail(ContainerProfile):
    operation_id: int | None = None


class FieldProfileStub(Out):
    """A field a container profile measured: its name and position in the container."""

    name: str
    container_order_index: int | None = None


class ContainerProfileFull(ContainerProfileDetail):
    """One container profile (Qualytics' ``GetContainerProfile``): the fields it measured in
    container order. ``partitions`` is always empty: a profile reads the whole container."""

    partitions: list[Partition] = []
    field_profiles: list[FieldProfileStub]


class ComputedField(Out):
    id: int
    created: str | None = None
    name: str
    container_id: int
    transformation: str
    transformation_type: str = PField(description="Qualytics' name of ``transformation``")
    source_fields: list[str]
    properties: dict[str, Any]
    additional_metadata: dict[str, Any] | None = None


# -- quality checks -------------------------------------------------------------------------
class CheckField(Out):
    """A field a check asserts; ``id``, ``created`` and ``type`` only while the field exists."""

    id: int | None = None
    created: str | None = None
    name: str
    type: str | None = None


class CheckContainer(Out):
    id: int
    name: str
    container_type: str
    store_type: str | None = None
    datastore: DatastoreStub | None = None


class UserStub(Out):
    """A user as other objects refer to it (a check's owner, an anomaly's assignee, a comment's author)."""

    id: int
    created: str | None = None
    user_id: str | None = PField(default=None, description="the user's sign-in id (Qualytics' ``user_id``)")
    name: str | None = None
    email: str | None = None
    role: str | None = None
    teams: list[TeamRef] | None = PField(default=None, description="a check's last_editor: the user's teams")


class AnomalyStatusChange(Out):
    created: str | None = None
    previous: str | None = None
    status: str
    user: UserStub | None = None


class QualityCheck(Out):
    id: int
    created: str | None = None
    last_updated: str | None = None
    rule_type: str
    inferred: bool
    fields: list[CheckField]
    description: str | None = None
    coverage: Number = PField(description="share of the checked records that must pass, 0…1 (1.0: every one)")
    properties: dict[str, Any] | None = None
    filter: str | None = None
    status: str
    deleted_at: str | None = None
    is_properties_inferrable: bool = PField(description="a later profile may still rewrite its properties")
    is_coverage_inferrable: bool = PField(description="a later profile may still rewrite its coverage")
    is_description_inferrable: bool = PField(description="a later profile may still rewrite its description")
    container: CheckContainer | None = None
    global_tags: list[Tag]
    additional_metadata: dict[str, Any] | None = None
    anomaly_message_field: str | None = None
    weight: int | None = None
    importance_score: Number = PField(description="Qualytics' former name of ``weight``, as a number")
    last_asserted: str | None = None
    is_passing: bool | None = None
    last_assertion_error: str | None = None
    anomaly_count: int | None = None
    template_id: int | None = None
    #: whether the check's template is locked (its checks follow the template; None without a template)
    template_locked: bool | None = None
    favorite: bool
    is_new: bool
    is_template: bool
    created_by: UserStub | None = PField(default=None, description="who created it (audit)")
    last_editor: UserStub | None = PField(default=None, description="who last changed it (audit)")
    owner: UserStub | None = None
    owner_id: int | None = None
    default_anomaly_assignee_id: int | None = None
    default_anomaly_assignee: UserStub | None = None


class QualityCheckListing(Out):
    """One check in ``GET /api/quality-checks/listing`` (Qualytics' ``QualityCheckListing``)."""

    id: int
    created: str | None = None
    rule_type: str
    inferred: bool
    fields: list[TemplateField]
    description: str | None = None
    coverage: Number
    properties: dict[str, Any] | None = None
    filter: str | None = None
    status: str
    deleted_at: str | None = None
    last_updated: str | None = None
    last_asserted: str | None = None
    is_passing: bool | None = None
    weight: int | None = None
    additional_metadata: dict[str, Any] | None = None
    global_tags: list[Tag]


class DryRunAnomaly(Out):
    """An anomaly a scan would record (nothing is recorded by a dry run)."""

    type: str
    message: str
    anomalous_records_count: int
    source_records: list[dict[str, Any]]


class CheckDryRunResult(Out):
    """A check dry run (an Assay extension): what a scan of the container would find for
    the check, evaluated by the scan's own engine, with nothing recorded. ``result``:
    passed | failed | unasserted (``error`` says why)."""

    quality_check_id: int | None = None
    container_id: int
    rule_type: str
    result: str
    records_processed: int = PField(description="rows read")
    asserted_records: int = PField(description="rows the check saw after its filter (row rules)")
    anomalous_records: int = PField(description="rows that broke the check (row rules)")
    message: str | None = PField(default=None, description="what failed, for aggregate rules")
    error: str | None = None
    read_message: str | None = PField(default=None, description="how the container was read, when notable")
    examples: list[dict[str, Any]] = PField(description="failing rows, at most example_limit")
    anomalies: list[DryRunAnomaly]


class TemplateField(Out):
    name: str


class QualityCheckTemplate(Out):
    id: int
    created: str | None = None
    rule_type: str
    fields: list[TemplateField]
    description: str | None = None
    coverage: Number
    filter: str | None = None
    properties: dict[str, Any] | None = None
    global_tags: list[Tag]
    template_locked: bool
    is_template: bool
    additional_metadata: dict[str, Any] | None = None
    anomaly_message_field: str | None = None
    container: None = None
    status: str
    template_checks_count: int


class RuleProperty(Out):
    field: str
    map_to: str
    required: bool
    title: str
    type: str
    values: list[Any] | None = None
    description: str | None = None
    minimum: int | float | None = PField(None, description="the least value a number property takes (inclusive)")
    maximum: int | float | None = PField(None, description="the greatest value a number property takes (inclusive)")


class RuleSpecification(Out):
    """One rule type of the catalogue (generated from the rule classes)."""

    rule: str
    rule_description: str
    deprecated: bool
    replaced_by: str | None = None
    author: bool
    fields: str
    fields_type_filter: list[str] | None = None
    filterable: bool
    supports_coverage: bool
    kind: str
    on_incremental: str | None = None
    properties: list[RuleProperty]
    count: int


# -- operations ---------------------------------------------------------------------------
class ScheduleRef(Out):
    id: int
    name: str | None = None
    type: str
    trigger_type: str
    crontab: str


class PartitionScan(Out):
    id: int
    created: str | None = None
    partition: str | None = None
    partition_id: int | None = None
    records_processed: int | None = None
    result: str | None = None
    message: str | None = None
    anomaly_count: int
    anomalies: list[int]


class ContainerScan(Out):
    """What a scan did on one container. ``open_anomaly_count`` / ``archived_anomaly_count``:
    the anomalies this container scan raised that are open (Active, Acknowledged) / archived now."""

    id: int
    created: str | None = None
    operation_id: int
    container: ContainerStub | None = None
    start_time: str | None = None
    end_time: str | None = None
    records_processed: int
    partitions_scanned: int
    anomaly_count: int
    open_anomaly_count: int
    archived_anomaly_count: int
    auto_resolved_anomaly_count: int
    result: str
    message: str | None = None
    quality_checks: list[dict[str, Any]] = PField(description="per check: id, result, counts, error")
    partition_scans: list[PartitionScan]


class ContainerScanDetail(ContainerScan):
    """One container scan (``/container-scans``)."""


class _Operation(Out):
    id: int
    created: str | None = None
    start_time: str | None = PField(
        default=None, description="when it started; while queued, when it was queued (Qualytics' clients need one)"
    )
    end_time: str | None = None
    result: str = PField(description="running | success | failure | aborted (a queued operation is running)")
    queued: bool = PField(description="waiting for a worker: result running, not started yet (Assay's own key)")
    message: str | None = None
    triggered_by: str | None = None
    datastore: DatastoreStub | None = None
    datastore_id: int | None = None
    schedule: ScheduleRef | None = None
    schedule_id: int | None = None
    tags: list[Tag]
    status: dict[str, Any] = PField(description="progress counters of the operation's type")


class SyncOperationResult(_Operation):
    type: Literal["sync", "catalog"]
    prune: bool
    recreate: bool
    include: list[str] | None = None


class ScanOperationResult(_Operation):
    """A scan, or an external scan (records sent with ``POST /api/containers/{id}/scan``)."""

    type: Literal["scan", "external_scan"]
    name: str | None = None
    incremental: bool
    auto_resolve_passed_anomalies: bool | None = None
    remediation: str | None = None
    max_records_analyzed_per_partition: int
    greater_than_time: str | None = None
    greater_than_batch: Number | None = None
    high_count_rollup_threshold: int | None = None
    enrichment_source_record_limit: int | None = None
    archive_duplicate_anomalies: bool
    reactivate_recurring_anomalies: bool
    container_names: list[str]
    containers: list[ContainerStub]
    container_scans: list[ContainerScan]


class ProfileOperationResult(_Operation):
    """A profile operation, with the settings it runs with: the payload's, else the profile's
    defaults (``max_count_testing_sample`` 100000, ``percent_testing_threshold`` 0.4,
    ``high_correlation_threshold`` 0.5, ``histogram_max_distinct_values`` 100)."""

    type: Literal["profile"]
    inference_threshold: int | None = None
    ai_effort: str | None = None
    infer_as_draft: bool | None = None
    infer_constraints: bool = PField(
        description="Qualytics' older flag: whether it infers checks (inference_threshold above 0)"
    )
    max_count_testing_sample: int = PField(description="rows of the hold-out sample at most")
    percent_testing_threshold: Number = PField(
        description="share of the hold-out rows (0…1) an inferred check may fail and still be kept"
    )
    percent_testing_holdout: float = PField(
        description="share of the profile's sample (0…1) held out to test inferred checks: 1/3"
    )
    high_correlation_threshold: Number = PField(
        description="|Pearson r| (0…1) from which two numeric fields are listed as correlated"
    )
    histogram_max_distinct_values: int = PField(description="histogram buckets per field at most")
    greater_than_time: str | None = None
    greater_than_batch: Number | None = None
    max_records_analyzed_per_partition: int
    container_names: list[str]
    containers: list[ContainerStub]
    container_profiles: list[ContainerProfile]


class ExportOperationResult(_Operation):
    type: Literal["export"]
    asset_type: str | None = None
    container_ids: list[int] | None = None
    container_tags: list[str] | None = None
    include_deleted: bool | None = None


class MaterializeOperationResult(_Operation):
    """A materialize operation; ``status``: ``total_containers``, ``containers_analyzed``,
    ``records_processed``, ``all_containers`` (true: no ``container_names`` nor
    ``container_tags`` were given, so every container of the datastore is copied) and
    ``tables`` (the enrichment tables written, once finished)."""

    type: Literal["materialize"]
    container_names: list[str]
    container_tags: list[str] | None = None
    max_records_per_partition: int
    containers: list[ContainerStub]


class PromoteOperationResult(_Operation):
    """A promote operation (``promote_type`` ``quality_check``); ``status``: ``total_checks``,
    ``checks_created``, ``checks_updated``, ``checks_skipped``, ``checks_warned`` and
    ``results`` (per source check: ``source_check_id``, ``destination_check_id``, ``action``
    created / updated / skipped, ``message``)."""

    type: Literal["promote"]
    promote_type: str
    container_id: int
    destination_container_id: int
    check_ids: list[int] | None = None
    check_tags: list[str] | None = None
    check_additional_tags: list[str] | None = None
    as_draft: bool


Operation = Annotated[
    SyncOperationResult
    | ScanOperationResult
    | ProfileOperationResult
    | ExportOperationResult
    | MaterializeOperationResult
    | PromoteOperationResult,
    PField(discriminator="type"),
]


class DatastoreLatestOperations(Out):
    """Qualytics' ``GetDatastoreLatestOperations``: a datastore's newest operation, and its
    newest catalog (sync), profile and scan operation (null when none)."""

    latest_operation: Operation | None = None
    catalog_operation: Operation | None = None
    profile_operation: Operation | None = None
    scan_operation: Operation | None = None


class Heartbeat(Out):
    id: int
    result: str
    heartbeat: str | None = None
    worker: str | None = None
    alive: bool


class Schedule(Open):
    """A schedule; the operation payload it runs (``datastore_id``, ``container_names`` …)
    is returned as further keys."""

    id: int
    created: str | None = None
    name: str | None = None
    type: str
    crontab: str
    next_trigger: str | None = None
    last_triggered: str | None = None
    deactivated: bool
    trigger_type: str
    datastore: DatastoreStub | None = None
    containers: list[Tag]


# -- anomalies ----------------------------------------------------------------------------
class FailedCheck(Out):
    quality_check: QualityCheck | None = None
    quality_check_id: int | None = None
    message: str | None = None
    anomalous_records_count: int | None = None
    suggested_field: str | None = None
    suggested_value: Any = None
    suggested_score: Number | None = None


class AnomalyPartition(Out):
    """The partition an anomaly was found in: its ``name`` and ``location`` (where it is read
    from: a file pattern's glob under its datastore's uri, a table's name qualified by its
    datastore's schema, ``main.orders``, or a computed container's name)."""

    name: str | None = None
    location: str | None = None


class Anomaly(Out):
    id: int
    uuid: str | None = None
    created: str | None = None
    type: str
    status: str
    archived: bool
    is_new: bool
    message: str | None = None
    source_enriched: bool | None = None
    #: its enrichment rows are recorded but not yet in the enrichment datastore (written when it is back)
    enrichment_pending: bool = False
    datastore: DatastoreStub | None = None
    container: ContainerStub | None = None
    partition: AnomalyPartition
    operation_id: int | None = None
    container_scan_id: int | None = None
    partition_scan: PartitionScan | None = PField(
        default=None, description="what the scan that found it read of its partition"
    )
    failed_checks: list[FailedCheck]
    weight: int | None = None
    importance_score: Number = PField(description="Qualytics' former name of ``weight``, as a number")
    global_tags: list[Tag]
    anomalous_records_count: int | None = None
    fingerprint: int | None = None
    source_records: list[Any] | None = None
    #: user-editable text (PUT /api/anomalies/{id} ``description``); ``message`` is what the scan found
    description: str | None = None
    comments: list[Comment]
    assignees: list[UserStub]
    assignee_ids: list[int]
    last_editor: UserStub | None = PField(default=None, description="who last changed its status (audit)")
    status_changes: list[AnomalyStatusChange] = PField(
        default_factory=list, description="its status changes, oldest first; user null for a scan's auto-resolve"
    )


class Comment(Out):
    """A comment on an anomaly (``anomaly_id``) or a partition (``partition_id``)."""

    id: int
    created: str | None = None
    last_updated: str | None = None
    message: str
    user: UserStub | None = None
    anomaly_id: int | None = None
    partition_id: int | None = None


class SourceRecord(Out):
    source_record: str = PField(description="the row as a JSON string")
    created: str | None = None


# -- partitions ---------------------------------------------------------------------------
class Partition(Out):
    id: int
    created: str | None = None
    last_updated: str | None = None
    name: str
    location: str | None = None
    container: ContainerStub | None = None
    min_offset: str | Number | None = None
    max_offset: str | Number | None = None
    min_time: str | None = None
    max_time: str | None = None
    partition_size: int | None = None
    global_tags: list[Tag]
    comments: list[Comment]
    num_active: int
    num_acknowledged: int
    num_resolved: int
    num_invalid: int


# -- tags, users, tokens, export, status --------------------------------------------------
class GlobalTag(Out):
    id: int
    created: str | None = None
    name: str
    color: str | None = None
    description: str | None = None
    category: str | None = None
    weight_modifier: int
    type: str
    count: int = PField(description="datastores, containers, fields, quality checks and anomalies carrying it")


class GlobalTagListing(GlobalTag):
    """A tag in ``GET /api/global-tags/listing``, with its ``count``."""


class TeamRef(Out):
    id: int
    created: str | None = None
    name: str
    permission: str | None = None


class UserRef(Out):
    id: int
    name: str | None = None


class TeamUser(Out):
    """A member of a team as Qualytics lists it (``GetTeam.users``)."""

    id: int
    created: str | None = None
    user_id: str | None = None
    name: str | None = None
    email: str | None = None
    role: str | None = None


class User(Out):
    """A user; ``role`` Admin | Manager | Member, ``user_type`` Person | Service, ``deleted_at``
    set when deactivated, ``teams`` with each team's permission. Never a password."""

    id: int
    created: str | None = None
    user_id: str | None = PField(default=None, description="the user's sign-in id (Qualytics' ``user_id``)")
    name: str | None = None
    email: str | None = None
    role: str | None = None
    user_type: str | None = None
    deleted_at: str | None = None
    last_login: str | None = None
    teams: list[TeamRef]


class DatastorePermission(Out):
    datastore_id: int
    permission: str = PField(description="Reporter | Viewer | Drafter | Author | Editor")


class Me(User):
    """GET /users/me: the caller plus ``permissions``, their permission on each datastore they
    can see, and ``is_admin`` (Admins bypass team permissions)."""

    permissions: list[DatastorePermission]
    is_admin: bool


class SignedIn(Out):
    """POST /auth/sign-in: a session ``token`` (send as ``Authorization: Bearer``), its
    ``expiration`` and the user."""

    token: str
    expiration: str | None = None
    user: User


class SignedOut(Out):
    """POST /auth/sign-out: the ``token_id`` of the token the request carried and whether it is
    ``revoked`` now (a session token is; an API token stays valid)."""

    token_id: int
    revoked: bool


class Team(Out):
    """A team: its ``members`` hold ``permission`` (Reporter … Editor) on each of its
    ``datastores``; the public team (``is_public``) counts every user as a member."""

    id: int
    created: str | None = None
    name: str
    description: str | None = None
    is_public: bool
    permission: str
    members: list[UserRef] = PField(default_factory=list)
    users: list[TeamUser] = PField(default_factory=list, description="the members as Qualytics lists them")
    datastores: list[DatastoreRef] = PField(default_factory=list)


class UserToken(Out):
    """An API token; ``token`` (its value) only in the answer that created it."""

    id: int
    created: str | None = None
    name: str
    expiration: str | None = None
    revoked: bool
    active: bool = PField(description="not revoked and not expired (Qualytics' name)")
    last_used: str | None = None
    user_id: int | None = None
    user: UserStub | None = None
    scim_endpoints_only: bool
    token: str | None = None


class ExportResult(Out):
    datastore_id: int
    asset_type: str
    table: str = PField(description="the table written in the enrichment datastore")
    rows: int


class ServerStatus(Out):
    database_connection: str
    rabbitmq_connection: str
    queue: str


# -- pages, named for generated clients --------------------------------------------------


class AnomalyPage(Page[Anomaly]):
    """A page of Anomaly items."""


class ConnectionPage(Page[Connection]):
    """A page of Connection items."""


class ContainerScanPage(Page[ContainerScanDetail]):
    """A page of ContainerScanDetail items."""


class ContainerPage(Page[Container]):
    """A page of Container items."""


class DatastorePage(Page[Datastore]):
    """A page of Datastore items."""


class FieldProfilePage(Page[FieldProfile]):
    """A page of FieldProfile items."""


class ContainerProfilePage(Page[ContainerProfileFull]):
    """A page of ContainerProfileFull items."""


class FieldPage(Page[Field]):
    """A page of Field items."""


class GlobalTagPage(Page[GlobalTag]):
    """A page of GlobalTag items."""


class PartitionPage(Page[Partition]):
    """A page of Partition items."""


class QualityCheckTemplatePage(Page[QualityCheckTemplate]):
    """A page of QualityCheckTemplate items."""


class QualityCheckPage(Page[QualityCheck]):
    """A page of QualityCheck items."""


class SchedulePage(Page[Schedule]):
    """A page of Schedule items."""


class TeamPage(Page[Team]):
    """A page of Team items."""


class UserTokenPage(Page[UserToken]):
    """A page of UserToken items."""


class UserPage(Page[User]):
    """A page of User items."""


class OperationPage(Page[Operation]):
    """A page of Operation items."""


class CommentPage(Page[Comment]):
    """A page of Comment items."""
