"""External scan: records produced outside Assay (a file about to be loaded, rows from a
pipeline step), asserted against one container's quality checks and ingested as a scan
operation of type ``external_scan`` with its container scan and anomalies.

``POST /api/containers/{id}/scan`` with ``{name, records}`` (Qualytics' ``CreateExternalScan``:
``records`` a JSON array of objects, as a string or as an array) queues it; the job is the
scan job (``scan.run_scan``) reading the records instead of the container: each record's
values are cast to the container's field types (a value that does not fit fails the
container scan, naming the field and the value), fields a record leaves out are NULL, computed
fields are added, and checks that reference other containers read those from the datastore.

Reference checks (``existsIn``, ``notExistsIn``, ``dataDiff``, ``isNotReplicaOf``,
``aggregationComparison``) whose reference container is in the scanned container's own
datastore read it into the records' DuckDB when it has at most ``REFERENCE_ROWS`` rows
(one count, then one read), so records and reference are compared in one query on any
engine; a larger reference stays on its engine and the check runs apart (batches of keys
between the engines, ``engine.rules._reference``), which a read-only PostgreSQL source
cannot host when the records hold fewer distinct keys than the reference.
"""

from __future__ import annotations

import json
from typing import Any

import ibis
import pyarrow as pa

from ..errors import ValidationError
from ..sources.base import Source, SourceError

#: The most records one external scan accepts.
MAX_RECORDS = 10_000

#: The most rows of a reference container an external scan copies next to its records.
REFERENCE_ROWS = 200_000


def parse_records(records: str | list[Any], fields: list[str]) -> list[dict[str, Any]]:
    """The records of an external scan, checked against the container's ``fields``.

    Raises ValidationError (→ 422 on ``records``) when they are not a non-empty JSON array
    of objects (at most 10,000), or a record has a key that is not a field of the container."""
    if isinstance(records, str):
        try:
            records = json.loads(records)
        except json.JSONDecodeError as e:
            raise ValidationError("records", f"records is not JSON: {e.msg} at position {e.pos}") from None
    if not isinstance(records, list) or not records or not all(isinstance(r, dict) for r in records):
        raise ValidationError("records", "records must be a non-empty JSON array of objects (one per record)")
    if len(records) > MAX_RECORDS:
        raise ValidationError("records", f"at most {MAX_RECORDS} records per external scan, got {len(records)}")
    known = set(fields)
    unknown = sorted({k for r in records for k in r} - known)
    if unknown:
        raise ValidationError(
            "records", f"records have keys that are not fields of the container: {', '.join(unknown)}"
        )
    return records


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


class ExternalRecords(Source):
    """A source whose container ``container_id`` is ``records`` (in an in-memory DuckDB),
    typed as the real container; every other container is read from ``real``."""

    def __init__(self, real: Source, container_id: int, records: list[dict[str, Any]]):
        self.real, self.container_id, self.records = real, container_id, records
        self.con = ibis.duckdb.connect()
        self._copies: dict[int, Any] = {}

    def list_containers(self, include=("table", "view")):
        return self.real.list_containers(include)

    def table(self, container, partition_column=None, **kwargs):
        if getattr(container, "id", None) != self.container_id:
            return self._reference(container, partition_column, **kwargs)
        schema = self.real.table(container).schema()
        columns = {name: pa.array([_text(r.get(name)) for r in self.records], pa.string()) for name in schema.names}
        raw = self.con.create_table("_external_records", pa.table(columns), temp=True, overwrite=True)
        bad = {name: raw[name].notnull() & raw[name].try_cast(dtype).isnull() for name, dtype in schema.items()}
        failing = raw.aggregate(**{name: cond.any() for name, cond in bad.items()}).to_pyarrow().to_pylist()[0]
        problems = []
        for name, dtype in schema.items():
            if failing[name]:
                value = raw.filter(bad[name]).select(name).limit(1).to_pyarrow().column(0)[0].as_py()
                problems.append(f"field '{name}' ({dtype}) cannot hold {value!r}")
        if problems:
            raise SourceError("the records do not fit the container: " + "; ".join(problems))
        return raw.select(*[raw[name].cast(dtype).name(name) for name, dtype in schema.items()])

    def _reference(self, container, partition_column=None, **kwargs):
        """Another container of the datastore (a check's reference): copied into the
        records' DuckDB when it has at most ``REFERENCE_ROWS`` rows, else read in place."""
        table = self.real.table(container, partition_column, **kwargs)
        if partition_column is not None or kwargs:
            return table
        key = int(container.id)
        if key not in self._copies:
            rows = int(table.count().to_pyarrow().as_py() or 0)
            self._copies[key] = (
                self.con.create_table(f"_reference_{key}", table.to_pyarrow(), temp=True, overwrite=True)
                if rows <= REFERENCE_ROWS
                else None
            )
        return table if self._copies[key] is None else self._copies[key]

    def describe(self, label: str) -> None:
        self.real.describe(label)

    def interrupt(self) -> None:
        self.real.interrupt()
        super().interrupt()

    def close(self) -> None:
        try:
            self.con.disconnect()
        except Exception:  # noqa: BLE001
            pass


def run_external_scan(db, op_id: int, should_abort) -> str | None:
    """Run external scan operation ``op_id``: the scan job over the operation's records."""
    from ..store.models import Operation
    from .scan import run_scan

    with db.session() as s:
        op = s.get_one(Operation, op_id)
        container_id = int(op.params["container_id"])
        records = list(op.params.get("records") or [])
    return run_scan(db, op_id, should_abort, wrap=lambda real: ExternalRecords(real, container_id, records))
