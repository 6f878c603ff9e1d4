"""Connectors: open an Ibis backend for a datastore, list its containers and fields,
and hand the scan an Ibis table per container.

``open_source(datastore)`` picks the connector by the datastore's ``type``: ``local``
folders and ``s3`` buckets are both file (``dfs``) datastores, read by ``files.FileSource``
(DuckDB) — or, for a ``local`` folder whose ``connection.compute_engine`` is ``spark``, by
``spark.SparkSource`` over the same file patterns.
"""

from __future__ import annotations

from .base import (
    COMPUTED_TYPES,
    ContainerInfo,
    FieldInfo,
    Source,
    SourceError,
    StatementTimeout,
    field_type_of,
    statement_timeout_of,
)


def open_source(datastore, secrets: dict | None = None) -> Source:
    """Open the connector for a datastore row (``store.models.Datastore`` or alike);
    ``secrets`` (password, …) are merged into its connection settings.

    Raises:
        SourceError: the kind is unknown or the datastore cannot be opened; the message
            is the driver's own reason.
    """
    kind = (datastore.type or "").lower()
    if kind in ("sqlite", "duckdb") and datastore.database != ":memory:":
        _confined(datastore.database or "", ("database",))
    if kind in ("local", "file", "dfs"):
        from .files import folder_of

        _confined(str(folder_of((datastore.connection or {}).get("uri") or datastore.database or "")), ("uri",))
    if kind in ("postgresql", "mysql"):
        from ..confinement import PathNotAllowed, refuse_metadata_database

        try:
            refuse_metadata_database(kind, datastore.connection or {}, datastore.database)
        except PathNotAllowed as e:
            raise SourceError(e.message) from None
    if kind in ("postgresql", "mysql", "sqlite"):
        from .sql import SqlSource

        connection = {**(datastore.connection or {}), **(secrets or {})}
        return SqlSource(kind, connection, datastore.database, datastore.schema)
    if kind == "duckdb":
        from .duckdb import DuckDBSource

        return DuckDBSource(datastore.database, datastore.schema or "main", statement_timeout_of(datastore.connection))
    if kind in ("local", "file", "dfs") and compute_engine_of(datastore.connection) == "spark":
        from .spark import SparkSource

        # the folder's files as containers, read and checked by Spark (docs/spark.md)
        connection = {**(datastore.connection or {}), "tables": False}
        connection["uri"] = connection.get("uri") or datastore.database or ""
        return SparkSource(connection, None, None, secrets)
    if kind in ("local", "file", "dfs"):
        from .files import FileSource

        connection = datastore.connection or {}
        return FileSource(
            connection.get("uri") or datastore.database or "",
            csv_options(connection),
            statement_timeout=statement_timeout_of(connection),
        )
    if kind == "s3":
        from .delta import s3_storage_options
        from .files import FileSource, s3_filesystem

        connection = datastore.connection or {}
        fs = s3_filesystem(connection, secrets)
        return FileSource(
            connection.get("uri") or "",
            csv_options(connection),
            fs=fs,
            statement_timeout=statement_timeout_of(connection),
            storage_options=s3_storage_options(connection, secrets),
        )
    if kind == "spark":
        from .spark import SparkSource

        return SparkSource(datastore.connection or {}, datastore.database, datastore.schema, secrets)
    raise SourceError(f"unsupported datastore type '{datastore.type}'")


__all__ = [
    "COMPUTED_TYPES",
    "ContainerInfo",
    "FieldInfo",
    "Source",
    "SourceError",
    "StatementTimeout",
    "field_type_of",
    "open_source",
]


def _confined(path: str, loc: tuple[str, ...]) -> None:
    """SourceError unless ``path`` lies inside the server's data roots (see confinement.py)."""
    from ..confinement import PathNotAllowed, confine

    try:
        confine(path, loc)
    except PathNotAllowed as e:
        raise SourceError(e.message) from None


#: The engines a file (``local``) datastore can compute with: ``connection.compute_engine``.
COMPUTE_ENGINES = ("duckdb", "spark")


def compute_engine_of(connection: dict | None) -> str:
    """A file datastore's compute engine: ``connection.compute_engine``, ``duckdb`` (DuckDB
    in the Assay process, the default) or ``spark`` (the folder read by Spark, with the
    connection's ``master`` and ``spark.*`` properties as for a ``spark`` datastore)."""
    return str((connection or {}).get("compute_engine") or "duckdb").lower()


def csv_options(connection: dict) -> dict:
    """DuckDB ``read_csv`` options from a file datastore's connection: ``delimiter``,
    ``header`` / ``has_header`` (bool), ``quote``, ``escape``; unset ones are sniffed."""
    out = {}
    if connection.get("delimiter"):
        out["delim"] = connection["delimiter"]
    header = connection.get("header", connection.get("has_header"))
    if header is not None:
        out["header"] = bool(header)
    for key in ("quote", "escape"):
        if connection.get(key):
            out[key] = connection[key]
    return out


def probe(datastore, secrets: dict | None = None) -> int:
    """Open a datastore and list its containers; returns how many it has.

    Raises: SourceError (its ``loc`` names the setting at fault when known, e.g.
    ``("schema",)`` for a schema that does not exist) or the driver's own error.
    """
    with open_source(datastore, secrets) as source:
        return len(source.list_containers())


def verify(datastore, secrets: dict | None = None) -> tuple[bool, str]:
    """Try to open a datastore and list its containers.

    Returns: ``(connected, message)``; the message is the driver's own reason on failure.
    """
    try:
        n = probe(datastore, secrets)
    except Exception as e:  # noqa: BLE001 - any failure is reported, never raised
        return False, str(e).splitlines()[0] if str(e) else type(e).__name__
    return True, f"connected; {n} container(s) found"
