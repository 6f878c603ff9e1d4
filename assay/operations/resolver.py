"""How cross-container rules (existsIn, notExistsIn, dataDiff, isNotReplicaOf,
aggregationComparison) reach the other container, which may live in another datastore
on another engine."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import ibis.expr.types as ir
from sqlalchemy import select

from ..security import datastore_secrets
from ..sources import open_source
from ..sources.base import Source
from ..store.models import Container, Datastore


class ReferenceNotFound(ValueError):
    """The reference datastore or container of a cross-container check cannot be used
    (missing, deleted, or not in the named datastore); the message says which."""


@dataclass
class Reference:
    """A resolved reference container: its Ibis ``table``, a ``label`` for messages
    (``datastore.container``) and whether it lives on the SAME Ibis backend connection as
    the scanned table (``same_backend``: then both sides go into one query)."""

    table: ir.Table
    label: str
    same_backend: bool


class ContainerResolver:
    """Opens (and caches) the other datastores a scan's cross-container checks refer to.

    ``db``: the metadata store; ``source``: the scanned datastore's open source;
    ``datastore_id``: its id. A reference in the scanned datastore itself (or with no
    ``ref_datastore_id``) is read through ``source``, i.e. on the same connection as the
    scanned table; any other datastore is opened once (with its decrypted secrets) and
    kept open until ``close()``, which closes every source this resolver opened.
    """

    def __init__(self, db, source, datastore_id: int):
        self.db = db
        self.source = source
        self.datastore_id = datastore_id
        self._opened: dict[int, Source] = {}
        self._lock = threading.Lock()

    def resolve(self, ref_datastore_id: int | None, ref_container_id: int) -> Reference:
        """The reference container ``ref_container_id`` of datastore ``ref_datastore_id``
        (None: the scanned datastore).

        Raises:
            ReferenceNotFound: the datastore or container does not exist, is deleted, or the
                container belongs to another datastore.
            SourceError: the reference datastore cannot be opened or the container read.
        """
        ds_id = self.datastore_id if ref_datastore_id is None else int(ref_datastore_id)
        with self.db.session() as s:
            datastore = s.get(Datastore, ds_id)
            if datastore is None:
                raise ReferenceNotFound(f"reference datastore {ds_id} does not exist")
            container = s.scalars(
                select(Container).where(Container.id == int(ref_container_id), Container.deleted_at.is_(None))
            ).first()
            if container is None:
                raise ReferenceNotFound(f"reference container {ref_container_id} does not exist")
            if container.datastore_id != ds_id:
                raise ReferenceNotFound(
                    f"reference container {ref_container_id} is not in datastore {ds_id} "
                    f"(it belongs to datastore {container.datastore_id})"
                )
            label = f"{datastore.name}.{container.name}"
            secrets = datastore_secrets(self.db.secret_key, datastore) if ds_id != self.datastore_id else None
            s.expunge_all()
        if ds_id == self.datastore_id:
            return Reference(self.source.table(container), label, True)
        with self._lock:
            source = self._opened.get(ds_id)
            if source is None:
                source = self._opened[ds_id] = open_source(datastore, secrets)
        return Reference(source.table(container), label, False)

    def close(self) -> None:
        with self._lock:
            opened, self._opened = list(self._opened.values()), {}
        for source in opened:
            try:
                source.close()
            except Exception:  # noqa: BLE001 - best effort on the way out
                pass
