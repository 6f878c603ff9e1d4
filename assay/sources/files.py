"""Files read by an in-memory DuckDB: a local folder (``file:///abs/folder``) or a prefix
of an object store (``s3://bucket/prefix``, read through an fsspec filesystem).

Sync walks the folder tree (or lists every object under the prefix). Files with a
supported extension whose names differ only by a trailing number or date
(``orders_2024_01.csv``, ``orders_2024_02.csv``) in the same folder form one container,
a *file pattern*, named after the common stem (``orders``); each file is a partition.
A lone file is a container of its own. A folder holding a ``_delta_log/`` is one Delta
table container, read at its current version through delta-rs (``sources.delta``).

Object stores go through fsspec (``s3fs``), registered into the DuckDB connection with
``register_filesystem``: DuckDB's own ``httpfs`` extension is never loaded (that would
mean a runtime download).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from types import SimpleNamespace
from typing import Any
from urllib.parse import unquote, urlparse

import ibis
import sqlglot as sg
import sqlglot.expressions as sge

from . import delta
from .base import (
    COMPUTED_TYPES,
    DEFAULT_STATEMENT_TIMEOUT,
    ContainerInfo,
    DuckDBStaging,
    Source,
    SourceError,
    StatementTimeout,
    fields_of,
)

FORMATS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".psv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
}
_SUFFIX = re.compile(r"[_\-.]?\d+(?:[_\-.]\d+)*$")

# Object stores: seconds to wait for a connection and for a response, and how many
# attempts botocore makes in all (connection errors, throttling, 5xx) before giving up.
S3_CONNECT_TIMEOUT = 10
S3_READ_TIMEOUT = 60
S3_MAX_ATTEMPTS = 3


def folder_of(uri: str) -> Path:
    """The local folder a ``file://`` URI (or a plain path) points at."""
    if uri.startswith("file://"):
        return Path(unquote(urlparse(uri).path))
    return Path(uri)


def _split(name: str) -> tuple[str, str] | None:
    """(stem, extension incl. .gz) of a supported data file name, else None."""
    gz = ""
    if name.endswith(".gz"):
        gz, name = ".gz", name[:-3]
    ext = PurePosixPath(name).suffix.lower()
    if ext not in FORMATS:
        return None
    return name[: -len(ext)], ext + gz


#: A folder holding this sub-folder is a Delta Lake table (its transaction log).
DELTA_LOG = "_delta_log"


def delta_tables(paths: Iterable[str]) -> list[str]:
    """The folders (relative to the root, POSIX; ``.`` for the root itself) that are Delta
    tables — they hold a ``_delta_log/`` — from the paths of files relative to the root."""
    found = set()
    for rel in paths:
        parts = PurePosixPath(rel).parts
        if DELTA_LOG in parts[:-1]:
            found.add(PurePosixPath(*parts[: parts.index(DELTA_LOG)]).as_posix() if parts[0] != DELTA_LOG else ".")
    return sorted(found)


def group_paths(paths: Iterable[str]) -> dict[str, tuple[str, str, list[str]]]:
    """Container name → (glob relative to the root, format, paths sorted by name), from
    the paths of files relative to the root (POSIX separators). Paths with a hidden part
    (``.name``) and unsupported extensions are left out.

    A Delta table (a folder with a ``_delta_log/``) is one container of format ``delta``
    named after its folder (``.`` when the root itself is one), its one "file" (and
    partition) the folder: its Parquet files are never read as a file pattern (they include
    files removed by later versions); ``sources.delta`` reads its current version."""
    paths = sorted(paths)
    deltas = delta_tables(paths)
    groups: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for rel in paths:
        if any(d == "." or rel.startswith(d + "/") for d in deltas):
            continue
        path = PurePosixPath(rel)
        if any(part.startswith(".") for part in path.parts):
            continue
        split = _split(path.name)
        if split is None:
            continue
        stem, ext = split
        base = _SUFFIX.sub("", stem) or stem
        rel_dir = path.parent.as_posix()
        groups[(rel_dir, base, ext)].append(rel)
    out: dict[str, tuple[str, str, list[str]]] = {}
    for (rel_dir, base, ext), files in sorted(groups.items()):
        name = base if rel_dir == "." else f"{rel_dir}/{base}"
        if name in out:  # same stem, other extension: keep them apart
            name = f"{name}{ext}"
        fmt = FORMATS[ext.removesuffix(".gz")]
        only = _split(PurePosixPath(files[0]).name) if len(files) == 1 else None
        stem_glob = base if only is not None and only[0] == base else f"{base}*"
        glob = stem_glob + ext if rel_dir == "." else f"{rel_dir}/{stem_glob}{ext}"
        out[name] = (glob, fmt, files)
    for folder in deltas:
        name = folder if folder not in out else f"{folder}.delta"
        out[name] = (folder, "delta", [folder])
    return out


