"""Store rows → JSON-ready dicts in the Qualytics response shapes.

Secrets in a datastore's connection (password, secret_key, access_key, token, …) are
never returned.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import Any, overload
from urllib.parse import quote, urlsplit, urlunsplit

from ..domain import OperationResult
from ..operations import service
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
    PartitionScan,
    QualityCheck,
    User,
)

SECRET_KEYS = {"password", "secret_key", "access_key", "token", "passphrase", "private_key", "api_key"}
OPEN = ("Active", "Acknowledged")


def iso(value: dt.datetime | None) -> str | None:
    """ISO 8601 in UTC with a trailing Z (naive values are read as UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def tags(names: list[str] | None) -> list[dict[str, Any]]:
    return [{"name": n} for n in (names or [])]


def datastore_stub(ds: Datastore | None) -> dict[str, Any] | None:
    if ds is None:
        return None
    return {
        "id": ds.id,
        "name": ds.name,
        "store_type": ds.store_type,
        "type": ds.type,
        "enrich_only": ds.enrichment_only,
        "enrich_container_prefix": ds.enrichment_prefix,
        "favorite": ds.favorite,
    }


def operation_stub(op: Operation | None) -> dict[str, Any] | None:
    if op is None:
        return None
    queued = op.result == OperationResult.QUEUED
    return {
        "id": op.id,
        "created": iso(op.created),
        "type": op.type,
        "result": OperationResult.RUNNING.value if queued else op.result,
        "start_time": iso(op.created if queued and op.start_time is None else op.start_time),
        "end_time": iso(op.end_time),
        "message": op.message,
    }


def jdbc_url(ds: Datastore) -> str | None:
    """The JDBC-style URL of a database datastore (``store_type`` jdbc), never with a user or
    password: ``jdbc:postgresql://host:port/database`` (``?currentSchema=`` when a schema is
    set), ``jdbc:mysql://host:port/database``, ``jdbc:duckdb:/path`` and
    ``jdbc:sqlite:/path`` (the database file). None for file datastores."""
    if ds.store_type != "jdbc":
        return None
    if ds.type in ("duckdb", "sqlite"):
        return f"jdbc:{ds.type}:{ds.database}"
    conn = ds.connection or {}
    host = str(conn.get("host") or "")
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    port = conn.get("port")
    url = f"jdbc:{ds.type}://{host}{f':{port}' if port is not None else ''}/{quote(ds.database or '', safe='')}"
    if ds.type == "postgresql" and ds.schema:
        url += f"?currentSchema={quote(ds.schema, safe='')}"
    return url


def dfs_uri(ds: Datastore) -> str | None:
    """The folder or bucket URI a file datastore (``store_type`` dfs) reads
    (``file:///folder``, ``s3://bucket/prefix``), without a password it may carry; None for
    database datastores and for a Spark datastore that reads only its metastore's tables."""
    if ds.store_type != "dfs":
        return None
    uri = (ds.connection or {}).get("uri")
    return without_password(uri) if uri else None


def without_password(value: Any) -> Any:
    """``value`` without the password a URL in it carries (``scheme://user:pw@host`` →
    ``scheme://user@host``); any other value unchanged."""
    if not isinstance(value, str) or "@" not in value or "://" not in value:
        return value
    try:
        parts = urlsplit(value)
        if parts.password is None:
            return value
    except ValueError:  # not a URL after all (e.g. a bad port)
        return value
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.netloc.rsplit("@", 1)[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}@{netloc}" if user else netloc))


def public_connection(parameters: dict[str, Any] | None) -> dict[str, Any]:
    """Connection ``parameters`` as answered: without secret keys (``SECRET_KEYS``) and
    without a password written into a URL (an S3 ``endpoint_url``, a ``uri``)."""
    return {k: without_password(v) for k, v in (parameters or {}).items() if k not in SECRET_KEYS}


def datastore(ds: Datastore, metrics: dict[str, Any] | None = None) -> dict[str, Any]:
    """A datastore; ``metrics`` (``insights.service.datastore_metrics``) is added when given.
    ``connected`` is false when its latest finished operation failed (its connection or
    source did not answer as expected), true otherwise; ``latest_operation`` is its newest
    operation."""
    from sqlalchemy.orm import object_session

    from ..store.repositories import operations as operations_repo

    conn = public_connection(ds.connection)
    if ds.connection_ref is not None:  # a shared connection: named, so clients can refer to it
        conn = {**conn, "id": ds.connection_ref.id, "name": ds.connection_ref.name}
    enrichment = ds.enrichment_datastore
    session = object_session(ds)
    latest = operations_repo.latest(session, ds.id) if session else None
    latest_finished = operations_repo.latest(session, ds.id, finished=True) if session else None
    return {
        "id": ds.id,
        "created": iso(ds.created),
        "name": ds.name,
        "store_type": ds.store_type,
        "type": ds.type,
        "connection": conn,
        "connection_id": ds.connection_id,
        "database": ds.database,
        "schema": ds.schema,
        "enrichment_only": ds.enrichment_only,
        "enrich_only": ds.enrichment_only,
        "enrichment_prefix": ds.enrichment_prefix,
        "enrich_container_prefix": ds.enrichment_prefix,
        "enrichment_source_record_limit": ds.enrichment_source_record_limit,
        "enrichment_remediation_strategy": ds.enrichment_remediation_strategy,
        "high_count_rollup_threshold": ds.high_count_rollup_threshold,
        "enrichment_datastore_id": ds.enrichment_datastore_id,
        "enrichment_datastore": {"id": enrichment.id, "name": enrichment.name} if enrichment else None,
        "enrich_datastore": {"id": enrichment.id, "name": enrichment.name} if enrichment else None,
        "connected": latest_finished is None or latest_finished.result != "failure",
        "latest_operation": operation_stub(latest),
        "global_tags": tags(ds.tags),
        "favorite": ds.favorite,
        "description": ds.description,
        "max_concurrent_operations": ds.max_concurrent_operations,
        "teams": [{"id": t.id, "name": t.name, "permission": t.permission} for t in ds.teams],
        "created_by": ds.created_by_id,
        "jdbc_url": jdbc_url(ds),
        "uri": dfs_uri(ds),
        **({"metrics": metrics} if metrics is not None else {}),
    }


@overload
def container_stub(c: Container) -> dict[str, Any]: ...
@overload
def container_stub(c: None) -> None: ...
@overload
def container_stub(c: Container | None) -> dict[str, Any] | None: ...
def container_stub(c: Container | None) -> dict[str, Any] | None:
    """``{id, name, container_type, table_type, store_type}``; ``store_type`` is its datastore's."""
    if c is None:
        return None
    return {
        "id": c.id,
        "name": c.name,
        "container_type": c.container_type,
        "table_type": c.table_type,
        "store_type": c.datastore.store_type,
    }


def container(c: Container, metrics: dict[str, Any] | None = None) -> dict[str, Any]:
    """A container; ``metrics`` (``insights.service.container_metrics``) or else only its field count."""
    return {
        **container_stub(c),
        "created": iso(c.created),
        "datastore": datastore_stub(c.datastore),
        "deleted_at": iso(c.deleted_at),
        "favorite": c.favorite,
        "global_tags": tags(c.tags),
        "file_pattern": c.location,
        "file_format": c.file_format,
        "additional_metadata": c.additional_metadata,
        "description": c.description,
        "metrics": metrics if metrics is not None else {"fields": len(c.fields)},
        "incremental_field_name": c.incremental_field_name,
        "incremental_identifier_type": c.incremental_identifier_type,
        "partition_field": c.partition_field,
        "incremental_checkpoint": c.incremental_checkpoint,
        "status": "Active" if c.deleted_at is None else "Archived",
        "row_identifier_field": c.row_identifier_field,
        "exclude_fields": list(c.exclude_fields or []),
        "freshness_tracking_enabled": bool(c.freshness_tracking_enabled),
        "volumetric_tracking_enabled": False,  # Assay keeps no volumetric tracking
        **computed_definition(c),
        **file_keys(c),
        **source_container(c),
    }


def file_keys(c: Container) -> dict[str, Any]:
    """A file pattern's keys under Qualytics' names ({} for other containers), from its glob
    (``location``, relative to the datastore's ``uri``) and its datastore's CSV settings:

    * ``relative_path``: the folder of its files, ``/``-separated with a leading and a
      trailing ``/`` (``/`` at the datastore's root);
    * ``file_name``: the glob of its files' names without the extension (``orders*``); a
      Delta table: its folder's name;
    * ``extension``: ``csv``, ``csv.gz``, ``parquet``, ``json`` …; ``""`` for a Delta table (a folder);
    * ``format``: csv | parquet | json | delta (``file_format``'s value);
    * ``has_header``: CSV files: whether their first row names the fields (the datastore's
      ``header`` setting, true when unset); null for other formats;
    * ``escape_character``: CSV files: the datastore's ``escape`` setting (null: the reader's default);
    * ``last_modified``: the newest modification time of its files that a scan read (its
      last-modified checkpoint); null before its first successful scan or when its
      incremental identifier is one of its fields.
    """
    from ..operations.incremental import LAST_MODIFIED, TIMESTAMP, checkpoint_value

    if c.container_type != "file":
        return {}
    path = PurePosixPath(c.location or c.name)
    folder = path.parent.as_posix()
    name, extension = path.name, ""
    if c.file_format != "delta":
        base = name.removesuffix(".gz")
        suffix = PurePosixPath(base).suffix
        name = base.removesuffix(suffix) if suffix else base
        extension = suffix.lstrip(".") + (".gz" if base != path.name else "")
    csv = c.file_format == "csv"
    settings = c.datastore.connection or {}
    modified = None
    if c.incremental_field_name == LAST_MODIFIED and c.incremental_checkpoint is not None:
        modified = iso(checkpoint_value(TIMESTAMP, c.incremental_checkpoint))
    return {
        "relative_path": "/" if folder == "." else f"/{folder.strip('/')}/",
        "file_name": name,
        "extension": extension,
        "format": c.file_format,
        "has_header": (settings.get("header") is not False) if csv else None,
        "escape_character": settings.get("escape") if csv else None,
        "last_modified": modified,
    }


def source_container(c: Container) -> dict[str, Any]:
    """A computed file's ``source_container``: the stub of the file pattern it reads (null
    once that is gone); {} for other containers."""
    from sqlalchemy.orm import object_session

    if c.container_type != "computed_file":
        return {}
    source_id = (c.computed_definition or {}).get("source_container_id")
    session = object_session(c)
    source = session.get(Container, source_id) if session is not None and source_id is not None else None
    return {"source_container": container_stub(source)}


def container_listing(c: Container) -> dict[str, Any]:
    """A live container in ``GET /api/containers/listing`` (``ContainerListing``)."""
    ds = c.datastore
    return {
        "id": c.id,
        "name": c.name,
        "container_type": c.container_type,
        "table_type": c.table_type,
        "deleted_at": iso(c.deleted_at),
        "favorite": c.favorite,
        "volumetric_tracking_enabled": False,
        "freshness_tracking_enabled": bool(c.freshness_tracking_enabled),
        "datastore": {"id": ds.id, "name": ds.name, "store_type": ds.store_type, "type": ds.type},
    }


#: The definition keys a computed file / computed join answers with (as Qualytics names them).
COMPUTED_KEYS = {
    "computed_file": ("source_container_id", "select_clause", "where_clause", "group_by_clause"),
    "computed_join": (
        "left_container_id",
        "right_container_id",
        "right_datastore_id",
        "left_join_field_name",
        "right_join_field_name",
        "left_prefix",
        "right_prefix",
        "join_type",
        "select_clause",
        "where_clause",
        "group_by_clause",
    ),
}


def computed_definition(c: Container) -> dict[str, Any]:
    """The definition a computed container was created from ({} for other containers): a
    computed table's ``query`` (as written); a computed file's or a
    pairwise computed join's clauses and containers; a SQL-mode computed join's ``query`` (as
    written) and ``sources``. A computed file and a pairwise join answer no ``query`` (clients
    tell the join modes apart by it)."""
    definition = c.computed_definition or {}
    if c.container_type == "computed_table":
        return {"query": definition.get("query", c.query)}
    if c.container_type == "computed_join" and definition.get("sources"):
        return {"query": definition.get("query"), "sources": definition["sources"]}
    return {key: definition.get(key) for key in COMPUTED_KEYS.get(c.container_type, ())}


def computed_field(cf: ComputedField) -> dict[str, Any]:
    return {
        "id": cf.id,
        "created": iso(cf.created),
        "name": cf.name,
        "container_id": cf.container_id,
        "transformation": cf.transformation,
        "transformation_type": cf.transformation,
        "source_fields": cf.source_fields,
        "properties": cf.properties,
        "additional_metadata": cf.additional_metadata,
    }


def fields(session, rows: list[Field]) -> list[dict[str, Any]]:
    """:func:`field` of each of ``rows``, ``is_computed_field`` looked up in one query."""
    from ..store.repositories import containers as containers_repo

    computed = containers_repo.computed_field_keys(session, {f.container_id for f in rows})
    return [field(f, (f.container_id, f.name) in computed) for f in rows]


def container_detail(c: Container, metrics: dict[str, Any] | None = None) -> dict[str, Any]:
    """``container`` (with ``metrics`` when given) plus its ``computed_fields`` (what
    GET /containers/{id} answers)."""
    from sqlalchemy.orm import object_session

    from ..store.repositories import containers as containers_repo

    session = object_session(c)
    rows = containers_repo.computed_fields(session, c.id) if session else []
    return {**container(c, metrics), "computed_fields": [computed_field(cf) for cf in rows]}


def field_created(f: Field) -> str | None:
    """When sync first saw the field; for fields synced before that was kept, its container's ``created``."""
    return iso(f.created if f.created is not None else f.container.created)


def field(f: Field, computed: bool = False) -> dict[str, Any]:
    """A field (``Field`` response model); ``computed``: it is one of the container's computed fields."""
    return {
        "id": f.id,
        "created": field_created(f),
        "name": f.name,
        "type": f.type,
        "native_type": f.native_type,
        "nullable": f.nullable,
        "completeness": None,
        "weight": 1,
        "global_tags": tags(f.tags),
        "is_computed_field": computed,
        "quality_score": None,
        "latest_profile_id": None,
    }


def field_profile(fp: FieldProfile) -> dict[str, Any]:
    """A field's statistics from one container profile (``FieldProfile`` response model)."""
    return {
        "id": fp.id,
        "created": iso(fp.created),
        "name": fp.field_name,
        "field_name": fp.field_name,
        "container_profile_id": fp.container_profile_id,
        **fp.statistics,
    }


def coverage(value: float | None) -> float:
    """A check's ``coverage`` as answered: the share of the checked records (after its
    ``filter``) that must pass, 0…1; a check stored without one covers every record (1.0)."""
    return 1.0 if value is None else float(value)


def inferrable(q: QualityCheck) -> dict[str, bool]:
    """Which parts of check ``q`` a later profile may still rewrite (docs/semantics.md,
    "Profile and inferred checks"): the properties and coverage of an inferred (AI managed)
    check; never its description, which a profile writes only when it creates the check."""
    return {
        "is_properties_inferrable": bool(q.inferred),
        "is_coverage_inferrable": bool(q.inferred),
        "is_description_inferrable": False,
    }


def quality_check(q: QualityCheck, anomaly_count: int | None = None) -> dict[str, Any]:
    by_name = {f.name: f for f in (q.container.fields if q.container else [])}
    return {
        "id": q.id,
        "created": iso(q.created),
        "last_updated": iso(q.last_updated),
        "rule_type": q.rule_type,
        "inferred": q.inferred,
        "fields": [
            {"id": by_name[n].id, "created": field_created(by_name[n]), "name": n, "type": by_name[n].type}
            if n in by_name
            else {"name": n}
            for n in (q.fields or [])
        ],
        "description": q.description,
        "coverage": coverage(q.coverage),
        "properties": q.properties,
        "filter": q.filter,
        "status": q.status,
        "deleted_at": iso(q.deleted_at),
        **inferrable(q),
        "container": {
            "id": q.container.id,
            "name": q.container.name,
            "container_type": q.container.container_type,
            "store_type": q.container.datastore.store_type,
            "datastore": datastore_stub(q.container.datastore),
        }
        if q.container
        else None,
        "global_tags": tags(q.tags),
        "additional_metadata": q.additional_metadata,
        "anomaly_message_field": q.anomaly_message_field,
        "weight": q.weight,
        "importance_score": float(q.weight if q.weight is not None else 1),
        "last_asserted": iso(q.last_asserted),
        "is_passing": q.is_passing,
        "last_assertion_error": q.last_error,
        "anomaly_count": anomaly_count,
        "template_id": q.template_id,
        "template_locked": q.template.template_locked if q.template is not None else None,
        "favorite": bool(q.favorite),
        "is_new": False,
        "is_template": False,  # templates answer as QualityCheckTemplate
        "created_by": user_stub(q.created_by),
        "last_editor": user_with_teams(q.last_editor),
        "owner_id": q.owner_id,
        "owner": user_stub(q.owner),
        "default_anomaly_assignee_id": q.default_anomaly_assignee_id,
        "default_anomaly_assignee": user_stub(_user(q, q.default_anomaly_assignee_id)),
    }


def quality_check_listing(q: QualityCheck) -> dict[str, Any]:
    """The short form of ``GET /api/quality-checks/listing``."""
    return {
        "id": q.id,
        "created": iso(q.created),
        "rule_type": q.rule_type,
        "inferred": q.inferred,
        "fields": [{"name": n} for n in (q.fields or [])],
        "description": q.description,
        "coverage": coverage(q.coverage),
        "properties": q.properties,
        "filter": q.filter,
        "status": q.status,
        "deleted_at": iso(q.deleted_at),
        "last_updated": iso(q.last_updated),
        "last_asserted": iso(q.last_asserted),
        "is_passing": q.is_passing,
        "weight": q.weight,
        "additional_metadata": q.additional_metadata,
        "global_tags": tags(q.tags),
    }


def _user(row: Any, user_id: int | None) -> User | None:
    """User ``user_id`` through ``row``'s session (its identity map), or None."""
    from sqlalchemy.orm import object_session

    session = object_session(row)
    if user_id is None or session is None:
        return None
    return session.get(User, user_id)


def user_key(u: User) -> str:
    """A user's ``user_id`` as Qualytics names it (its identity provider's id): ``assay|<id>``."""
    return f"assay|{u.id}"


@overload
def user_stub(u: User) -> dict[str, Any]: ...
@overload
def user_stub(u: None) -> None: ...
@overload
def user_stub(u: User | None) -> dict[str, Any] | None: ...
def user_stub(u: User | None) -> dict[str, Any] | None:
    """``{id, created, user_id, name, email, role}`` of a user (owners, assignees, authors, audit
    fields), None for none."""
    if u is None:
        return None
    return {
        "id": u.id,
        "created": iso(u.created),
        "user_id": user_key(u),
        "name": u.name,
        "email": u.email,
        "role": u.role,
    }


def user_with_teams(u: User | None) -> dict[str, Any] | None:
    """``user_stub`` plus ``teams`` (``{id, created, name, permission}``), as Qualytics answers a
    check's ``last_editor``; each user's teams are read once per session."""
    from sqlalchemy.orm import object_session

    from ..store.repositories import users as users_repo

    stub = user_stub(u)
    session = object_session(u) if u is not None else None
    if u is None or stub is None or session is None:
        return stub
    cache = session.info.setdefault("teams_of_user", {})
    if u.id not in cache:
        cache[u.id] = [
            {"id": t.id, "created": iso(t.created), "name": t.name, "permission": t.permission}
            for t in users_repo.teams_of(session, u)
        ]
    return {**stub, "teams": cache[u.id]}


def comment(c: Comment) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": c.id,
        "created": iso(c.created),
        "last_updated": iso(c.last_updated),
        "message": c.message,
        "user": user_stub(c.user),
    }
    if c.anomaly_id is not None:
        out["anomaly_id"] = c.anomaly_id
    if c.partition_id is not None:
        out["partition_id"] = c.partition_id
    return out


