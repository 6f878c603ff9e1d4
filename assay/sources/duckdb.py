"""DuckDB database files: tables and views of one schema."""

from __future__ import annotations

from pathlib import Path

import ibis

from .base import ContainerInfo, DuckDBStaging, Source, SourceError, fields_of


class DuckDBSource(DuckDBStaging, Source):
    """A DuckDB file opened read-only.

    Raises SourceError when the file does not exist or cannot be opened (locked by a
    writer in another process, not a DuckDB file, …).
    """

    def __init__(self, path: str | None, schema: str = "main"):
        if not path:
            raise SourceError("the DuckDB datastore has no 'database' path")
        if path != ":memory:" and not Path(path).is_file():
            raise SourceError(f"DuckDB database file not found: {path}")
        self.path, self.schema = path, schema
        try:
            # No access to other files: a computed table's query cannot read_csv('/etc/passwd').
            self.con = ibis.duckdb.connect(path, read_only=True, enable_external_access=False)
            self.track_progress()
        except Exception as e:  # noqa: BLE001 - the driver's own reason goes to the user
            raise SourceError(f"cannot open DuckDB database {path}: {e}") from e

    def list_containers(self, include=("table", "view")):
        tables = self.con.table("tables", database="information_schema")
        rows = (
            tables.filter(tables.table_schema == self.schema)
            .select("table_name", "table_type")
            .order_by("table_name")
            .to_pyarrow()
            .to_pylist()
        )
        out = []
        for row in rows:
            table_type = "view" if row["table_type"] == "VIEW" else "table"
            if table_type not in include:
                continue
            schema = self.con.table(row["table_name"], database=self.schema).schema()
            out.append(ContainerInfo(row["table_name"], "table", table_type, fields=fields_of(schema)))
        return out

    def table(self, container, partition_column=None):
        try:
            if container.container_type == "computed_table":
                return self.con.sql(container.query, dialect="duckdb")
            return self.con.table(container.name, database=self.schema)
        except Exception as e:  # noqa: BLE001
            raise SourceError(f"cannot read {container.container_type} {self.schema}.{container.name}: {e}") from e

    def close(self):
        try:
            self.con.disconnect()
        except Exception:  # noqa: BLE001
            pass
