"""What every connector offers, and the mapping of native types to Assay field types."""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from typing import Any

import ibis.expr.datatypes as dt
import ibis.expr.types as ir

#: Containers defined by a query over the datastore (``Container.query``), not found by sync.
COMPUTED_TYPES = frozenset({"computed_table", "computed_file", "computed_join"})


class SourceError(RuntimeError):
    """A datastore or container cannot be opened or read; the message says why."""

    #: the datastore setting at fault, when known (``("schema",)``)
    loc: tuple[str, ...] | None = None


class MissingSchema(SourceError):
    """The datastore's ``schema`` does not exist in its database: "schema 's9' does not
    exist in database 'test'"."""

    loc = ("schema",)

    def __init__(self, schema: str, database: str | None):
        super().__init__(f"schema '{schema}' does not exist in database '{database or ''}'")


@dataclass
class FieldInfo:
    """A column: its name, Assay field type, native type (as the engine spells it) and nullability."""

    name: str
    type: str
    native_type: str
    nullable: bool = True


@dataclass
class ContainerInfo:
    """A container found by sync.

    ``container_type`` is ``table`` (with ``table_type`` ``table`` or ``view``) or
    ``file`` (a file pattern, ``location`` its glob relative to the datastore root).
    ``error``: why this one container cannot be read (e.g. a Delta table without the Delta
    Lake reader); it is still listed, without fields, and its scans fail with that reason.
    """

    name: str
    container_type: str
    table_type: str | None = None
    location: str | None = None
    file_format: str | None = None
    fields: list[FieldInfo] = field(default_factory=list)
    error: str | None = None


def field_type_of(dtype: dt.DataType) -> str:
    """Assay field type of an Ibis data type: Integral, Fractional, Boolean, String,
    Date, Timestamp or Unknown."""
    if dtype.is_boolean():
        return "Boolean"
    if dtype.is_integer():
        return "Integral"
    if dtype.is_floating() or dtype.is_decimal():
        return "Fractional"
    if dtype.is_string():
        return "String"
    if dtype.is_date():
        return "Date"
    if dtype.is_timestamp():
        return "Timestamp"
    return "Unknown"


def fields_of(schema) -> list[FieldInfo]:
    """FieldInfo for each column of an Ibis schema, in order."""
    return [FieldInfo(name, field_type_of(dtype), str(dtype), dtype.nullable) for name, dtype in schema.items()]