def container_scan(cs: ContainerScan, statuses: dict[str, int] | None = None) -> dict[str, Any]:
    """A container scan; ``statuses``: its anomalies' counts per status now (read when not given)."""
    if statuses is None:
        from sqlalchemy.orm import object_session

        from ..store.repositories import anomalies as anomalies_repo

        session = object_session(cs)
        statuses = anomalies_repo.status_counts_by_container_scan(session, [cs.id]).get(cs.id, {}) if session else {}
    return {
        "id": cs.id,
        "created": iso(cs.created),
        "operation_id": cs.operation_id,
        "container": container_stub(cs.container),
        "start_time": iso(cs.start_time),
        "end_time": iso(cs.end_time),
        "records_processed": cs.records_processed,
        "partitions_scanned": cs.partitions_scanned,
        "anomaly_count": cs.anomaly_count,
        "open_anomaly_count": sum(n for status, n in statuses.items() if status in OPEN),
        "archived_anomaly_count": sum(n for status, n in statuses.items() if status not in OPEN),
        "auto_resolved_anomaly_count": cs.auto_resolved_anomaly_count,
        "result": cs.result,
        "message": cs.message,
        "quality_checks": cs.check_results or [],
        "partition_scans": [partition_scan(ps) for ps in cs.partition_scans],
    }


