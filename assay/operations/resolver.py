"""How cross-container rules (existsIn, notExistsIn, dataDiff, aggregationComparison)
reach the other container, which may live in another datastore on another engine."""

from __future__ import annotations


class ContainerResolver:
    """Opens (and caches) the other datastores a scan's cross-container checks refer to.

    ``db``: the metadata store; ``source``: the scanned datastore's open source;
    ``datastore_id``: its id. ``close()`` closes every source it opened.
    """

    def __init__(self, db, source, datastore_id: int):
        self.db = db
        self.source = source
        self.datastore_id = datastore_id

    def close(self) -> None:
        return None
