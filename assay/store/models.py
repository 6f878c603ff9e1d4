"""SQLAlchemy 2 models of Assay's metadata store.

Every schema change is an Alembic migration in ``store/migrations/versions``.
JSON columns hold values that the API stores and returns verbatim (properties,
additional_metadata, operation payloads).
"""

from __future__ import annotations

import datetime as dt
import uuid as uuid_mod
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, object_session, relationship


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}
    # SQLite: never reuse the id of a deleted row (enrichment tables keep referring to ids).
    # (A subclass with constraints gives a tuple: the constraints, then this dict.)
    __table_args__: Any = {"sqlite_autoincrement": True}


def favorites_of_caller(session: Session) -> set[tuple[str, int]]:
    """The ``(object_type, object_id)`` pairs the session's user (``info["user_id"]``, a
    request's caller) has starred, read once per session; empty without a user (a worker)."""
    cached = session.info.get("favorites")
    if cached is None:
        user_id = session.info.get("user_id")
        query = select(Favorite.object_type, Favorite.object_id).where(Favorite.user_id == user_id)
        rows = session.execute(query).all() if user_id is not None else []
        cached = session.info["favorites"] = {(t, i) for t, i in rows}
    return cached


class Starred:
    """A datastore, container or quality check: something a user may star. ``favorite`` is
    whether the *requesting* user starred it (``Favorite`` rows are per user, never shared)."""

    if TYPE_CHECKING:
        __tablename__: str
        id: int

    @property
    def favorite(self) -> bool:
        session = object_session(self)
        return session is not None and (self.__tablename__, self.id) in favorites_of_caller(session)


class Datastore(Starred, Base):
    __tablename__ = "datastore"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    store_type: Mapped[str] = mapped_column(String(16))  # jdbc | dfs
    type: Mapped[str] = mapped_column(String(32))  # duckdb | local | postgresql ...
    connection: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # never holds secrets
    secrets: Mapped[str | None] = mapped_column(Text, nullable=True)  # Fernet-encrypted JSON of the secret values
    database: Mapped[str | None] = mapped_column(Text, nullable=True)
    schema: Mapped[str | None] = mapped_column(String(255), nullable=True)
    enrichment_only: Mapped[bool] = mapped_column(Boolean, default=False)
    enrichment_prefix: Mapped[str | None] = mapped_column(String(64), nullable=True)
    enrichment_source_record_limit: Mapped[int] = mapped_column(Integer, default=10)
    enrichment_remediation_strategy: Mapped[str] = mapped_column(String(16), default="none")
    high_count_rollup_threshold: Mapped[int] = mapped_column(Integer, default=10)
    enrichment_datastore_id: Mapped[int | None] = mapped_column(
        ForeignKey("datastore.id", ondelete="SET NULL"), nullable=True
    )
    connection_id: Mapped[int | None] = mapped_column(ForeignKey("connection.id", ondelete="RESTRICT"), nullable=True)
    max_concurrent_operations: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: no limit
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # the shared star of before 0022 (no longer read or written: ``Favorite`` rows are per user)
    legacy_favorite: Mapped[bool] = mapped_column("favorite", Boolean, default=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True)

    containers: Mapped[list[Container]] = relationship(
        back_populates="datastore", cascade="all, delete-orphan", passive_deletes=True
    )
    enrichment_datastore: Mapped[Datastore | None] = relationship(remote_side=[id])
    teams: Mapped[list[Team]] = relationship(
        secondary="team_datastore", back_populates="datastores", order_by="Team.id"
    )
    connection_ref: Mapped[Connection | None] = relationship()