def partition_scan(ps: PartitionScan | None) -> dict[str, Any] | None:
    """What one container scan read of one partition (``PartitionScan`` response model)."""
    if ps is None:
        return None
    return {
        "id": ps.id,
        "created": iso(ps.container_scan.created),
        "partition": ps.partition,
        "partition_id": ps.partition_id,
        "records_processed": ps.records_processed,
        "result": ps.result,
        "message": ps.container_scan.message if ps.result != "success" else None,
        "anomaly_count": len(ps.anomaly_ids or []),
        "anomalies": list(ps.anomaly_ids or []),
    }


def container_scans(scans: list[ContainerScan]) -> list[dict[str, Any]]:
    """Several container scans, their anomaly counts read in one query."""
    from sqlalchemy.orm import object_session

    from ..store.repositories import anomalies as anomalies_repo

    session = object_session(scans[0]) if scans else None
    counts = anomalies_repo.status_counts_by_container_scan(session, [cs.id for cs in scans]) if session else {}
    return [container_scan(cs, counts.get(cs.id, {})) for cs in scans]


SCAN_STATUS_KEYS = service.SCAN_STATUS_KEYS
PROFILE_STATUS_KEYS = service.PROFILE_STATUS_KEYS
MATERIALIZE_STATUS_KEYS = service.MATERIALIZE_STATUS_KEYS
PROMOTE_STATUS_KEYS = service.PROMOTE_STATUS_KEYS


