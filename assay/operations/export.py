"""Export: copy Assay's metadata (anomalies, checks, field profiles, check templates) into
the enrichment datastore as ``<prefix>_export_*`` tables, replaced on every export.

Columns follow the Qualytics metadata export tables (ARCHITECTURE.md, glossary: operation).
"""

from __future__ import annotations

import json
import math

import ibis
from sqlalchemy import func, select

from ..domain import OperationResult
from ..enrichment.writer import default_prefix, replace_table, target_of
from ..security import datastore_secrets
from ..store.models import (
    Anomaly,
    Container,
    ContainerProfile,
    Datastore,
    FieldProfile,
    QualityCheck,
    QualityCheckTemplate,
    utcnow,
)

EXPORT_ANOMALIES = ibis.schema(
    {
        "ID": "int64",
        "CREATED": "timestamp('UTC')",
        "UUID": "string",
        "TYPE": "string",
        "STATUS": "string",
        "GLOBAL_TAGS": "string",
        "CONTAINER_ID": "int64",
        "SOURCE_CONTAINER": "string",
        "DATASTORE_ID": "int64",
        "SOURCE_DATASTORE": "string",
        "GENERATED_AT": "timestamp('UTC')",
    }
)
_CHECK_COLUMNS = {
    "ADDITIONAL_METADATA": "string",
    "COVERAGE": "float64",
    "CREATED": "timestamp('UTC')",
    "DELETED_AT": "timestamp('UTC')",
    "DESCRIPTION": "string",
    "FIELDS": "string",
    "FILTER": "string",
    "GENERATED_AT": "timestamp('UTC')",
    "GLOBAL_TAGS": "string",
    "HAS_PASSED": "boolean",
    "ID": "int64",
    "INFERRED": "boolean",
    "IS_NEW": "boolean",
    "LAST_ASSERTED": "timestamp('UTC')",
    "LAST_EDITOR": "string",
    "LAST_UPDATED": "timestamp('UTC')",
    "NUM_CONTAINER_SCANS": "int64",
    "PROPERTIES": "string",
    "RULE_TYPE": "string",
    "WEIGHT": "int64",
    "DATASTORE_ID": "int64",
    "CONTAINER_ID": "int64",
    "TEMPLATE_ID": "int64",
    "IS_TEMPLATE": "boolean",
    "SOURCE_CONTAINER": "string",
    "SOURCE_DATASTORE": "string",
}
EXPORT_CHECKS = ibis.schema(_CHECK_COLUMNS)
EXPORT_CHECK_TEMPLATES = ibis.schema({**_CHECK_COLUMNS, "TEMPLATE_CHECKS_COUNT": "int64", "TEMPLATE_LOCKED": "boolean"})
#: Numeric statistics of a field profile (``engine/profile.py``), exported as columns of the
#: same name in upper case; MIN and MAX are text (they are numbers, dates or strings).
_PROFILE_NUMBERS = {
    "completeness": "float64",
    "approximate_distinct_values": "int64",
    "unique_distinct_ratio": "float64",
    "mean": "float64",
    "median": "float64",
    "q1": "float64",
    "q3": "float64",
    "sum": "float64",
    "std_dev": "float64",
    "kurtosis": "float64",
    "skewness": "float64",
    "entropy": "float64",
    "min_length": "int64",
    "max_length": "int64",
}
EXPORT_FIELD_PROFILES = ibis.schema(
    {
        "ID": "int64",
        "CREATED": "timestamp('UTC')",
        "CONTAINER_PROFILE_ID": "int64",
        "FIELD_NAME": "string",
        "FIELD_TYPE": "string",
        "CONTAINER_ID": "int64",
        "SOURCE_CONTAINER": "string",
        "DATASTORE_ID": "int64",
        "SOURCE_DATASTORE": "string",
        "DATASTORE_TYPE": "string",
        "CONTAINER_STORE_TYPE": "string",
        "MIN": "string",
        "MAX": "string",
        **{k.upper(): v for k, v in _PROFILE_NUMBERS.items()},
        "HISTOGRAM_BUCKETS": "string",
        "FIELD_CORRELATIONS": "string",
        "FIELD_QUALITY_SCORE": "float64",
        "FIELD_WEIGHT": "int64",
        "GENERATED_AT": "timestamp('UTC')",
    }
)