class Container(Starred, Base):
    __tablename__ = "container"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    datastore_id: Mapped[int] = mapped_column(ForeignKey("datastore.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(1024))
    container_type: Mapped[str] = mapped_column(String(32))  # table | file
    table_type: Mapped[str | None] = mapped_column(String(16), nullable=True)  # table | view
    location: Mapped[str | None] = mapped_column(Text, nullable=True)  # file glob for file patterns
    file_format: Mapped[str | None] = mapped_column(String(16), nullable=True)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # the shared star of before 0022 (no longer read or written: ``Favorite`` rows are per user)
    legacy_favorite: Mapped[bool] = mapped_column("favorite", Boolean, default=False)
    additional_metadata: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    query: Mapped[str | None] = mapped_column(Text, nullable=True)  # computed_*: a SELECT over the datastore
    #: computed_file / computed_join: the definition the query was rendered from (source and
    #: join containers, prefixes, select / where / group-by clauses), as the API names them.
    computed_definition: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # Incremental identifier (docs/semantics.md "Incremental scans and partitions"): the field that orders records, its kind
    # ("timestamp" or "batch"), the field that splits a read into partitions, and the
    # highest identifier value a successful scan read (JSON: ISO 8601 text or a number).
    incremental_field_name: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    incremental_identifier_type: Mapped[str | None] = mapped_column(String(16), nullable=True)
    partition_field: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    incremental_checkpoint: Mapped[Any] = mapped_column(JSON, nullable=True)
    #: "sync" while sync's proposal stands; "user" once PUT /api/containers/{id} set them.
    identifiers_set_by: Mapped[str | None] = mapped_column(String(8), nullable=True)
    #: Qualytics' container settings kept as given: the field naming a row (shown with its
    #: anomalies), fields left out of profiling and checks (names), freshness tracking on/off.
    row_identifier_field: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    exclude_fields: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    freshness_tracking_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())

    datastore: Mapped[Datastore] = relationship(back_populates="containers")
    fields: Mapped[list[Field]] = relationship(
        back_populates="container", cascade="all, delete-orphan", order_by="Field.ordinal"
    )


class Field(Base):
    __tablename__ = "field"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    container_id: Mapped[int] = mapped_column(ForeignKey("container.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(1024))
    type: Mapped[str] = mapped_column(
        String(32)
    )  # Integral | Fractional | Boolean | String | Date | Timestamp | Unknown
    native_type: Mapped[str] = mapped_column(String(255))
    nullable: Mapped[bool] = mapped_column(Boolean, default=True)
    ordinal: Mapped[int] = mapped_column(Integer, default=0)
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    #: when sync first saw the field (None for fields synced before 0021: their container's ``created``)
    created: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=True)

    container: Mapped[Container] = relationship(back_populates="fields")


class QualityCheck(Starred, Base):
    __tablename__ = "quality_check"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_updated: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    container_id: Mapped[int] = mapped_column(ForeignKey("container.id", ondelete="CASCADE"), index=True)
    rule_type: Mapped[str] = mapped_column(String(64))
    fields: Mapped[list[Any]] = mapped_column(JSON, default=list)
    properties: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    filter: Mapped[str | None] = mapped_column(Text, nullable=True)
    coverage: Mapped[float | None] = mapped_column(Float, nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="Active")  # Active | Draft | Invalid | Discarded
    additional_metadata: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    anomaly_message_field: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    inferred: Mapped[bool] = mapped_column(Boolean, default=False)
    weight: Mapped[int] = mapped_column(Integer, default=1)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_asserted: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    is_passing: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True)
    #: a new anomaly of this check is assigned to this user
    default_anomaly_assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True
    )
    #: the template the check was made from; a locked template keeps its checks in sync
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("quality_check_template.id", ondelete="SET NULL"), nullable=True, index=True
    )
    # the shared star of before 0022 (no longer read or written: ``Favorite`` rows are per user)
    legacy_favorite: Mapped[bool] = mapped_column("favorite", Boolean, default=False, server_default=sa_false())

    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True)
    last_editor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True
    )

    container: Mapped[Container] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    last_editor: Mapped[User | None] = relationship(foreign_keys=[last_editor_id])
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    template: Mapped[QualityCheckTemplate | None] = relationship()


class Operation(Base):
    __tablename__ = "operation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    type: Mapped[str] = mapped_column(String(32))  # sync | scan | ...
    datastore_id: Mapped[int | None] = mapped_column(ForeignKey("datastore.id", ondelete="SET NULL"), nullable=True)
    start_time: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    end_time: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    result: Mapped[str] = mapped_column(String(16), default="queued")  # queued|running|success|failure|aborted
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    triggered_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the accepted payload, normalised
    status: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # counters
    container_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    heartbeat: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("schedule.id", ondelete="SET NULL"), nullable=True)
    abort_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    worker: Mapped[str | None] = mapped_column(String(255), nullable=True)  # who claimed it

    datastore: Mapped[Datastore | None] = relationship()
    schedule: Mapped[Schedule | None] = relationship()
    container_scans: Mapped[list[ContainerScan]] = relationship(
        back_populates="operation", cascade="all, delete-orphan", order_by="ContainerScan.id"
    )