def container_profiles(op: Operation) -> list[dict[str, Any]]:
    """Per-container results of a profile operation (docs/semantics.md "Profile and inferred checks")."""
    from sqlalchemy import select
    from sqlalchemy.orm import object_session

    session = object_session(op)
    if session is None:
        return []
    rows = session.scalars(
        select(ContainerProfile).where(ContainerProfile.operation_id == op.id).order_by(ContainerProfile.id)
    )
    return [container_profile_summary(cp, session.get(Container, cp.container_id)) for cp in rows]


def container_profile_summary(cp: ContainerProfile, container: Container | None) -> dict[str, Any]:
    """A container profile's counts and result (``ContainerProfile`` response model)."""
    return {
        "id": cp.id,
        "created": iso(cp.created),
        "parent_profile_id": None,
        "container": container_stub(container),
        "records_count": cp.records_count,
        "records_processed": cp.records_processed,
        "checks_synchronized": cp.checks_synchronized,
        "checks_added": cp.checks_added,
        "checks_updated": cp.checks_updated,
        "field_profiles_count": len(cp.field_profiles),
        "result": cp.result,
        "message": cp.message,
    }


def container_profile(cp: ContainerProfile, container: Container | None) -> dict[str, Any]:
    """One container profile with the fields it measured in container order
    (``ContainerProfileFull``); ``container_order_index`` is the field's current position,
    null for a field no longer in the container's schema."""
    order = {f.name: f.ordinal for f in (container.fields if container else [])}
    return {
        **container_profile_summary(cp, container),
        "operation_id": cp.operation_id,
        "partitions": [],
        "field_profiles": [
            {"name": fp.field_name, "container_order_index": order.get(fp.field_name)} for fp in cp.field_profiles
        ],
    }


