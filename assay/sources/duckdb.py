"""DuckDB database files: tables and views of one schema.

Connection settings: ``statement_timeout`` (seconds a single query may run, default 3600,
0 for none): a query past it is cancelled (``DuckDBPyConnection.interrupt``) and fails
with :class:`~assay.sources.base.StatementTimeout`.
"""

from __future__ import annotations

from pathlib import Path

from ibis.backends.duckdb import Backend as _IbisDuckDB

from .base import (
    COMPUTED_TYPES,
    DEFAULT_STATEMENT_TIMEOUT,
    ContainerInfo,
    DuckDBStaging,
    MissingSchema,
    Source,
    SourceError,
    TimedQueries,
    fields_of,
)


class TimedDuckDB(TimedQueries, _IbisDuckDB):
    """Ibis' DuckDB backend with a statement timeout (``statement_timeout`` seconds)."""


def connect_duckdb(path: str = ":memory:", statement_timeout: float = 0, **kwargs) -> TimedDuckDB:
    """An Ibis DuckDB backend on ``path`` (``kwargs``: DuckDB settings such as
    ``read_only``) whose queries are cancelled after ``statement_timeout`` seconds (0: never)."""
    con = TimedDuckDB().connect(path, **kwargs)
    con.statement_timeout = statement_timeout
    return con


class DuckDBSource(DuckDBStaging, Source):
    """A DuckDB file opened read-only.

    Raises SourceError when the file does not exist or cannot be opened (locked by a
    writer in another process, not a DuckDB file, …), MissingSchema when ``schema`` is not
    one of its schemas.
    """

    def __init__(self, path: str | None, schema: str = "main", statement_timeout: float = DEFAULT_STATEMENT_TIMEOUT):
        if not path:
            raise SourceError("the DuckDB datastore has no 'database' path")
        if path != ":memory:" and not Path(path).is_file():
            raise SourceError(f"DuckDB database file not found: {path}")
        self.path, self.schema = path, schema
        try:
            # No access to other files: a computed table's query cannot read_csv('/etc/passwd').
            self.con = connect_duckdb(path, statement_timeout, read_only=True, enable_external_access=False)
            self.track_progress()
        except Exception as e:  # noqa: BLE001 - the driver's own reason goes to the user
            raise SourceError(f"cannot open DuckDB database {path}: {e}") from e
        schemata = self.con.table("schemata", database="information_schema")
        if schemata.filter(schemata.schema_name == schema).count().execute() == 0:
            self.close()
            raise MissingSchema(schema, path)
        if schema != "main":
            # a computed table's unqualified names are read in the datastore's schema
            self.con.con.execute("SET schema = ?", [schema])

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
            if container.container_type in COMPUTED_TYPES:
                return self.con.sql(container.query, dialect="duckdb")
            return self.con.table(container.name, database=self.schema)
        except Exception as e:  # noqa: BLE001
            raise SourceError(f"cannot read {container.container_type} {self.schema}.{container.name}: {e}") from e

    def close(self):
        try:
            self.con.disconnect()
        except Exception:  # noqa: BLE001
            pass