def group_files(root: Path) -> dict[str, tuple[str, str, list[Path]]]:
    """Container name → (glob relative to root, format, files sorted by name) of a local folder.

    A file that resolves (through a symlink) outside the server's data roots, or into
    Assay's own data directory, is skipped (see :mod:`assay.confinement`)."""
    from ..confinement import allowed

    rels = [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and allowed(p)]
    return {name: (glob, fmt, [root / rel for rel in files]) for name, (glob, fmt, files) in group_paths(rels).items()}


def s3_filesystem(connection: dict, secrets: dict | None = None):
    """An ``s3fs.S3FileSystem`` for an ``s3`` datastore connection: ``endpoint_url``
    (S3-compatible servers: MinIO, Ceph, moto, …), ``region``, and the secrets
    ``access_key`` / ``secret_key`` (optionally ``token``, a session token). Without
    keys the bucket is read anonymously (public buckets); the server's own AWS
    credentials are never used.

    Raises: SourceError when s3fs is not installed or only one of the two keys is given.
    """
    try:
        import s3fs
    except ImportError as e:  # pragma: no cover - s3fs is a dependency
        raise SourceError(f"reading S3 needs the 's3fs' package ({e})") from e
    secrets = secrets or {}
    key, secret = secrets.get("access_key"), secrets.get("secret_key")
    if bool(key) != bool(secret):
        raise SourceError("an s3 connection needs both 'access_key' and 'secret_key' (or neither, for a public bucket)")
    client_kwargs = {}
    if connection.get("endpoint_url"):
        client_kwargs["endpoint_url"] = connection["endpoint_url"]
    if connection.get("region"):
        client_kwargs["region_name"] = connection["region"]
    credentials = {"key": key, "secret": secret, "token": secrets.get("token")} if key else {"anon": True}
    fs = s3fs.S3FileSystem(
        **credentials,
        client_kwargs=client_kwargs,
        config_kwargs={
            "connect_timeout": S3_CONNECT_TIMEOUT,
            "read_timeout": S3_READ_TIMEOUT,
            "retries": {"max_attempts": S3_MAX_ATTEMPTS, "mode": "standard"},
        },
        # One client per opened datastore, never shared, so each sync / scan lists the objects
        # as they are now; within it, the listing answers DuckDB's many size / modified-time
        # look-ups (otherwise a HEAD request each, several per file per query).
        skip_instance_cache=True,
        use_listings_cache=True,
    )
    fs.retries = 1  # botocore retries already; s3fs' own retry loop would multiply the wait
    return fs


def _reason(e: BaseException) -> str:
    text = str(e).strip()
    if isinstance(e, FileNotFoundError) and text and not text.startswith("The specified"):
        return f"not found: {text}"
    return text.splitlines()[0] if text else type(e).__name__


def _quoted(name: str) -> str:
    return sg.to_identifier(name, quoted=True).sql("duckdb")