def profile_settings(params: dict[str, Any]) -> dict[str, Any]:
    """The settings a profile ran with (``params``: its payload): the payload's value, else the
    default the profile applies (``operations.profile.DEFAULTS``) for
    ``max_count_testing_sample``, ``percent_testing_threshold``, ``high_correlation_threshold``
    and ``histogram_max_distinct_values``; ``infer_constraints`` (Qualytics' older flag): whether
    it infers checks (``inference_threshold`` > 0); ``percent_testing_holdout``: the share of
    the sample held out to test inferred checks (1/3: a row is held out when the hash of its
    values is 0 modulo 3)."""
    from ..engine.inference.core import HOLDOUT_MODULUS
    from ..operations.profile import DEFAULTS

    out = {key: default if params.get(key) is None else params[key] for key, default in DEFAULTS.items()}
    out["infer_constraints"] = bool(params.get("inference_threshold"))
    out["percent_testing_holdout"] = 1 / HOLDOUT_MODULUS
    return out


def operation(op: Operation, containers: list[Container] | None = None) -> dict[str, Any]:
    p = op.params or {}
    queued = op.result == OperationResult.QUEUED
    status = dict(op.status or {})
    out: dict[str, Any] = {
        "id": op.id,
        "created": iso(op.created),
        "type": op.type,
        # Qualytics' operation result is success | failure | running | aborted, and start_time is
        # required: a queued operation answers running, from when it was queued, with queued true
        "start_time": iso(op.start_time if op.start_time is not None or not queued else op.created),
        "end_time": iso(op.end_time),
        "result": OperationResult.RUNNING.value if queued else op.result,
        "queued": queued,
        "message": op.message,
        "triggered_by": op.triggered_by,
        "datastore": datastore_stub(op.datastore),
        "datastore_id": op.datastore_id,
        "schedule": {
            "id": op.schedule.id,
            "name": op.schedule.name,
            "type": op.schedule.type,
            "trigger_type": "operation",
            "crontab": op.schedule.crontab,
        }
        if op.schedule
        else None,
        "schedule_id": op.schedule_id,
        "tags": tags(op.tags),
    }
    if op.type in ("scan", "external_scan"):
        for key in SCAN_STATUS_KEYS:
            status.setdefault(key, 0)
        status["anomalies_caught"] = status["anomalies_identified"]
        cap = p.get("max_records_analyzed_per_partition")
        out.update(
            {
                "name": p.get("name"),
                "incremental": p.get("incremental", False),
                "auto_resolve_passed_anomalies": p.get("auto_resolve_passed_anomalies"),
                "remediation": p.get("remediation"),
                "max_records_analyzed_per_partition": -1 if cap is None else cap,
                "greater_than_time": p.get("greater_than_time"),
                "greater_than_batch": p.get("greater_than_batch"),
                "high_count_rollup_threshold": p.get("high_count_rollup_threshold"),
                "enrichment_source_record_limit": p.get("enrichment_source_record_limit"),
                "archive_duplicate_anomalies": p.get("archive_duplicate_anomalies", False),
                "reactivate_recurring_anomalies": p.get("reactivate_recurring_anomalies", False),
                "container_names": p.get("container_names") or [],
                "containers": [container_stub(c) for c in (containers or [])],
                "container_scans": container_scans(list(op.container_scans)),
            }
        )
    elif op.type == "profile":
        for key in PROFILE_STATUS_KEYS:
            status.setdefault(key, 0)
        cap = p.get("max_records_analyzed_per_partition")
        out.update(
            {
                key: p.get(key)
                for key in (
                    "inference_threshold",
                    "ai_effort",
                    "infer_as_draft",
                    "max_count_testing_sample",
                    "percent_testing_threshold",
                    "high_correlation_threshold",
                    "histogram_max_distinct_values",
                    "greater_than_time",
                    "greater_than_batch",
                )
            }
        )
        out.update(profile_settings(p))
        out["max_records_analyzed_per_partition"] = -1 if cap is None else cap
        out["container_names"] = p.get("container_names") or []
        out["containers"] = [container_stub(c) for c in (containers or [])]
        out["container_profiles"] = container_profiles(op)
    elif op.type == "export":
        out.update({key: p.get(key) for key in ("asset_type", "container_ids", "container_tags", "include_deleted")})
    elif op.type == "promote":
        for key in PROMOTE_STATUS_KEYS:
            status.setdefault(key, 0)
        out.update(
            {
                key: p.get(key)
                for key in (
                    "promote_type",
                    "container_id",
                    "destination_container_id",
                    "check_ids",
                    "check_tags",
                    "check_additional_tags",
                    "as_draft",
                )
            }
        )
    elif op.type == "materialize":
        for key in MATERIALIZE_STATUS_KEYS:
            status.setdefault(key, 0)
        cap = p.get("max_records_per_partition")
        out.update(
            {
                "container_names": p.get("container_names") or [],
                "container_tags": p.get("container_tags"),
                "max_records_per_partition": -1 if cap is None else cap,
                "containers": [container_stub(c) for c in (containers or [])],
            }
        )
    elif op.type in ("sync", "catalog"):
        for key in ("total_containers", "containers_analyzed", "records_processed"):
            status.setdefault(key, 0)
        out.update({"prune": p.get("prune", False), "recreate": p.get("recreate", False), "include": p.get("include")})
    out["status"] = status
    return out


