"""Sync (formerly catalog): find a datastore's containers and their fields.

Payload options: ``include`` (``table``/``view``), ``prune`` (soft-delete containers gone
from the source), ``recreate`` (bring back containers deleted in Assay that exist again).
Existing containers keep their id; their fields are brought up to date (added, removed,
retyped), so checks keep pointing at the same container. Sync also proposes each
container's incremental identifier and partition field (``incremental.propose_identifier``)
unless a user set them with ``PUT /api/containers/{id}``: those overrides survive.
"""

from __future__ import annotations

from sqlalchemy import select

from ..security import datastore_secrets
from ..sources import COMPUTED_TYPES, open_source
from ..store.db import Database
from ..store.models import ComputedField, Container, Field, Operation, utcnow
from .incremental import propose_identifier


def nothing_to_sync_message(datastore) -> str:
    """The message of a sync of an enrichment-only datastore: it holds Assay's output, no
    source containers."""
    return f"datastore {datastore.id} is enrichment-only: nothing to sync"


def run_sync(db: Database, op_id: int, should_abort) -> str | None:
    """Run sync operation ``op_id``. Returns a warning message or None: the containers
    found that cannot be read, each with its reason (``ContainerInfo.error``). An
    enrichment-only datastore is not read: the sync succeeds with nothing to sync.

    Raises: SourceError when the datastore cannot be opened or listed.
    """
    with db.session() as s:
        op = s.get_one(Operation, op_id)
        datastore = op.datastore
        assert datastore is not None  # (every sync/profile operation has one)
        secrets = datastore_secrets(db.secret_key, datastore)
        params = dict(op.params or {})
    if datastore.enrichment_only:
        # (a scheduled sync; one requested through the API is stored finished at once)
        with db.session() as s:
            op = s.get_one(Operation, op_id)
            op.status = {**(op.status or {}), "total_containers": 0, "containers_analyzed": 0, "records_processed": 0}
        return nothing_to_sync_message(datastore)
    include = tuple(params.get("include") or ("table", "view"))
    with open_source(datastore, secrets) as source:
        source.describe(f"assay sync operation {op_id} (datastore {datastore.name})")
        found = source.list_containers(include=include)
    with db.session() as s:
        existing = {c.name: c for c in s.scalars(select(Container).where(Container.datastore_id == datastore.id))}
        computed_names: dict[int, set[str]] = {}
        for cid, fname in s.execute(
            select(ComputedField.container_id, ComputedField.name)
            .join(Container, Container.id == ComputedField.container_id)
            .where(Container.datastore_id == datastore.id)
        ):
            computed_names.setdefault(cid, set()).add(fname)
        seen = set()
        for info in found:
            seen.add(info.name)
            container = existing.get(info.name)
            if container is None:
                container = Container(datastore_id=datastore.id, name=info.name)
                s.add(container)
            elif container.deleted_at is not None:
                if not params.get("recreate"):
                    continue
                container.deleted_at = None
            container.container_type = info.container_type
            container.table_type = info.table_type
            container.location = info.location
            container.file_format = info.file_format
            by_name = {f.name: f for f in container.fields}
            keep = []
            for ordinal, fi in enumerate(info.fields):
                f = by_name.get(fi.name) or Field(name=fi.name)
                f.type, f.native_type, f.nullable, f.ordinal = fi.type, fi.native_type, fi.nullable, ordinal
                keep.append(f)
            computed = {f.name for f in container.fields if f.name in computed_names.get(container.id, set())}
            keep.extend(f for f in container.fields if f.name in computed and f.name not in {k.name for k in keep})
            container.fields = keep
            if container.identifiers_set_by != "user":
                proposal = propose_identifier(info.container_type, [(f.name, f.type) for f in keep])
                field_name, kind = proposal or (None, None)
                if field_name != container.incremental_field_name:
                    container.incremental_checkpoint = None
                container.incremental_field_name, container.incremental_identifier_type = field_name, kind
                container.partition_field = field_name if field_name and info.container_type != "file" else None
                container.identifiers_set_by = "sync"
        if params.get("prune"):
            for name, container in existing.items():
                if name not in seen and container.deleted_at is None and container.container_type not in COMPUTED_TYPES:
                    container.deleted_at = utcnow()
        op = s.get_one(Operation, op_id)
        unreadable = [f"{info.name}: {info.error}" for info in found if info.error]
        op.status = {
            **(op.status or {}),
            "total_containers": len(found),
            "containers_analyzed": len(found),
            "records_processed": 0,
        }
    # containers listed but not readable (their scans fail with the same reason)
    return "; ".join(unreadable) or None
