"""Profile: compute field statistics of the selected containers (engine/profile.py), one
aggregate pass per container, and store them as the containers' latest field profiles.

Check inference (``inference_threshold`` / ``ai_effort`` above 0) is not built yet: the
operation then succeeds with a message that says so, and creates no check.
"""

from __future__ import annotations

from ..engine.profile import profile_table
from ..security import datastore_secrets
from ..sources import open_source
from ..store.db import Database
from ..store.models import Container, ContainerProfile, FieldProfile, Operation, utcnow
from .progress import Aborted
from .scan import selected_containers


def run_profile(db: Database, op_id: int, should_abort) -> str | None:
    """Run profile operation ``op_id``; returns a warning or None. Raises SourceError, Aborted."""
    with db.session() as s:
        op = s.get(Operation, op_id)
        datastore = op.datastore
        secrets = datastore_secrets(db.secret_key, datastore)
        params = dict(op.params)
        containers = selected_containers(s, datastore.id, params.get("container_names"))
        ids = [c.id for c in containers]
        op.container_ids = ids
        op.status = {**op.status, "total_containers": len(ids)}
    cap = params.get("max_records_analyzed_per_partition")
    failures = []
    with open_source(datastore, secrets) as source:
        for container_id in ids:
            if should_abort():
                raise Aborted()
            with db.session() as s:
                container = s.get(Container, container_id)
                types = {f.name: f.type for f in container.fields}
                s.expunge(container)
            try:
                table = source.table(container)
                if cap is not None and cap >= 0:
                    table = table.limit(cap)
                records, stats = profile_table(table, types)
                result, message = "success", None
            except Exception as e:  # noqa: BLE001 - reported on that container, the rest go on
                records, stats, result = 0, {}, "failure"
                message = str(e).splitlines()[0] if str(e) else type(e).__name__
                failures.append(f"{container.name}: {message}")
            with db.session() as s:
                profile = ContainerProfile(operation_id=op_id, container_id=container_id, records_count=records,
                                           records_processed=records, result=result, message=message)
                profile.field_profiles = [
                    FieldProfile(container_id=container_id, field_name=name, statistics=values)
                    for name, values in stats.items()
                ]
                s.add(profile)
                op = s.get(Operation, op_id)
                st = dict(op.status)
                st["containers_analyzed"] = st.get("containers_analyzed", 0) + 1
                st["partitions_analyzed"] = st.get("partitions_analyzed", 0) + (1 if result == "success" else 0)
                st["records_processed"] = st.get("records_processed", 0) + records
                st["fields_profiled"] = st.get("fields_profiled", 0) + len(stats)
                op.status = st
                op.heartbeat = utcnow()
    warnings = list(failures)
    if params.get("inference_threshold"):
        warnings.append("check inference is not available yet; field profiles were computed and no check was inferred")
    return "; ".join(warnings) if warnings else None
