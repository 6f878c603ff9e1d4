"""DuckDB database files: tables and views of one schema.

Connection settings: ``statement_timeout`` (seconds a single query may run, default 3600,
0 for none): a query past it is cancelled (``DuckDBPyConnection.interrupt``) and fails
with :class:`~assay.sources.base.StatementTimeout`.
"""

from __future__ import annotations

import logging
import os
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
from .compiled import CompiledSQLCache

log = logging.getLogger(__name__)


#: Environment variable: the memory each DuckDB connection on a datastore may use before its
#: queries spill to disk (DuckDB's ``memory_limit``: "1GB", "512MB", …; "none" for DuckDB's
#: own default, 80 % of the machine's memory). A budget, not a cap: see :class:`TimedDuckDB`.
MEMORY_LIMIT_ENV = "ASSAY_DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "1GB"


def memory_limit() -> str | None:
    """The per-connection memory budget of DuckDB datastores (``ASSAY_DUCKDB_MEMORY_LIMIT``,
    default :data:`DEFAULT_MEMORY_LIMIT`); None when set to "none" or "" (DuckDB's default)."""
    value = os.environ.get(MEMORY_LIMIT_ENV, DEFAULT_MEMORY_LIMIT).strip()
    return None if value.lower() in ("", "none") else value


class TimedDuckDB(CompiledSQLCache, TimedQueries, _IbisDuckDB):
    """Ibis' DuckDB backend with a statement timeout (``statement_timeout`` seconds) and a
    memory budget (``memory_budget``, DuckDB's ``memory_limit``, or None).

    Within the budget DuckDB partitions or spills its hash tables and sorts: a scan's
    ``GROUP BY`` over 60 M keys ran in 1.2 GB instead of 3.2 GB, and not slower. A query the engine cannot
    run within it (``OutOfMemoryException``: a profile's exact distinct counts of 150 fields
    at once, which do not spill) is run again once without it, and the connection keeps
    DuckDB's default limit from then on: the budget never fails a query that fits in the
    machine. Streamed reads (``to_pyarrow_batches``) run without it, as a retry could not
    restart a stream half read."""

    memory_budget: str | None = None

    def _lift_memory_budget(self) -> None:
        if self.memory_budget is not None:
            self.memory_budget = None
            # RESET alone shows DuckDB's default but leaves the buffer manager at the budget
            # (DuckDB 1.5): set that default explicitly
            self.con.execute("RESET memory_limit")
            (default,) = self.con.execute("SELECT current_setting('memory_limit')").fetchone()
            self.con.execute("SET memory_limit = ?", [default])

    def _within_budget(self, call, again=None):
        """``call()``; when it runs out of the budget, the budget is lifted and ``again()``
        (default: ``call``) runs instead."""
        import duckdb

        try:
            return call()
        except duckdb.OutOfMemoryException:
            if self.memory_budget is None:
                raise
            log.info("a DuckDB query needed more than %s: run again without the budget", self.memory_budget)
            self._lift_memory_budget()
            return (again or call)()

    def to_pyarrow(self, *args, **kwargs):
        return self._within_budget(lambda: super(TimedDuckDB, self).to_pyarrow(*args, **kwargs))

    def execute(self, *args, **kwargs):
        return self._within_budget(lambda: super(TimedDuckDB, self).execute(*args, **kwargs))

    def raw_sql(self, *args, **kwargs):
        return self._within_budget(lambda: super(TimedDuckDB, self).raw_sql(*args, **kwargs))

    def create_table(self, *args, **kwargs):
        # Ibis creates the table, then fills it: a fill that ran out of the budget left the
        # empty table behind, which the second attempt replaces
        return self._within_budget(
            lambda: super(TimedDuckDB, self).create_table(*args, **kwargs),
            lambda: super(TimedDuckDB, self).create_table(*args, **{**kwargs, "overwrite": True}),
        )

    def get_schema(self, *args, **kwargs):
        return self._within_budget(lambda: super(TimedDuckDB, self).get_schema(*args, **kwargs))

    def _get_schema_using_query(self, *args, **kwargs):
        return self._within_budget(lambda: super(TimedDuckDB, self)._get_schema_using_query(*args, **kwargs))

    def to_pyarrow_batches(self, *args, **kwargs):
        self._lift_memory_budget()
        return super().to_pyarrow_batches(*args, **kwargs)


def connect_duckdb(path: str = ":memory:", statement_timeout: float = 0, **kwargs) -> TimedDuckDB:
    """An Ibis DuckDB backend on ``path`` (``kwargs``: DuckDB settings such as
    ``read_only``) whose queries are cancelled after ``statement_timeout`` seconds (0: never),
    within the memory budget :func:`memory_limit` unless ``kwargs`` sets ``memory_limit``.

    Raises: ValueError naming ``ASSAY_DUCKDB_MEMORY_LIMIT`` when it is not a memory size."""
    budget = None if "memory_limit" in kwargs else memory_limit()
    con = TimedDuckDB().connect(path, **kwargs)
    con.statement_timeout = statement_timeout
    if budget is not None:
        # set after the start, so that RESET gives DuckDB's own default back
        try:
            con.con.execute("SET memory_limit = ?", [budget])
        except Exception as e:  # noqa: BLE001 - the operator's setting, named
            con.disconnect()
            raise ValueError(
                f"{MEMORY_LIMIT_ENV}={budget!r} is not a DuckDB memory size (such as 1GB or 512MB), "
                f"or 'none': {str(e).splitlines()[0]}"
            ) from None
        con.memory_budget = budget
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
        # DuckDB's own catalog function: 0.6 ms, where the same filter compiled by Ibis
        # over information_schema took 7-8 ms of every scan, sync and browse
        # fetchall: a result read to its end, so no query is left running (progress())
        ((found,),) = self.con.con.execute(
            "SELECT count(*) FROM duckdb_schemas() WHERE database_name = current_database() AND schema_name = ?",
            [schema],
        ).fetchall()
        if found == 0:
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