class ExportError(ValueError):
    """The export cannot run (no enrichment datastore linked)."""


def _target(ds: Datastore, secret_key: str):
    if ds.enrichment_datastore is None:
        raise ExportError(f"datastore {ds.id} has no enrichment datastore linked; link one first")
    enrichment = ds.enrichment_datastore
    return (
        target_of(enrichment, datastore_secrets(secret_key, enrichment)),
        ds.enrichment_prefix or default_prefix(ds.name),
    )


def _containers(session, ds: Datastore, container_ids: list[int] | None) -> list[Container]:
    """The datastore's containers; ``container_ids`` None means all, [] means none."""
    stmt = select(Container).where(Container.datastore_id == ds.id)
    if container_ids is not None:
        stmt = stmt.where(Container.id.in_(container_ids))
    return list(session.scalars(stmt))


def export_asset(
    session,
    ds: Datastore,
    asset: str,
    container_ids: list[int] | None = None,
    include_deleted: bool = False,
    *,
    secret_key: str = "",
) -> dict:
    """Write ``<prefix>_export_<asset>`` for ``asset`` in anomalies | checks | field_profiles.

    Returns: ``{table, rows}``. Raises: ExportError without an enrichment datastore.
    """
    target, prefix = _target(ds, secret_key)
    now = utcnow()
    containers = {c.id: c for c in _containers(session, ds, container_ids)}
    if asset == "anomalies":
        stmt = select(Anomaly).where(Anomaly.container_id.in_(containers))
        rows = [
            {
                "ID": a.id,
                "CREATED": a.created,
                "UUID": a.uuid,
                "TYPE": a.type,
                "STATUS": a.status,
                "GLOBAL_TAGS": ",".join(a.tags or []),
                "CONTAINER_ID": a.container_id,
                "SOURCE_CONTAINER": containers[a.container_id].name,
                "DATASTORE_ID": ds.id,
                "SOURCE_DATASTORE": ds.name,
                "GENERATED_AT": now,
            }
            for a in session.scalars(stmt)
        ]
        schema = EXPORT_ANOMALIES
    elif asset == "checks":
        checks = select(QualityCheck).where(QualityCheck.container_id.in_(containers))
        if not include_deleted:
            checks = checks.where(QualityCheck.deleted_at.is_(None))
        rows = [
            {
                **_check_row(q, now),
                "DATASTORE_ID": ds.id,
                "CONTAINER_ID": q.container_id,
                "SOURCE_CONTAINER": containers[q.container_id].name,
                "SOURCE_DATASTORE": ds.name,
            }
            for q in session.scalars(checks)
        ]
        schema = EXPORT_CHECKS
    elif asset in ("field_profiles", "profiles", "field-profiles"):
        asset, schema = "field_profiles", EXPORT_FIELD_PROFILES
        rows = _field_profile_rows(session, ds, containers, now)
    else:
        raise ExportError(f"unknown asset type '{asset}'")
    name = f"{prefix}_export_{asset}"
    replace_table(target, name, schema, rows)
    return {"table": name, "rows": len(rows)}


def _as_text(value) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)


def _number(value, kind: str):
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if kind == "int64":
        return int(value)
    return float(value) if math.isfinite(value) else None


