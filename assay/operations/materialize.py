"""Materialize: snapshot containers of a source datastore into its enrichment datastore.

Each selected container (every live one by default; ``container_names`` /
``container_tags`` narrow it; computed tables and computed fields included) is read and
written to the enrichment datastore as a table named as Qualytics names it:
``<enrichment_prefix>_mat_<container name>``, or ``<enrichment_prefix>_materialize_<container id>``
when the name is longer than 60 characters or holds anything but letters, digits and
underscores (a file glob, spaces, dots…). The table is replaced on every run.
``max_records_per_partition`` caps the rows copied per container (Assay reads a container
as one partition here); -1 / null copies every row.

Status counters: ``total_containers``, ``containers_analyzed``, ``records_processed``
(rows written), ``all_containers`` and ``tables`` (the names written) at the end.

With neither ``container_names`` nor ``container_tags`` every live container is copied, as
Qualytics' ``CreateMaterializeOperation`` implies (both selectors are optional filters, as
for scan, profile and export; its user guide: "snapshots of selected containers"). The
operation says so from its start: ``status.all_containers`` is true and
``total_containers`` counts them, and its ``containers`` list each one, so a run that copies
more than meant is visible (and can be aborted) while it runs.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from ..engine.plan import as_example_rows
from ..enrichment.writer import default_prefix, replace_table, target_of
from ..security import datastore_secrets
from ..sources import SourceError, open_source
from ..store.models import ComputedField, Operation, utcnow
from .progress import Aborted, update_status
from .scan import selected_containers, with_computed_fields

#: Container names usable as they are in a table name.
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_]{1,60}$")


def table_name(prefix: str, container_name: str, container_id: int) -> str:
    """The enrichment table of a materialized container (Qualytics' naming)."""
    if _SAFE_NAME.match(container_name):
        return f"{prefix}_mat_{container_name}"
    return f"{prefix}_materialize_{container_id}"


def run_materialize(db, op_id: int, should_abort) -> str | None:
    """Run materialize operation ``op_id``. Returns a warning (containers that could not be
    copied, each with its reason) or None.

    Raises: SourceError when the datastore cannot be opened, nothing is selected, or every
    container failed; Aborted when asked to stop.
    """
    with db.session() as s:
        op = s.get_one(Operation, op_id)
        ds = op.datastore
        if ds is None:
            raise SourceError(f"operation {op_id} has no datastore (deleted?)")
        if ds.enrichment_datastore is None:
            raise SourceError(f"datastore {ds.id} has no enrichment datastore linked; link one first")
        params = dict(op.params)
        containers = selected_containers(s, ds.id, params.get("container_names"), params.get("container_tags"))
        op.container_ids = [c.id for c in containers]
        computed = {
            c.id: [
                (cf.name, cf.properties.get("column_expression"))
                for cf in s.scalars(
                    select(ComputedField).where(ComputedField.container_id == c.id).order_by(ComputedField.id)
                )
            ]
            for c in containers
        }
        target = target_of(ds.enrichment_datastore, datastore_secrets(db.secret_key, ds.enrichment_datastore))
        prefix = ds.enrichment_prefix or default_prefix(ds.name)
        secrets = datastore_secrets(db.secret_key, ds)
        s.expunge_all()
    if not containers:
        raise SourceError(f"nothing to materialize: no container of datastore '{ds.name}' is selected")
    cap = params.get("max_records_per_partition")
    every = not params.get("container_names") and not params.get("container_tags")
    update_status(
        db,
        op_id,
        total_containers=len(containers),
        containers_analyzed=0,
        records_processed=0,
        all_containers=every,
    )
    tables: list[str] = []
    warnings: list[str] = []
    records = 0
    with open_source(ds, secrets) as source:
        source.describe(f"assay materialize operation {op_id} (datastore {ds.name})")
        for n, container in enumerate(containers, start=1):
            if should_abort():
                raise Aborted()
            name = table_name(prefix, container.name, container.id)
            try:
                table = with_computed_fields(source.table(container), computed[container.id])
                if cap is not None and cap > 0:
                    table = table.limit(cap)
                # read as an anomaly's source records are: an INTERVAL or PostgreSQL's
                # unscaled NUMERIC (NaN included) as their exact text, which Arrow cannot hold
                table = as_example_rows(table)
                arrow = table.to_pyarrow()
                replace_table(target, name, table.schema(), arrow.to_pylist())
            except Exception as e:  # noqa: BLE001 - reported on the operation, the others still run
                warnings.append(f"{container.name}: {e}")
            else:
                tables.append(name)
                records += arrow.num_rows
            update_status(db, op_id, containers_analyzed=n, records_processed=records)
    with db.session() as s:
        op = s.get_one(Operation, op_id)
        op.status = {**op.status, "tables": tables}
        op.heartbeat = utcnow()
    if warnings and not tables:
        raise SourceError("every container failed to materialize: " + "; ".join(warnings))
    return "; ".join(warnings) if warnings else None