def failed_check(fc, check_listing: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "quality_check": check_listing,
        "quality_check_id": fc.quality_check_id,
        "message": fc.message,
        "anomalous_records_count": fc.anomalous_records_count,
        "suggested_field": None,
        "suggested_value": None,
        "suggested_score": None,
    }


def _may_read_source_records(a: Anomaly) -> bool:
    """Whether the user of the session that loaded ``a`` may read its source records: the
    Viewer team permission on its datastore (docs/permissions.md: a Reporter sees anomalies,
    not the failing rows); always for Admins and for sessions without a user scope."""
    from sqlalchemy import inspect as sa_inspect

    from ..store.repositories.scope import permission_rank

    session = sa_inspect(a).session
    scope = session.info.get("scope") if session is not None else None
    return scope is None or permission_rank(scope.permissions.get(a.datastore_id)) >= permission_rank("Viewer")


def partition_location(c: Container | None) -> str | None:
    """Where an anomaly's partition is read from (``partition.location``): a file pattern's glob
    (relative to its datastore's uri), a table's or view's name qualified by its datastore's
    schema (``main.orders``; the bare name without a schema), a computed container's name."""
    if c is None:
        return None
    if c.container_type == "file":
        return c.location
    if c.container_type == "table" and c.datastore.schema:
        return f"{c.datastore.schema}.{c.name}"
    return c.name