class ContainerScan(Base):
    __tablename__ = "container_scan"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operation.id", ondelete="CASCADE"), index=True)
    container_id: Mapped[int | None] = mapped_column(ForeignKey("container.id", ondelete="SET NULL"), nullable=True)
    start_time: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    end_time: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    records_processed: Mapped[int] = mapped_column(BigInteger, default=0)
    partitions_scanned: Mapped[int] = mapped_column(Integer, default=0)
    anomaly_count: Mapped[int] = mapped_column(Integer, default=0)
    auto_resolved_anomaly_count: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[str] = mapped_column(String(16), default="running")
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    check_results: Mapped[list[Any]] = mapped_column(JSON, default=list)  # per check: id, result, counts, error

    operation: Mapped[Operation] = relationship(back_populates="container_scans")
    container: Mapped[Container | None] = relationship()
    partition_scans: Mapped[list[PartitionScan]] = relationship(
        back_populates="container_scan", cascade="all, delete-orphan", order_by="PartitionScan.id"
    )


class Partition(Base):
    """A unit of incremental work (docs/semantics.md "Incremental scans and partitions"): one file of a file pattern, one
    batch value, or one UTC day of a timestamp identifier; kept up to date by scans."""

    __tablename__ = "partition"
    __table_args__ = (UniqueConstraint("container_id", "name"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_updated: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    container_id: Mapped[int] = mapped_column(ForeignKey("container.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(1024))
    location: Mapped[str | None] = mapped_column(Text, nullable=True)
    min_offset: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_offset: Mapped[float | None] = mapped_column(Float, nullable=True)
    min_time: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    max_time: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    partition_size: Mapped[int] = mapped_column(BigInteger, default=0)
    tags: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True, default=list)

    container: Mapped[Container] = relationship()


class PartitionScan(Base):
    """What one container scan read of one partition."""

    __tablename__ = "partition_scan"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    container_scan_id: Mapped[int] = mapped_column(ForeignKey("container_scan.id", ondelete="CASCADE"), index=True)
    partition_id: Mapped[int | None] = mapped_column(ForeignKey("partition.id", ondelete="SET NULL"), nullable=True)
    partition: Mapped[str] = mapped_column(String(1024))
    records_processed: Mapped[int] = mapped_column(BigInteger, default=0)
    result: Mapped[str] = mapped_column(String(16), default="success")
    anomaly_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)

    container_scan: Mapped[ContainerScan] = relationship(back_populates="partition_scans")


class Anomaly(Base):
    __tablename__ = "anomaly"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # the insert sentinel: a scan's new anomalies go in one INSERT … RETURNING, whose
    # generated ids SQLAlchemy matches to the objects by this unique, client-made value
    # (without one, SQLite got one statement per anomaly)
    uuid: Mapped[str] = mapped_column(
        String(36), default=lambda: str(uuid_mod.uuid4()), unique=True, insert_sentinel=True
    )
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    type: Mapped[str] = mapped_column(String(16))  # record | shape
    status: Mapped[str] = mapped_column(String(16), default="Active", index=True)
    datastore_id: Mapped[int] = mapped_column(ForeignKey("datastore.id", ondelete="CASCADE"), index=True)
    container_id: Mapped[int] = mapped_column(ForeignKey("container.id", ondelete="CASCADE"), index=True)
    operation_id: Mapped[int | None] = mapped_column(ForeignKey("operation.id", ondelete="SET NULL"), nullable=True)
    container_scan_id: Mapped[int | None] = mapped_column(
        ForeignKey("container_scan.id", ondelete="SET NULL"), nullable=True
    )
    partition_name: Mapped[str | None] = mapped_column(Text, nullable=True)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    anomalous_records_count: Mapped[int] = mapped_column(BigInteger, default=0)
    fingerprint: Mapped[int] = mapped_column(BigInteger, index=True)
    weight: Mapped[int] = mapped_column(Integer, default=1)
    source_records: Mapped[list[Any]] = mapped_column(JSON, default=list)
    source_enriched: Mapped[bool] = mapped_column(Boolean, default=False)
    # its enrichment rows are recorded in EnrichmentPending, not yet in the enrichment datastore
    enrichment_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    resolved_by_operation_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_updated: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    last_editor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True
    )
    #: user-editable text (``message`` is what the scan found and never changes)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: ids of the users (``user_account``) the anomaly is assigned to
    assignee_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)

    datastore: Mapped[Datastore] = relationship()
    container: Mapped[Container] = relationship()
    last_editor: Mapped[User | None] = relationship(foreign_keys=[last_editor_id])
    status_changes: Mapped[list[AnomalyStatusChange]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="AnomalyStatusChange.id", lazy="selectin"
    )
    failed_checks: Mapped[list[FailedCheck]] = relationship(
        back_populates="anomaly", cascade="all, delete-orphan", order_by="FailedCheck.id"
    )
    comments: Mapped[list[Comment]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="Comment.id"
    )
    #: what the scan that found it read of its partition (None for an anomaly of no scan)
    partition_scan: Mapped[PartitionScan | None] = relationship(
        primaryjoin="and_(foreign(Anomaly.container_scan_id) == PartitionScan.container_scan_id, "
        "foreign(Anomaly.partition_name) == PartitionScan.partition)",
        viewonly=True,
        uselist=False,
        lazy="selectin",
    )


