"""Write scan results to the user's enrichment datastore.

Tables (``<prefix>`` is the source datastore's enrichment prefix, e.g. ``_nyc_flights``):

* ``<prefix>_scan_operations``: one row per container partition scanned;
* ``<prefix>_failed_checks``: one row per (anomaly, failed check);
* ``<prefix>_source_records``: the stored source rows of each anomaly, as JSON;
* ``<prefix>_check_metrics``: one row per check assertion (passed / failed / unasserted,
  with the asserted and anomalous record counts);
* ``<prefix>_remediation_<container_id>`` (remediation ``append`` or ``overwrite``): the
  anomalous source rows with every source column plus ``_QUALYTICS_SOURCE_PARTITION`` and
  ``ANOMALY_UUID``; append keeps every scan's rows, overwrite only the latest scan's.

Columns are those of the Qualytics enrichment schema (qualytics-api.md §4.2). Tables are
created on first write; a table missing a column gets it added. Everything one
container scan writes goes in one transaction, so a failure leaves nothing half-written.
The enrichment datastore is a DuckDB file for now (other engines: issue 5).
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

import ibis
import pyarrow as pa

SCAN_OPERATIONS = ibis.schema(
    {
        "OPERATION_ID": "int64",
        "DATASTORE_ID": "int64",
        "CONTAINER_ID": "int64",
        "PARTITION_NAME": "string",
        "INCREMENTAL": "boolean",
        "RECORDS_PROCESSED": "int64",
        "ENRICHMENT_SOURCE_RECORD_LIMIT": "int64",
        "MAX_RECORDS_ANALYZED": "int64",
        "ANOMALY_COUNT": "int64",
        "START_TIME": "timestamp('UTC')",
        "END_TIME": "timestamp('UTC')",
        "RESULT": "string",
        "MESSAGE": "string",
    }
)
FAILED_CHECKS = ibis.schema(
    {
        "QUALITY_CHECK_ID": "int64",
        "ANOMALY_UUID": "string",
        "QUALITY_CHECK_MESSAGE": "string",
        "SUGGESTED_REMEDIATION_FIELD": "string",
        "SUGGESTED_REMEDIATION_VALUE": "string",
        "SUGGESTED_REMEDIATION_SCORE": "float64",
        "QUALITY_CHECK_RULE_TYPE": "string",
        "QUALITY_CHECK_TAGS": "string",
        "QUALITY_CHECK_PARAMETERS": "string",
        "QUALITY_CHECK_DESCRIPTION": "string",
        "QUALITY_CHECK_FIELDS": "string",
        "QUALITY_CHECK_METADATA": "string",
        "ANOMALOUS_RECORDS_COUNT": "int64",
        "OPERATION_ID": "int64",
        "DETECTED_TIME": "timestamp('UTC')",
        "SOURCE_DATASTORE": "string",
        "SOURCE_CONTAINER": "string",
        "SOURCE_PARTITION": "string",
        "FINGERPRINT": "int64",
    }
)
SOURCE_RECORDS = ibis.schema(
    {
        "SOURCE_CONTAINER": "string",
        "SOURCE_PARTITION": "string",
        "ANOMALY_UUID": "string",
        "CONTEXT": "string",
        "RECORD": "string",
    }
)

CHECK_METRICS = ibis.schema(
    {
        "OPERATION_ID": "int64",
        "CONTAINER_ID": "int64",
        "SOURCE_DATASTORE": "string",
        "SOURCE_CONTAINER": "string",
        "SOURCE_PARTITION": "string",
        "QUALITY_CHECK_ID": "int64",
        "ASSERTION_RESULT": "string",
        "ASSERTION_DETAILS": "string",
        "ASSERTED_RECORDS_COUNT": "int64",
        "ANOMALOUS_RECORDS_COUNT": "int64",
        "_QUALYTICS_SOURCE_PARTITION": "string",
    }
)

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def default_prefix(datastore_name: str) -> str:
    """The default enrichment prefix of a source datastore: its name in snake_case with a
    leading underscore ("Analytics Bronze" → ``_analytics_bronze``), at most 60 characters."""
    snake = re.sub(r"[^0-9a-zA-Z]+", "_", datastore_name).strip("_").lower()
    return ("_" + snake)[:60]


@dataclass
class EnrichmentBatch:
    """Everything one container scan writes, keyed by table suffix."""

    scan_operations: list[dict[str, Any]] = field(default_factory=list)
    failed_checks: list[dict[str, Any]] = field(default_factory=list)
    source_records: list[dict[str, Any]] = field(default_factory=list)
    check_metrics: list[dict[str, Any]] = field(default_factory=list)
    #: ``(table name, Ibis schema, rows, "append" | "overwrite")`` or None
    remediation: tuple[str, Any, list[dict[str, Any]], str] | None = None


class EnrichmentWriter:
    """Writes :class:`EnrichmentBatch` es to a DuckDB enrichment datastore file.

    Raises whatever DuckDB raises (file locked, disk full); the batch is then rolled back.
    """

    def __init__(self, path: str, prefix: str):
        if not path:
            raise ValueError("the enrichment datastore has no 'database' path")
        self.path, self.prefix = path, prefix

    def table_name(self, suffix: str) -> str:
        return f"{self.prefix}_{suffix}"

    def write(self, batch: EnrichmentBatch) -> None:
        """Append the batch's rows to its tables (and the remediation copy), all or nothing."""
        with _lock_for(self.path):
            con = ibis.duckdb.connect(self.path)
            try:
                raw = con.con
                plan = [
                    ("scan_operations", SCAN_OPERATIONS, batch.scan_operations),
                    ("failed_checks", FAILED_CHECKS, batch.failed_checks),
                    ("source_records", SOURCE_RECORDS, batch.source_records),
                    ("check_metrics", CHECK_METRICS, batch.check_metrics),
                ]
                for suffix, schema, _rows in plan:
                    self._ensure(con, self.table_name(suffix), schema)
                if batch.remediation:
                    self._ensure(con, batch.remediation[0], batch.remediation[1])
                raw.begin()
                try:
                    for suffix, schema, rows in plan:
                        if rows:
                            con.insert(self.table_name(suffix), _arrow(schema, rows))
                    if batch.remediation:
                        name, schema, rows, mode = batch.remediation
                        if mode == "overwrite":
                            con.truncate_table(name)
                        if rows:
                            con.insert(name, _arrow(schema, rows))
                    raw.commit()
                except BaseException:
                    raw.rollback()
                    raise
            finally:
                con.disconnect()

    @staticmethod
    def _ensure(con, name: str, schema) -> None:
        if name not in con.list_tables():
            con.create_table(name, schema=schema)
            return
        have = set(con.table(name).columns)
        missing = [(col, dtype) for col, dtype in schema.items() if col not in have]
        if missing:
            # Evolve the table by adding the columns it lacks (older Assay versions).
            import sqlglot.expressions as sge

            for col, dtype in missing:
                stmt = sge.Alter(
                    this=sge.to_table(name, quoted=True),
                    kind="TABLE",
                    actions=[
                        sge.ColumnDef(
                            this=sge.to_identifier(col, quoted=True),
                            kind=con.compiler.type_mapper.from_ibis(dtype),
                        )
                    ],
                )
                con.raw_sql(stmt.sql(dialect="duckdb"))


def _arrow(schema, rows: list[dict[str, Any]]) -> pa.Table:
    arrow_schema = schema.to_pyarrow()
    columns = {name: [row.get(name) for row in rows] for name in schema.names}
    return pa.table(columns, schema=arrow_schema)


def _lock_for(path: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(path, threading.Lock())


def to_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def replace_table(path: str, name: str, schema, rows: list[dict[str, Any]]) -> None:
    """Create or replace table ``name`` in the DuckDB enrichment file at ``path`` with ``rows``
    (the export tables are replaced on every export)."""
    with _lock_for(path):
        con = ibis.duckdb.connect(path)
        try:
            con.create_table(name, _arrow(schema, rows), overwrite=True)
        finally:
            con.disconnect()