class Source:
    """A connected datastore. Use as a context manager; ``close()`` releases it."""

    def list_containers(self, include: tuple[str, ...] = ("table", "view")) -> list[ContainerInfo]:
        """Every container with its fields. Raises SourceError."""
        raise NotImplementedError

    def table(self, container, partition_column: str | None = None) -> ir.Table:
        """The Ibis table of a container (a ``store.models.Container``). When the source
        splits containers into partitions (files), ``partition_column`` names an extra
        column holding each row's partition. Raises SourceError."""
        raise NotImplementedError

    def partition_count(self, container) -> int:
        """How many partitions a full read of the container covers (1 for a table)."""
        return 1

    def stage(self, table: ir.Table) -> ir.Table:
        """A small read (an incremental one) as the checks should query it: on engines
        where copying the rows once is cheaper than filtering the container again for every
        query (DuckDB: a temporary table, replacing the previous one), that copy; elsewhere
        ``table`` itself."""
        return table

    def file_partitions(self, container) -> list | None:
        """For a file pattern, its files as ``(path, last-modified time in UTC)``; None
        for a container that is not made of files."""
        return None

    def describe(self, label: str) -> None:
        """Name the work this source runs from now on after the operation (``label``, e.g.
        ``assay scan operation 12 (datastore shop)``) where the engine shows it (Spark: the
        job group / description in its UI); elsewhere a no-op."""

    def progress(self) -> float | None:
        """How far the query running on this source is, from 0 to 1, where the engine
        tells (DuckDB's query progress); None when no query runs or the engine cannot say.
        Safe to call from another thread while the query runs."""
        return None

    def interrupt(self) -> None:
        """Cancel the query running on this source, where the driver allows (DuckDB,
        PostgreSQL); elsewhere a no-op, and the abort waits for the query to end."""
        con = getattr(getattr(self, "con", None), "con", None)
        for method in ("interrupt", "cancel"):
            if hasattr(con, method):
                try:
                    getattr(con, method)()
                except Exception:  # noqa: BLE001 - best effort
                    pass
                return

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class DuckDBStaging:
    """``stage()`` and ``progress()`` for sources read through a DuckDB connection
    (``self.con``): staged rows go into a temporary table (DuckDB allows them on read-only
    databases), one at a time."""

    #: the source's Ibis DuckDB connection (set by the source that mixes this in)
    con: Any

    def track_progress(self) -> None:
        """Let DuckDB track the progress of each query (never printed), for :meth:`progress`;
        called once the connection is open."""
        self.con.con.execute("SET enable_progress_bar = true")
        self.con.con.execute("SET enable_progress_bar_print = false")
        self._tracked = True

    def progress(self) -> float | None:
        if not self._tracked:
            return None
        try:
            percent = self.con.con.query_progress()
        except Exception:  # noqa: BLE001 - closed, or a driver without it
            return None
        return None if percent is None or percent < 0 else min(float(percent), 100.0) / 100

    #: The temporary table holding the staged rows. One name for every read, so that the
    #: queries over it compare equal from one scan to the next and compile once
    #: (:mod:`assay.sources.compiled`), unless a table or view of the datastore has it
    #: (the temporary table would hide it): then the first ``_1``, ``_2``, … none has.
    STAGED_TABLE = "__assay_read_5c1e0f9a7d3b"

    _tracked: bool = False
    _staged_name: str | None = None

    def staged_name(self) -> str:
        """The name of the staged rows' temporary table on this connection: ``STAGED_TABLE``,
        or with the first suffix ``_1``, ``_2``, … that no table or view has (DuckDB's
        names ignore case). Looked up once per connection, in DuckDB's catalog
        (``duckdb_tables()``, ``duckdb_views()``); raises what DuckDB raises."""
        if self._staged_name is None:
            rows = self.con.con.execute(
                "SELECT lower(table_name) FROM duckdb_tables() WHERE NOT temporary "
                "UNION ALL SELECT lower(view_name) FROM duckdb_views()"
            ).fetchall()
            taken = {name for (name,) in rows}
            name, n = self.STAGED_TABLE, 0
            while name.lower() in taken:
                n += 1
                name = f"{self.STAGED_TABLE}_{n}"
            self._staged_name = name
        return self._staged_name

    def stage(self, table: ir.Table) -> ir.Table:
        name = self.staged_name()
        # dropped first: the previous container's rows, or what a failed copy left (Ibis
        # creates the table, then fills it)
        self.con.drop_table(name, database=("temp", "main"), force=True)
        return self.con.create_table(name, table, temp=True)


#: Seconds a single query may run on a datastore unless its ``connection.statement_timeout``
#: says otherwise (0: no limit).
DEFAULT_STATEMENT_TIMEOUT = 3600


class StatementTimeout(SourceError):
    """A query ran longer than the datastore's ``statement_timeout`` and was cancelled."""


def statement_timeout_of(connection: dict | None) -> float:
    """``connection.statement_timeout`` in seconds (default :data:`DEFAULT_STATEMENT_TIMEOUT`;
    0 for no limit)."""
    value = (connection or {}).get("statement_timeout")
    return float(DEFAULT_STATEMENT_TIMEOUT if value is None else value)


def timeout_message(seconds: float) -> str:
    """The error of a query cut by the statement timeout, naming the setting and its value:
    the one message every engine reports (DuckDB, SQLite and files through
    :class:`TimedQueries`, PostgreSQL and MySQL/MariaDB through :class:`ServerTimedQueries`)."""
    return f"query cancelled: it ran longer than the datastore's statement_timeout of {seconds:g} s"