class AnomalyStatusChange(Base):
    """Audit: anomaly ``anomaly_id`` went from ``previous`` to ``status`` at ``created``, by
    ``user_id`` (None: by a scan, e.g. an auto-resolve)."""

    __tablename__ = "anomaly_status_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    anomaly_id: Mapped[int] = mapped_column(ForeignKey("anomaly.id", ondelete="CASCADE"), index=True)
    previous: Mapped[str | None] = mapped_column(String(16), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True)

    user: Mapped[User | None] = relationship()


class EnrichmentPending(Base):
    """The enrichment rows of one container scan, recorded with its anomalies and deleted once
    they are in the enrichment datastore (``enrichment/pending.py``). Any worker may write
    them: it first takes the lease (``lease_until``) with a conditional UPDATE."""

    __tablename__ = "enrichment_pending"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    container_scan_id: Mapped[int] = mapped_column(Integer, unique=True)
    operation_id: Mapped[int] = mapped_column(Integer, index=True)
    container_id: Mapped[int] = mapped_column(Integer)
    enrichment_datastore_id: Mapped[int] = mapped_column(Integer)
    prefix: Mapped[str] = mapped_column(String(255))
    batch: Mapped[dict[str, Any]] = mapped_column(JSON)  # enrichment.pending.encode_batch
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class FailedCheck(Base):
    __tablename__ = "failed_check"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    anomaly_id: Mapped[int] = mapped_column(ForeignKey("anomaly.id", ondelete="CASCADE"), index=True)
    quality_check_id: Mapped[int | None] = mapped_column(
        ForeignKey("quality_check.id", ondelete="SET NULL"), nullable=True, index=True
    )
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    anomalous_records_count: Mapped[int] = mapped_column(BigInteger, default=0)

    anomaly: Mapped[Anomaly] = relationship(back_populates="failed_checks")
    quality_check: Mapped[QualityCheck | None] = relationship()