def _field_profile_rows(session, ds: Datastore, containers: dict[int, Container], now) -> list[dict]:
    """One row per field profile of each container's latest successful profile (the
    profiles ``GET /api/containers/{id}/field-profiles`` serves). FIELD_QUALITY_SCORE and
    FIELD_WEIGHT are not computed by Assay: NULL."""
    if not containers:
        return []
    latest = (
        select(ContainerProfile.container_id, func.max(ContainerProfile.id).label("pid"))
        .where(ContainerProfile.container_id.in_(containers), ContainerProfile.result == OperationResult.SUCCESS)
        .group_by(ContainerProfile.container_id)
        .subquery()
    )
    stmt = (
        select(FieldProfile)
        .join(latest, FieldProfile.container_profile_id == latest.c.pid)
        .order_by(FieldProfile.container_id, FieldProfile.id)
    )
    rows = []
    for fp in session.scalars(stmt):
        st = fp.statistics or {}
        rows.append(
            {
                "ID": fp.id,
                "CREATED": fp.created,
                "CONTAINER_PROFILE_ID": fp.container_profile_id,
                "FIELD_NAME": fp.field_name,
                "FIELD_TYPE": st.get("field_type"),
                "CONTAINER_ID": fp.container_id,
                "SOURCE_CONTAINER": containers[fp.container_id].name,
                "DATASTORE_ID": ds.id,
                "SOURCE_DATASTORE": ds.name,
                "DATASTORE_TYPE": ds.type,
                "CONTAINER_STORE_TYPE": ds.store_type,
                "MIN": _as_text(st.get("min")),
                "MAX": _as_text(st.get("max")),
                **{k.upper(): _number(st.get(k), kind) for k, kind in _PROFILE_NUMBERS.items()},
                "HISTOGRAM_BUCKETS": json.dumps(st.get("histogram_buckets") or []),
                "FIELD_CORRELATIONS": json.dumps(st.get("field_correlations") or []),
                "FIELD_QUALITY_SCORE": None,
                "FIELD_WEIGHT": None,
                "GENERATED_AT": now,
            }
        )
    return rows


def export_check_templates(
    session, enrichment: Datastore, template_ids: list[int] | None = None, *, secret_key: str = ""
) -> dict:
    """Write ``<prefix>_export_check_templates`` into an enrichment datastore."""
    stmt = select(QualityCheckTemplate)
    if template_ids:
        stmt = stmt.where(QualityCheckTemplate.id.in_(template_ids))
    now = utcnow()
    rows = [
        {**_check_row(t, now), "IS_TEMPLATE": True, "TEMPLATE_CHECKS_COUNT": 0, "TEMPLATE_LOCKED": t.template_locked}
        for t in session.scalars(stmt)
    ]
    name = f"{enrichment.enrichment_prefix or default_prefix(enrichment.name)}_export_check_templates"
    replace_table(target_of(enrichment, datastore_secrets(secret_key, enrichment)), name, EXPORT_CHECK_TEMPLATES, rows)
    return {"table": name, "rows": len(rows)}


def _check_row(q, now) -> dict:
    return {
        "ADDITIONAL_METADATA": json.dumps(q.additional_metadata) if q.additional_metadata else None,
        "COVERAGE": q.coverage,
        "CREATED": q.created,
        "DELETED_AT": getattr(q, "deleted_at", None),
        "DESCRIPTION": q.description,
        "FIELDS": ",".join(q.fields or []),
        "FILTER": q.filter,
        "GENERATED_AT": now,
        "GLOBAL_TAGS": ",".join(q.tags or []),
        "HAS_PASSED": getattr(q, "is_passing", None),
        "ID": q.id,
        "INFERRED": getattr(q, "inferred", False),
        "IS_NEW": False,
        "LAST_ASSERTED": getattr(q, "last_asserted", None),
        "LAST_EDITOR": None,
        "LAST_UPDATED": getattr(q, "last_updated", None),
        "NUM_CONTAINER_SCANS": None,
        "PROPERTIES": json.dumps(q.properties or {}),
        "RULE_TYPE": q.rule_type,
        "WEIGHT": getattr(q, "weight", 1),
        "TEMPLATE_ID": None,
        "IS_TEMPLATE": False,
    }


def run_export(db, op_id: int, should_abort) -> str | None:
    """Run export operation ``op_id`` (a queued ``type: "export"``). Raises ExportError."""
    from ..store.models import Operation

    with db.session() as s:
        op = s.get_one(Operation, op_id)
        params = dict(op.params)
        ds = op.datastore
        asset = "field_profiles" if params["asset_type"] in ("profiles", "field_profiles") else params["asset_type"]
        containers = _containers(s, ds, params.get("container_ids") or None)
        if params.get("container_tags"):
            wanted = set(params["container_tags"])
            containers = [c for c in containers if wanted & set(c.tags or [])]
        ids = [c.id for c in containers]
        result = export_asset(s, ds, asset, ids, bool(params.get("include_deleted")), secret_key=db.secret_key)
        op.container_ids = ids
        op.status = {"total_containers": len(ids), "exported_rows": result["rows"], "table": result["table"]}
    return None
