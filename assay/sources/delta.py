"""Delta Lake tables read without the JVM's Delta Lake jars, through delta-rs (the
``deltalake`` package from PyPI).

A folder holding a ``_delta_log/`` is one container (``files.group_paths``). Its rows are
those of the table's *current version*: ``deltalake.DeltaTable`` replays the transaction
log and names the live Parquet files; files removed by later versions (an overwrite, a
delete, a compaction) stay on disk until a vacuum but are never read. DuckDB reads the
table as a PyArrow dataset of those files; a Spark without the Delta reader reads the same
files with its Parquet reader (``sources.spark``). Fields are typed from the table's Delta
schema.

What the live Parquet files alone do not give is refused per container with
:func:`unsupported`'s message: deletion vectors (rows deleted without rewriting their file)
and column mapping (physical column names differing from the schema's), or any reader
feature delta-rs' PyArrow reader does not know.
"""

from __future__ import annotations

import json
from typing import Any

from .base import SourceError

#: Reader features whose tables are read correctly from their live Parquet files alone
#: (delta-rs' PyArrow reader supports exactly these).
READABLE_FEATURES = frozenset({"timestampNtz", "variantType", "variantType-preview"})
#: The highest reader protocol version read here (3: reader features listed by name).
MAX_READER_VERSION = 3


def open_table(uri: str, folder: str, storage_options: dict[str, str] | None = None):
    """The Delta table at ``uri`` (a local path, or an ``s3://`` URI with
    ``storage_options``), at its current version. ``folder`` names it in errors.

    Raises: SourceError when the log cannot be read (not a Delta table, a damaged log),
        or when the table needs a reader feature read here is not possible (see
        :func:`unsupported`)."""
    from deltalake import DeltaTable

    try:
        table = DeltaTable(uri, storage_options=storage_options or None)
    except Exception as e:  # noqa: BLE001 - delta-rs' own reason
        raise SourceError(f"cannot read Delta table {folder}: {str(e).strip().splitlines()[0]}") from e
    missing = unsupported(table)
    if missing:
        raise SourceError(
            f"Delta table {folder}: its protocol needs the reader feature(s) {', '.join(missing)}, which "
            "reading its live Parquet files without the Delta Lake jars does not support; read it on a Spark "
            "with the Delta Lake jars (docs/spark.md, Delta tables)"
        )
    return table


def unsupported(table) -> list[str]:
    """The reader features of ``table`` (a ``deltalake.DeltaTable``) that its live Parquet
    files alone cannot serve, sorted: those outside :data:`READABLE_FEATURES`, and
    ``columnMapping`` for a reader-version-2 table or one whose ``delta.columnMapping.mode``
    is ``name`` or ``id``; a reader version above 3 is named ``readerVersion<N>``."""
    protocol = table.protocol()
    missing = set(protocol.reader_features or ()) - READABLE_FEATURES
    if protocol.min_reader_version > MAX_READER_VERSION:
        missing.add(f"readerVersion{protocol.min_reader_version}")
    mode = (table.metadata().configuration or {}).get("delta.columnMapping.mode", "none")
    if protocol.min_reader_version == 2 or mode in ("name", "id"):
        missing.add("columnMapping")
    return sorted(missing)


def arrow_dataset(table, uri: str, storage_options: dict[str, str] | None = None):
    """The current version of ``table`` (opened from ``uri`` with ``storage_options``) as a
    ``pyarrow.dataset.Dataset`` over its live files (partition values from the log), with the
    Delta schema's columns and types. The files are read by PyArrow's own (C++) local or S3
    filesystem, never by a Python one: DuckDB scans the dataset from its own threads."""
    import pyarrow.fs as pa_fs

    if "://" in uri and not uri.startswith("file://"):
        scheme, _, rest = uri.partition("://")
        if scheme not in ("s3", "s3a"):
            raise SourceError(f"cannot read Delta table {uri}: only local folders and S3 are supported")
        base, root = _s3_arrow_filesystem(storage_options or {}), rest.strip("/")
    else:
        base, root = pa_fs.LocalFileSystem(), uri.removeprefix("file://")
    return table.to_pyarrow_dataset(filesystem=pa_fs.SubTreeFileSystem(root, base))


def _s3_arrow_filesystem(options: dict[str, str]):
    """PyArrow's S3 filesystem with the settings of :func:`s3_storage_options`."""
    import pyarrow.fs as pa_fs

    kwargs: dict[str, Any] = {"region": options.get("AWS_REGION", "us-east-1"), "connect_timeout": 10}
    endpoint = options.get("AWS_ENDPOINT_URL")
    if endpoint:
        scheme, _, host = endpoint.partition("://")
        kwargs |= {"endpoint_override": host or scheme, "scheme": scheme if host else "https"}
    if options.get("AWS_ACCESS_KEY_ID"):
        kwargs |= {
            "access_key": options["AWS_ACCESS_KEY_ID"],
            "secret_key": options.get("AWS_SECRET_ACCESS_KEY", ""),
            "session_token": options.get("AWS_SESSION_TOKEN"),
        }
    else:
        kwargs["anonymous"] = True
    return pa_fs.S3FileSystem(**kwargs)


def live_files(table) -> list[str]:
    """The absolute URIs (local: plain paths) of the Parquet files of the current version."""
    return list(table.file_uris())


def spark_schema(table) -> dict[str, Any]:
    """The table's schema as Spark's ``StructType`` JSON (``StructType.fromJson`` takes it):
    the Delta protocol's schema serialization is Spark's."""
    return json.loads(table.schema().to_json())


def commit_file(folder: str, table) -> str:
    """The path (or URI) of the log entry that committed ``table``'s current version, under
    the table's ``folder``: its modification time is when that version was written."""
    return f"{folder.rstrip('/')}/_delta_log/{table.version():020d}.json"


def s3_storage_options(connection: dict, secrets: dict | None = None) -> dict[str, str]:
    """delta-rs' object-store options for an ``s3`` datastore connection, as
    ``files.s3_filesystem`` reads it: ``endpoint_url`` (plain ``http://`` allowed),
    ``region``, the secrets ``access_key`` / ``secret_key`` / ``token``; without keys the
    bucket is read anonymously (unsigned requests)."""
    secrets = secrets or {}
    options: dict[str, str] = {}
    endpoint = connection.get("endpoint_url")
    if endpoint:
        options["AWS_ENDPOINT_URL"] = str(endpoint)
        if str(endpoint).startswith("http://"):
            options["AWS_ALLOW_HTTP"] = "true"
    options["AWS_REGION"] = str(connection.get("region") or "us-east-1")
    if secrets.get("access_key"):
        options["AWS_ACCESS_KEY_ID"] = str(secrets["access_key"])
        options["AWS_SECRET_ACCESS_KEY"] = str(secrets.get("secret_key") or "")
        if secrets.get("token"):
            options["AWS_SESSION_TOKEN"] = str(secrets["token"])
    else:
        options["AWS_SKIP_SIGNATURE"] = "true"
    return options