class User(Base):
    """A person (signs in with a password) or a service user (``user_type`` "Service": API
    tokens only). ``deleted_at`` set = deactivated: its tokens answer 401 until reactivated."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(255), unique=True)
    role: Mapped[str] = mapped_column(String(32), default="Member")  # Admin | Manager | Member
    deleted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    user_type: Mapped[str] = mapped_column(String(16), default="Person", server_default="Person")  # | Service
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)  # Argon2id, never returned
    last_login: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


#: Members of a team (the Public team's members are every user, implicitly).
team_member = Table(
    "team_member",
    Base.metadata,
    Column("team_id", ForeignKey("team.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True, index=True),
)

#: The datastores a team holds its ``permission`` on.
team_datastore = Table(
    "team_datastore",
    Base.metadata,
    Column("team_id", ForeignKey("team.id", ondelete="CASCADE"), primary_key=True),
    Column("datastore_id", ForeignKey("datastore.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Team(Base):
    """A group of users holding one permission (Reporter < Viewer < Drafter < Author < Editor)
    on each of its datastores. The public team (``is_public``) counts every user as a member."""

    __tablename__ = "team"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    permission: Mapped[str] = mapped_column(String(16), default="Viewer")  # Reporter … Editor

    members: Mapped[list[User]] = relationship(secondary=team_member, order_by="User.id")
    datastores: Mapped[list[Datastore]] = relationship(
        secondary=team_datastore, back_populates="teams", order_by="Datastore.id"
    )


class Favorite(Base):
    """One user's star on a datastore, container or quality check (``object_type``: its table
    name). Per user: starring never changes the object nor what another user sees. Ids are never
    reused (``sqlite_autoincrement``), so a star left by a deleted object stars nothing."""

    __tablename__ = "favorite"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    object_type: Mapped[str] = mapped_column(String(32), primary_key=True)  # datastore | container | quality_check
    object_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class UserToken(Base):
    """A personal access token. Only its JWT id (``jti``) is stored, never the token."""

    __tablename__ = "user_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    jti: Mapped[str] = mapped_column(String(64), unique=True)
    expiration: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    last_used: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    scim_endpoints_only: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship()


class GlobalTag(Base):
    __tablename__ = "global_tag"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    color: Mapped[str | None] = mapped_column(String(32), nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    category: Mapped[str | None] = mapped_column(String(255), nullable=True)
    weight_modifier: Mapped[int] = mapped_column(Integer, default=0)


class Connection(Base):
    """Host and credentials shared by datastores. ``secrets`` is Fernet-encrypted JSON."""

    __tablename__ = "connection"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    secrets: Mapped[str | None] = mapped_column(Text, nullable=True)


class ComputedField(Base):
    __tablename__ = "computed_field"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    container_id: Mapped[int] = mapped_column(ForeignKey("container.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(1024))
    transformation: Mapped[str] = mapped_column(String(64))
    source_fields: Mapped[list[Any]] = mapped_column(JSON, default=list)
    properties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    additional_metadata: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class QualityCheckTemplate(Base):
    __tablename__ = "quality_check_template"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    rule_type: Mapped[str] = mapped_column(String(64))
    fields: Mapped[list[Any]] = mapped_column(JSON, default=list)
    properties: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    filter: Mapped[str | None] = mapped_column(Text, nullable=True)
    coverage: Mapped[float | None] = mapped_column(Float, nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    template_locked: Mapped[bool] = mapped_column(Boolean, default=False)
    additional_metadata: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    anomaly_message_field: Mapped[str | None] = mapped_column(String(1024), nullable=True)


class ContainerProfile(Base):
    __tablename__ = "container_profile"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    operation_id: Mapped[int | None] = mapped_column(ForeignKey("operation.id", ondelete="SET NULL"), nullable=True)
    container_id: Mapped[int] = mapped_column(ForeignKey("container.id", ondelete="CASCADE"), index=True)
    records_count: Mapped[int] = mapped_column(BigInteger, default=0)
    records_processed: Mapped[int] = mapped_column(BigInteger, default=0)
    result: Mapped[str] = mapped_column(String(16), default="success")
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    checks_synchronized: Mapped[int] = mapped_column(Integer, default=0)
    checks_added: Mapped[int] = mapped_column(Integer, default=0)
    checks_updated: Mapped[int] = mapped_column(Integer, default=0)

    container: Mapped[Container] = relationship()
    field_profiles: Mapped[list[FieldProfile]] = relationship(
        back_populates="container_profile", cascade="all, delete-orphan", order_by="FieldProfile.id"
    )


class FieldProfile(Base):
    __tablename__ = "field_profile"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    container_profile_id: Mapped[int] = mapped_column(
        ForeignKey("container_profile.id", ondelete="CASCADE"), index=True
    )
    container_id: Mapped[int] = mapped_column(ForeignKey("container.id", ondelete="CASCADE"), index=True)
    field_name: Mapped[str] = mapped_column(String(1024))
    statistics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    container_profile: Mapped[ContainerProfile] = relationship(back_populates="field_profiles")


class Schedule(Base):
    """An operation payload plus a 5-field crontab (UTC)."""

    __tablename__ = "schedule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    type: Mapped[str] = mapped_column(String(32))
    crontab: Mapped[str] = mapped_column(String(255))
    datastore_id: Mapped[int] = mapped_column(ForeignKey("datastore.id", ondelete="CASCADE"), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    deactivated: Mapped[bool] = mapped_column(Boolean, default=False)
    next_trigger: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, index=True)
    last_triggered: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    datastore: Mapped[Datastore] = relationship()


class ScheduleFire(Base):
    """One fire time of a schedule. The unique key makes each slot run exactly once, however
    many schedulers race for it."""

    __tablename__ = "schedule_fire"
    __table_args__ = (
        UniqueConstraint("schedule_id", "fire_time", name="uq_schedule_fire_slot"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedule.id", ondelete="CASCADE"))
    fire_time: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    operation_id: Mapped[int | None] = mapped_column(ForeignKey("operation.id", ondelete="SET NULL"), nullable=True)


class CheckMeasurement(Base):
    """One measurement of a time-series check (metric, volumetric, freshness, change limits),
    kept by a successful container scan. ``value`` is JSON: a number, an exact decimal as a
    string, an ISO 8601 timestamp (freshness) or ``{records, changed_at}`` (freshness
    without a field)."""

    __tablename__ = "check_measurement"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quality_check_id: Mapped[int] = mapped_column(ForeignKey("quality_check.id", ondelete="CASCADE"), index=True)
    operation_id: Mapped[int | None] = mapped_column(ForeignKey("operation.id", ondelete="SET NULL"), nullable=True)
    measured_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    value: Mapped[Any] = mapped_column(JSON, nullable=True)


class QualityScoreSettings(Base):
    """A datastore's quality score settings (``GET/PUT /api/datastores/{id}/score-settings``):
    the decay period in days (7–180; NULL: the default, 180) and one weight per quality
    dimension (0.0–2.0; NULL: the default, 1.0). No row: every setting is its default.
    Definitions in ``docs/quality-score.md``."""

    __tablename__ = "quality_score_settings"

    datastore_id: Mapped[int] = mapped_column(ForeignKey("datastore.id", ondelete="CASCADE"), primary_key=True)
    decay_period_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    completeness_weight: Mapped[float | None] = mapped_column(Float, nullable=True)
    coverage_weight: Mapped[float | None] = mapped_column(Float, nullable=True)
    conformity_weight: Mapped[float | None] = mapped_column(Float, nullable=True)
    consistency_weight: Mapped[float | None] = mapped_column(Float, nullable=True)
    precision_weight: Mapped[float | None] = mapped_column(Float, nullable=True)
    timeliness_weight: Mapped[float | None] = mapped_column(Float, nullable=True)
    volumetrics_weight: Mapped[float | None] = mapped_column(Float, nullable=True)
    accuracy_weight: Mapped[float | None] = mapped_column(Float, nullable=True)


class Activity(Base):
    """One change a user made through the API (``GET /api/activity``): ``verb`` ``insert`` /
    ``update`` / ``delete`` of the row ``object_id`` of table ``object_type`` (``datastore``,
    ``container``, ``quality_check``, ``anomaly``…), when and by whom. Changes made by
    operations (scans, syncs…) are not recorded. Written by ``store/activity.py``."""

    __tablename__ = "activity"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True, index=True
    )
    verb: Mapped[str] = mapped_column(String(16))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[int | None] = mapped_column(Integer, nullable=True)

    user: Mapped[User | None] = relationship()


class Comment(Base):
    """A comment on an anomaly (``anomaly_id``) or a partition (``partition_id``): exactly one is set."""

    __tablename__ = "comment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_updated: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    message: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True)
    anomaly_id: Mapped[int | None] = mapped_column(
        ForeignKey("anomaly.id", ondelete="CASCADE"), nullable=True, index=True
    )
    partition_id: Mapped[int | None] = mapped_column(
        ForeignKey("partition.id", ondelete="CASCADE"), nullable=True, index=True
    )

    user: Mapped[User | None] = relationship()


class FieldVersion(Base):
    """One change of a field made through the API: ``changeset`` is ``{key: [old, new]}``."""

    __tablename__ = "field_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    field_id: Mapped[int] = mapped_column(ForeignKey("field.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True)
    changeset: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    user: Mapped[User | None] = relationship()