class TimedQueries:
    """A statement timeout for Ibis backends whose driver has no server-side one (DuckDB,
    SQLite): mixed into the backend class, it arms a timer for every query it runs
    (``to_pyarrow``, ``execute``, ``raw_sql``, ``create_table``, the schema look-ups
    ``get_schema`` / ``_get_schema_using_query`` that run a view or a query; each batch of
    ``to_pyarrow_batches``) and, when the query outlives ``statement_timeout`` seconds,
    cancels it with the driver's ``interrupt()`` — DuckDB's ``DuckDBPyConnection.interrupt``,
    SQLite's ``sqlite3.Connection.interrupt``, both safe from another thread. The query
    then raises :class:`StatementTimeout` (its message: :func:`timeout_message`). A timer
    fires only while its own query is running, so it never cuts the next one. Nested calls
    (``execute`` inside ``to_pyarrow``) share the outermost query's timer."""

    statement_timeout: float = 0.0

    def _limit_state(self) -> dict:
        state = self.__dict__.get("_assay_limit")
        if state is None:
            state = self.__dict__["_assay_limit"] = {"lock": threading.Lock(), "depth": 0, "armed": None}
        return state

    @contextlib.contextmanager
    def limited(self):
        """Run the enclosed query under the statement timeout (a no-op when it is 0 or when
        an enclosing call already did)."""
        state = self._limit_state()
        if not self.statement_timeout or state["depth"]:
            state["depth"] += 1
            try:
                yield
            finally:
                state["depth"] -= 1
            return
        token = object()
        fired: list[bool] = []

        def fire() -> None:
            with state["lock"]:
                if state["armed"] is token:
                    fired.append(True)
                    self.con.interrupt()  # type: ignore[attr-defined]

        timer = threading.Timer(self.statement_timeout, fire)
        timer.daemon = True
        with state["lock"]:
            state["armed"] = token
        state["depth"] += 1
        timer.start()
        try:
            yield
        except Exception as e:
            if fired:
                raise StatementTimeout(timeout_message(self.statement_timeout)) from e
            raise
        finally:
            with state["lock"]:
                state["armed"] = None
            timer.cancel()
            state["depth"] -= 1

    def to_pyarrow(self, *args, **kwargs):
        with self.limited():
            return super().to_pyarrow(*args, **kwargs)  # type: ignore[misc]

    def execute(self, *args, **kwargs):
        with self.limited():
            return super().execute(*args, **kwargs)  # type: ignore[misc]

    def raw_sql(self, *args, **kwargs):
        with self.limited():
            return super().raw_sql(*args, **kwargs)  # type: ignore[misc]

    def create_table(self, *args, **kwargs):
        with self.limited():
            return super().create_table(*args, **kwargs)  # type: ignore[misc]

    def get_schema(self, *args, **kwargs):
        # a view's column types may come from running it (SQLite: ``SELECT typeof(col) …``)
        with self.limited():
            return super().get_schema(*args, **kwargs)  # type: ignore[misc]

    def _get_schema_using_query(self, *args, **kwargs):
        # a computed table's columns come from running its query
        with self.limited():
            return super()._get_schema_using_query(*args, **kwargs)  # type: ignore[misc]

    def to_pyarrow_batches(self, *args, **kwargs):
        import pyarrow as pa

        with self.limited():
            reader = super().to_pyarrow_batches(*args, **kwargs)  # type: ignore[misc]

        def batches():
            it = iter(reader)
            while True:
                with self.limited():  # each fetch is a query step of its own
                    batch = next(it, None)
                if batch is None:
                    return
                yield batch

        return pa.RecordBatchReader.from_batches(reader.schema, batches())


class ServerTimedQueries(TimedQueries):
    """The statement timeout of engines whose server enforces it (PostgreSQL's
    ``statement_timeout``, MariaDB's ``max_statement_time``, MySQL's ``max_execution_time``):
    mixed into the Ibis backend class, it arms no timer but turns the server's own error
    for a query it cancelled (:meth:`timed_out`) into :class:`StatementTimeout` with
    :func:`timeout_message`, so every engine reports a timeout in the same words."""

    def timed_out(self, e: BaseException) -> bool:
        """Whether ``e`` is the server cancelling a query for the statement timeout."""
        return False

    @contextlib.contextmanager
    def limited(self):
        try:
            yield
        except StatementTimeout:
            raise
        except Exception as e:
            if self.statement_timeout and self.timed_out(e):
                raise StatementTimeout(timeout_message(self.statement_timeout)) from e
            raise
