"""Connectors: open an Ibis backend for a datastore, list its containers and fields,
and hand the scan an Ibis table per container.

``open_source(datastore)`` picks the connector by the datastore's ``type``.
"""

from __future__ import annotations

from .base import ContainerInfo, FieldInfo, Source, SourceError, field_type_of


def open_source(datastore) -> Source:
    """Open the connector for a datastore row (``store.models.Datastore`` or alike).

    Raises:
        SourceError: the kind is unknown or the datastore cannot be opened; the message
            is the driver's own reason.
    """
    kind = (datastore.type or "").lower()
    if kind == "duckdb":
        from .duckdb import DuckDBSource

        return DuckDBSource(datastore.database, datastore.schema or "main")
    if kind in ("local", "file", "dfs"):
        from .files import FileSource

        return FileSource((datastore.connection or {}).get("uri") or datastore.database or "")
    raise SourceError(f"unsupported datastore type '{datastore.type}'")


__all__ = ["ContainerInfo", "FieldInfo", "Source", "SourceError", "field_type_of", "open_source"]


def verify(datastore) -> tuple[bool, str]:
    """Try to open a datastore and list its containers.

    Returns: ``(connected, message)``; the message is the driver's own reason on failure.
    """
    try:
        with open_source(datastore) as source:
            n = len(source.list_containers())
    except Exception as e:  # noqa: BLE001 - any failure is reported, never raised
        return False, str(e).splitlines()[0] if str(e) else type(e).__name__
    return True, f"connected; {n} container(s) found"