def check_anomaly_counts(rows: Sequence[Anomaly]) -> dict[int | None, int]:
    """Check id → open anomalies it took part in (``repositories.checks.anomaly_counts``), for
    the checks that failed in ``rows``, in one query."""
    from sqlalchemy.orm import object_session

    from ..store.repositories import checks as checks_repo

    session = object_session(rows[0]) if rows else None
    ids = sorted({fc.quality_check_id for a in rows for fc in a.failed_checks if fc.quality_check_id is not None})
    return checks_repo.anomaly_counts(session, ids) if session is not None else {}


def anomalies(rows: Sequence[Anomaly]) -> list[dict[str, Any]]:
    """:func:`anomaly` of each of ``rows``, their failed checks' ``anomaly_count`` looked up in one query."""
    counts = check_anomaly_counts(rows)
    return [anomaly(a, counts) for a in rows]


def anomaly(a: Anomaly, check_counts: dict[int | None, int] | None = None) -> dict[str, Any]:
    """An anomaly; each failed check's ``quality_check`` carries its ``anomaly_count`` (open
    anomalies it took part in) from ``check_counts`` (:func:`check_anomaly_counts`, looked
    up for this anomaly when not given)."""
    counts = check_anomaly_counts([a]) if check_counts is None else check_counts
    return {
        "id": a.id,
        "uuid": a.uuid,
        "created": iso(a.created),
        "type": a.type,
        "status": a.status,
        "archived": a.status not in OPEN,
        "is_new": a.status == "Active",
        "message": a.message,
        "source_enriched": a.source_enriched,
        "enrichment_pending": bool(a.enrichment_pending),
        "datastore": datastore_stub(a.datastore),
        "container": container_stub(a.container),
        "partition": {"name": a.partition_name, "location": partition_location(a.container)},
        "operation_id": a.operation_id,
        "container_scan_id": a.container_scan_id,
        "partition_scan": partition_scan(a.partition_scan),
        "failed_checks": [
            failed_check(
                fc,
                quality_check(fc.quality_check, counts.get(fc.quality_check_id, 0)) if fc.quality_check else None,
            )
            for fc in a.failed_checks
        ],
        "weight": a.weight,
        "importance_score": float(a.weight if a.weight is not None else 1),
        "global_tags": tags(a.tags),
        "anomalous_records_count": a.anomalous_records_count,
        "fingerprint": a.fingerprint,
        "source_records": a.source_records if _may_read_source_records(a) else [],
        "description": a.description,
        "comments": [comment(c) for c in a.comments],
        "assignees": [stub for stub in (user_stub(_user(a, i)) for i in (a.assignee_ids or [])) if stub is not None],
        "assignee_ids": list(a.assignee_ids or []),
        "last_editor": user_stub(a.last_editor),
        "status_changes": [
            {"created": iso(c.created), "previous": c.previous, "status": c.status, "user": user_stub(c.user)}
            for c in a.status_changes
        ],
    }
