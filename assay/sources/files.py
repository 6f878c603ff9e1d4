"""Folders of files (``file:///abs/folder``), read by an in-memory DuckDB.

Sync walks the folder tree. Files with a supported extension whose names differ only
by a trailing number or date (``orders_2024_01.csv``, ``orders_2024_02.csv``) in the
same folder form one container, a *file pattern*, named after the common stem
(``orders``); each file is a partition. A lone file is a container of its own.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from urllib.parse import unquote, urlparse

import ibis

from .base import ContainerInfo, Source, SourceError, fields_of

FORMATS = {
    ".csv": "csv", ".tsv": "csv", ".psv": "csv", ".txt": "csv",
    ".parquet": "parquet", ".pq": "parquet",
    ".json": "json", ".jsonl": "json", ".ndjson": "json",
}
_SUFFIX = re.compile(r"[_\-.]?\d+(?:[_\-.]\d+)*$")


def folder_of(uri: str) -> Path:
    """The local folder a ``file://`` URI (or a plain path) points at."""
    if uri.startswith("file://"):
        return Path(unquote(urlparse(uri).path))
    return Path(uri)


def _split(path: Path) -> tuple[str, str] | None:
    """(stem, extension incl. .gz) of a supported data file, else None."""
    name = path.name
    gz = ""
    if name.endswith(".gz"):
        gz, name = ".gz", name[:-3]
    ext = Path(name).suffix.lower()
    if ext not in FORMATS:
        return None
    return name[: -len(ext)], ext + gz


def group_files(root: Path) -> dict[str, tuple[str, str, list[Path]]]:
    """Container name → (glob relative to root, format, files sorted by name)."""
    groups: dict[tuple[str, str, str], list[Path]] = defaultdict(list)
    for path in sorted(root.rglob("*")):
        if not path.is_file() or any(part.startswith(".") for part in path.relative_to(root).parts):
            continue
        split = _split(path)
        if split is None:
            continue
        stem, ext = split
        base = _SUFFIX.sub("", stem) or stem
        rel_dir = path.parent.relative_to(root).as_posix()
        groups[(rel_dir, base, ext)].append(path)
    out: dict[str, tuple[str, str, list[Path]]] = {}
    for (rel_dir, base, ext), files in sorted(groups.items()):
        name = base if rel_dir == "." else f"{rel_dir}/{base}"
        if name in out:  # same stem, other extension: keep them apart
            name = f"{name}{ext}"
        fmt = FORMATS[ext.removesuffix(".gz")]
        stem_glob = base if len(files) == 1 and _split(files[0])[0] == base else f"{base}*"
        glob = stem_glob + ext if rel_dir == "." else f"{rel_dir}/{stem_glob}{ext}"
        out[name] = (glob, fmt, files)
    return out


class FileSource(Source):
    """A local folder of CSV / TSV / PSV (optionally gzipped), Parquet and JSON-lines files.

    ``csv_options`` go to DuckDB's ``read_csv`` (delimiter, header, quote, escape); what
    is not given is sniffed. Raises SourceError for a missing folder.
    """

    def __init__(self, uri: str, csv_options: dict | None = None):
        self.root = folder_of(uri)
        self.csv_options = csv_options or {}
        if not self.root.is_dir():
            raise SourceError(f"folder not found: {self.root}")
        self.con = ibis.duckdb.connect()
        self._groups: dict[str, tuple[str, str, list[Path]]] | None = None

    @property
    def groups(self):
        if self._groups is None:
            self._groups = group_files(self.root)
        return self._groups

    def _read(self, name: str, fmt: str, files: list[Path], partition_column: str | None = None):
        paths = [str(p) for p in files]
        table_name = f"container_{len(self.con.list_tables())}"
        extra = {"filename": partition_column} if partition_column else {}
        if fmt == "parquet":
            return self.con.read_parquet(paths, table_name=table_name, union_by_name=True, **extra)
        if fmt == "json":
            return self.con.read_json(paths, table_name=table_name, **extra)
        options = dict(self.csv_options)
        if files and files[0].name.removesuffix(".gz").lower().endswith(".tsv"):
            options.setdefault("delim", "\t")
        if files and files[0].name.removesuffix(".gz").lower().endswith(".psv"):
            options.setdefault("delim", "|")
        return self.con.read_csv(paths, table_name=table_name, union_by_name=True, **options, **extra)

    def list_containers(self, include=("table", "view")):
        out = []
        for name, (glob, fmt, files) in self.groups.items():
            try:
                schema = self._read(name, fmt, files).schema()
            except Exception as e:  # noqa: BLE001 - an unreadable file is reported, not fatal
                raise SourceError(f"cannot read {glob}: {e}") from e
            out.append(ContainerInfo(name, "file", None, location=glob, file_format=fmt, fields=fields_of(schema)))
        return out

    def table(self, container, partition_column=None):
        """The files of the container's pattern as one table; each file is a partition and
        ``partition_column`` (when given) holds its path."""
        group = self.groups.get(container.name)
        if group is None:
            raise SourceError(f"no files match container {container.name} ({container.location}) any more")
        glob, fmt, files = group
        try:
            return self._read(container.name, fmt, files, partition_column)
        except Exception as e:  # noqa: BLE001
            raise SourceError(f"cannot read {glob}: {e}") from e

    def partition_count(self, container):
        group = self.groups.get(container.name)
        return len(group[2]) if group else 0

    def close(self):
        try:
            self.con.disconnect()
        except Exception:  # noqa: BLE001
            pass