class FileSource(DuckDBStaging, Source):
    """CSV / TSV / PSV (optionally gzipped), Parquet and JSON-lines files in a local
    folder or under an object-store prefix.

    ``csv_options`` go to DuckDB's ``read_csv`` (delimiter, header, quote, escape); what
    is not given is sniffed. ``fs`` is an fsspec filesystem for a remote ``uri``
    (``s3://bucket/prefix``); without it ``uri`` is a local folder. A Delta table (format
    ``delta``) is read at its current version through delta-rs (``sources.delta``), with
    ``storage_options`` (delta-rs' object-store settings) for a remote one.

    Raises SourceError for a missing folder, and for a remote store whose objects
    cannot be listed (missing bucket, wrong credentials, unreachable endpoint).
    """

    def __init__(
        self,
        uri: str,
        csv_options: dict | None = None,
        fs=None,
        statement_timeout: float = DEFAULT_STATEMENT_TIMEOUT,
        storage_options: dict[str, str] | None = None,
    ):
        self.csv_options = csv_options or {}
        self.fs = fs
        self.storage_options = storage_options
        self._groups: dict[str, tuple[str, str, list[str]]] | None = None
        self._modified: dict[str, dt.datetime] = {}
        #: a local folder's Path, or a remote store's ``bucket/prefix``
        self.root: Any
        if fs is None:
            self.root = folder_of(uri)
            if not self.root.is_dir():
                raise SourceError(f"folder not found: {self.root}")
            self.uri = uri
        else:
            protocol, sep, rest = uri.partition("://")
            self.protocol = protocol.lower()
            self.root = rest.strip("/")
            if not sep or not self.root:
                raise SourceError(f"'{uri}' is not a bucket URI like {protocol or 's3'}://bucket/prefix")
            self.uri = f"{self.protocol}://{self.root}"
        from .duckdb import connect_duckdb

        self.con = connect_duckdb(statement_timeout=statement_timeout)
        self.track_progress()
        if fs is not None:
            try:
                self.con.con.register_filesystem(fs)
                self._groups = self._list_remote()  # fail now, with the store's reason
            except BaseException:
                self.close()
                raise

    # -- listing -----------------------------------------------------------------------

    def _list_remote(self) -> dict[str, tuple[str, str, list[str]]]:
        try:
            found = self.fs.find(self.root, detail=True)
        except Exception as e:  # noqa: BLE001 - the store's reason, whatever the exception
            raise SourceError(f"cannot list {self.uri}: {_reason(e)}") from e
        prefix = self.root + "/"
        rels = [
            name[len(prefix) :]
            for name, info in found.items()
            if info.get("type", "file") == "file" and name.startswith(prefix)
        ]
        for name, info in found.items():
            modified = info.get("LastModified") or info.get("mtime")
            if isinstance(modified, dt.datetime):
                self._modified[f"{self.protocol}://{name}"] = (
                    modified if modified.tzinfo else modified.replace(tzinfo=dt.UTC)
                )
        return {
            name: (glob, fmt, [self.uri if rel == "." else f"{self.uri}/{rel}" for rel in files])
            for name, (glob, fmt, files) in group_paths(rels).items()
        }

    @property
    def groups(self) -> dict[str, tuple[str, str, list[str]]]:
        """Container name → (glob relative to the root, format, readable paths of its files)."""
        if self._groups is None:
            if self.fs is None:
                self._groups = {
                    name: (glob, fmt, [str(p) for p in files])
                    for name, (glob, fmt, files) in group_files(self.root).items()
                }
            else:
                self._groups = self._list_remote()
        return self._groups

    # -- reading -----------------------------------------------------------------------

    def _read(self, name: str, fmt: str, files: list[str], partition_column: str | None = None):
        table_name = f"container_{len(self.con.list_tables())}"
        if fmt == "delta":
            return self._read_delta(table_name, files[0], partition_column)
        extra = {"filename": partition_column} if partition_column else {}
        kwargs: dict[str, Any]
        if fmt == "parquet":
            kwargs = {"union_by_name": True, **extra}
            function = "read_parquet"
        elif fmt == "json":
            kwargs = extra
            function = "read_json_auto"
        else:
            options = dict(self.csv_options)
            first = PurePosixPath(files[0]).name.removesuffix(".gz").lower() if files else ""
            if first.endswith(".tsv"):
                options.setdefault("delim", "\t")
            if first.endswith(".psv"):
                options.setdefault("delim", "|")
            # what Ibis' read_csv sends by default: a header row, sniffed types
            kwargs = {"header": True, "auto_detect": True, "union_by_name": True, **options, **extra}
            function = "read_csv"
        # The view is defined here, not through Ibis' read_* helpers: those load DuckDB's
        # httpfs extension (a download) for any s3:// path, while the registered fsspec
        # filesystem reads it without one.
        args = ", ".join(
            [sge.convert(list(files)).sql("duckdb")]
            + [f"{_quoted(k)} = {sge.convert(v).sql('duckdb')}" for k, v in kwargs.items()]
        )
        self.con.raw_sql(f"CREATE OR REPLACE TEMPORARY VIEW {_quoted(table_name)} AS SELECT * FROM {function}({args})")
        return self.con.table(table_name)

    def _delta(self, path: str):
        """The ``deltalake.DeltaTable`` of the Delta table folder at ``path`` (as ``groups``
        names it), at its current version. Raises SourceError (see ``delta.open_table``)."""
        return delta.open_table(path, self._relative(path), self.storage_options)

    def _read_delta(self, table_name: str, path: str, partition_column: str | None):
        """The current version of the Delta table at ``path`` as a view of its live files (a
        PyArrow dataset registered in DuckDB); ``partition_column`` holds the folder's path."""
        self.con.con.register(table_name, delta.arrow_dataset(self._delta(path), path, self.storage_options))
        t = self.con.table(table_name)
        return t.mutate(ibis.literal(path).name(partition_column)) if partition_column else t

    def _relative(self, path: str) -> str:
        """A read path as the datastore names it: relative to its root (``.`` for the root)."""
        root = str(self.root) if self.fs is None else self.uri
        if path == root:
            return "."
        return path.removeprefix(root.rstrip("/") + "/")

    def _failure(self, glob: str, e: Exception) -> SourceError:
        if isinstance(e, StatementTimeout):
            return e  # the one timeout message of every engine, as it is
        where = glob if self.fs is None else f"{self.uri}/{glob}"
        return SourceError(f"cannot read {where}: {_reason(e)}")

    def list_containers(self, include=("table", "view")):
        out = []
        for name, (glob, fmt, files) in self.groups.items():
            try:
                schema = self._read(name, fmt, files).schema()
            except SourceError as e:
                if fmt != "delta":
                    raise
                # listed with its reason (a reader feature not supported here): its scans fail the same way
                out.append(ContainerInfo(name, "file", None, location=glob, file_format=fmt, error=str(e)))
                continue
            except Exception as e:  # noqa: BLE001 - an unreadable file is reported, not fatal
                raise self._failure(glob, e) from e
            out.append(ContainerInfo(name, "file", None, location=glob, file_format=fmt, fields=fields_of(schema)))
        return out

    def table(self, container, partition_column=None, files=None):
        """The files of the container's pattern as one table; each file is a partition and
        ``partition_column`` (when given) holds its path (for an object store, its URI).
        ``files`` (paths as :meth:`file_partitions` names them) restricts the read to those
        files; an empty list gives the container's columns with no rows. A computed file reads
        its query over its source file container (named as its ``computed_definition`` says)."""
        if container.container_type in COMPUTED_TYPES:
            source = (container.computed_definition or {}).get("source_container_name")
            if container.container_type != "computed_file" or source not in self.groups:
                raise SourceError(f"cannot read {container.container_type} {container.name}: no source file container")
            base = self.table(SimpleNamespace(name=source, container_type="file"))
            try:
                return base.alias(source).sql(container.query, dialect="duckdb")
            except Exception as e:  # noqa: BLE001
                raise SourceError(f"cannot read computed_file {container.name}: {e}") from e
        group = self.groups.get(container.name)
        if group is None:
            raise SourceError(f"no files match container {container.name} ({container.location}) any more")
        glob, fmt, all_files = group
        try:
            if files is None:
                return self._read(container.name, fmt, all_files, partition_column)
            # Part of the pattern: read those files, but keep the columns and types the whole
            # pattern has (a header-only or short file must not retype a column as text).
            whole = self._read(container.name, fmt, all_files, partition_column)
            wanted = set(files)
            if fmt == "delta":  # one partition: the table's current version, whole or not at all
                return whole if all_files[0] in wanted else whole.limit(0)
            chosen = [f for f in all_files if f in wanted and not self._is_empty(f)]
            if not chosen:
                return whole.limit(0)
            part = self._read(container.name, fmt, chosen, partition_column)
            return part.select(
                *[
                    (part[name].cast(dtype) if part[name].type() != dtype else part[name]).name(name)
                    if name in part.columns
                    else ibis.null(dtype).name(name)
                    for name, dtype in whole.schema().items()
                ]
            )
        except SourceError:
            raise
        except Exception as e:  # noqa: BLE001
            raise self._failure(glob, e) from e

    def _is_empty(self, path: str) -> bool:
        """A zero-byte file: it holds no rows (and no header to read columns from)."""
        try:
            return (self.fs.size(path) if self.fs is not None else Path(path).stat().st_size) == 0
        except Exception:  # noqa: BLE001 - unknown size: let the read decide
            return False

    def partition_count(self, container):
        if container.container_type in COMPUTED_TYPES:
            return 1
        group = self.groups.get(container.name)
        return len(group[2]) if group else 0

    def file_partitions(self, container) -> list[tuple[str, dt.datetime]] | None:
        """The container's files as (path, last-modified time in UTC), sorted by path; None
        for a computed file (read whole, as one partition). Raises SourceError when no file
        matches the container any more."""
        if container.container_type in COMPUTED_TYPES:
            return None
        group = self.groups.get(container.name)
        if group is None:
            raise SourceError(f"no files match container {container.name} ({container.location}) any more")
        out = []
        glob, fmt, paths = group
        if fmt == "delta":  # one partition, modified when its current version was committed
            commit = delta.commit_file(paths[0], self._delta(paths[0]))
            committed = self._modified.get(commit)
            if committed is None and self.fs is None:
                committed = dt.datetime.fromtimestamp(Path(commit).stat().st_mtime, tz=dt.UTC)
            return [(paths[0], committed or dt.datetime.fromtimestamp(0, tz=dt.UTC))]
        for path in paths:
            modified = self._modified.get(path)
            if modified is None:
                stamp = Path(path).stat().st_mtime
                modified = dt.datetime.fromtimestamp(stamp, tz=dt.UTC)
            out.append((path, modified))
        return out

    def close(self):
        try:
            self.con.disconnect()
        except Exception:  # noqa: BLE001
            pass
