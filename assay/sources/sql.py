"""Database datastores reached through Ibis: PostgreSQL, MySQL / MariaDB and SQLite.

Every query runs on the database itself (pushdown): the scan's fused aggregate and its
example-row queries are compiled by Ibis to the server's dialect; no table is pulled
into Python. Containers are the tables and views of the datastore's schema.

Connection settings (the datastore's ``connection`` plus its decrypted secrets):
``host``, ``port``, ``username`` (or ``user``), ``password``, and
``connect_timeout`` (seconds, default 10) and ``statement_timeout`` (seconds a single
query may run, default 3600; 0 for none: PostgreSQL's ``statement_timeout``, MariaDB's
``max_statement_time``, MySQL's ``max_execution_time``; on SQLite a timer cancels the
query with ``sqlite3.Connection.interrupt``; on every engine a query past it fails with
:class:`~assay.sources.base.StatementTimeout` and the same message,
``base.timeout_message``); the database is
the datastore's ``database`` and the schema its ``schema`` (PostgreSQL default ``public``;
for MySQL the schema is the database). For SQLite, ``database`` is the file's absolute path.

**Read-only.** Every session is opened read-only, so no query Assay sends — a computed
table's, a check's — can change the source: PostgreSQL with
``default_transaction_read_only=on``, MySQL/MariaDB with ``SET SESSION TRANSACTION READ
ONLY``, SQLite through a ``mode=ro`` URI. The datastore's credentials remain the final
boundary: give Assay a user that may only read.
"""

from __future__ import annotations

import functools
import logging
import math
import warnings
from pathlib import Path
from typing import Any, cast

import ibis
from ibis.backends.postgres import Backend as _IbisPostgres
from ibis.backends.sqlite import Backend as _IbisSQLite

from .base import (
    COMPUTED_TYPES,
    ContainerInfo,
    MissingSchema,
    ServerTimedQueries,
    Source,
    SourceError,
    StatementTimeout,
    TimedQueries,
    fields_of,
    statement_timeout_of,
)
from .compiled import CompiledSQLCache

DEFAULT_TIMEOUT = 10

log = logging.getLogger(__name__)


class TimedSQLite(CompiledSQLCache, TimedQueries, _IbisSQLite):
    """Ibis' SQLite backend with a statement timeout (``statement_timeout`` seconds)."""


class TimedPostgres(CompiledSQLCache, ServerTimedQueries, _IbisPostgres):
    """Ibis' PostgreSQL backend reporting the server's statement timeout as
    :class:`~assay.sources.base.StatementTimeout`."""

    #: Rows converted to Arrow at a time by :meth:`to_pyarrow` (bounds the Python tuples held).
    FETCH_ROWS = 100_000

    def timed_out(self, e: BaseException) -> bool:
        # SQLSTATE 57014 query_canceled: "canceling statement due to statement timeout"
        # (an abort's cancel is the same state "due to user request")
        return getattr(e, "sqlstate", None) == "57014" and "statement timeout" in str(e)

    def to_pyarrow(self, expr, /, *, params=None, limit=None, **kwargs):
        """The whole result of ``expr`` as Arrow (a table, an array or a scalar, as Ibis'
        ``to_pyarrow``), read through an ordinary (client-side) cursor.

        Ibis reads every result through ``to_pyarrow_batches``, i.e. a server-side cursor
        (``DECLARE … CURSOR``), and PostgreSQL never runs a cursor's query with a parallel
        plan: the fused aggregate of a scan and every example-row read ran on one core
        (twice the time of the same query sent plainly, on two idle cores). A result read
        whole gains nothing from a cursor; reads meant to stream
        (``to_pyarrow_batches``) keep it. Raises what the driver raises
        (:class:`~assay.sources.base.StatementTimeout` for the statement timeout)."""
        import pyarrow as pa

        self._run_pre_execute_hooks(expr)
        table_expr = expr.as_table()
        schema = table_expr.schema()
        arrow_schema = schema.to_pyarrow()
        struct_type = schema.as_struct().to_pyarrow()
        sql = self.compile(table_expr, params=params, limit=limit, **kwargs)
        batches = []
        with self.limited():
            con = self.con
            with con.cursor() as cursor, con.transaction():
                cursor.execute(sql)
                while rows := cursor.fetchmany(self.FETCH_ROWS):
                    batches.append(pa.RecordBatch.from_struct_array(pa.array(rows, type=struct_type)))
        table = pa.Table.from_batches(batches, schema=arrow_schema)
        return expr.__pyarrow_result__(table.rename_columns(list(table_expr.columns)).cast(arrow_schema))


#: MariaDB ER_STATEMENT_TIMEOUT (max_statement_time), MySQL ER_QUERY_TIMEOUT (max_execution_time)
_MYSQL_TIMEOUT_CODES = (1969, 3024)


@functools.cache
def _timed_mysql() -> Any:
    """Ibis' MySQL backend reporting the server's statement timeout as
    :class:`~assay.sources.base.StatementTimeout` (defined on first use: Ibis' MySQL module
    imports ``MySQLdb``, which :func:`_mysql_driver` provides)."""
    _mysql_driver()
    from ibis.backends.mysql import Backend as _IbisMySQL

    class TimedMySQL(CompiledSQLCache, ServerTimedQueries, _IbisMySQL):
        def timed_out(self, e: BaseException) -> bool:
            return bool(e.args) and e.args[0] in _MYSQL_TIMEOUT_CODES

    return TimedMySQL


def _pymysql_connection(**kwargs):
    """A PyMySQL connection with the two MySQLdb (mysqlclient) extras Ibis uses to read a
    query's schema (computed tables): ``Connection.get_character_set_info()`` and
    ``Cursor.description_flags`` (the protocol's column flags)."""
    import pymysql

    class Cursor(pymysql.cursors.Cursor):
        @property
        def description_flags(self) -> tuple[int, ...]:
            result = self._result
            return tuple(f.flags for f in result.fields) if result is not None and result.fields else ()

    class Connection(pymysql.connections.Connection):
        _MBMAXLEN = {"utf8mb4": 4, "utf8mb3": 3, "utf8": 3, "ucs2": 2, "utf16": 4, "utf16le": 4, "utf32": 4}

        def get_character_set_info(self) -> dict:
            return {"name": self.charset, "mbmaxlen": self._MBMAXLEN.get(self.charset, 1)}

    return Connection(cursorclass=Cursor, **kwargs)


def _mysql_driver() -> None:
    """Ibis' MySQL backend imports ``MySQLdb``; PyMySQL (pure Python, no system headers)
    stands in for it."""
    try:
        import MySQLdb  # noqa: F401
    except ImportError:
        import pymysql

        pymysql.install_as_MySQLdb()


def _milliseconds(seconds: float) -> int:
    """A positive statement timeout in whole milliseconds, at least 1: the servers read 0 as
    "no limit", so a tiny positive timeout must not round down to it."""
    return max(1, math.ceil(seconds * 1000))


def _reason(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


class SqlSource(Source):
    """A PostgreSQL, MySQL/MariaDB or SQLite database.

    Raises SourceError with the driver's own reason (unknown host, wrong password,
    missing database, missing file) when it cannot connect.
    """

    def __init__(self, kind: str, connection: dict[str, Any], database: str | None, schema: str | None):
        self.kind = kind
        timeout = int(connection.get("connect_timeout") or DEFAULT_TIMEOUT)
        statement_timeout = statement_timeout_of(connection)
        try:
            if kind == "sqlite":
                if not database or not Path(database).is_file():
                    raise SourceError(f"SQLite database file not found: {database}")
                import sqlite3

                # mode=ro: the file is opened read-only whatever is sent through the connection
                raw = sqlite3.connect(Path(database).as_uri() + "?mode=ro", uri=True)
                self.con = TimedSQLite.from_connection(raw)
                self.con.statement_timeout = statement_timeout
                self.schema = None
            elif kind == "postgresql":
                self.schema = schema or "public"
                options = "-c default_transaction_read_only=on"
                self.con = TimedPostgres().connect(
                    host=connection.get("host") or "127.0.0.1",
                    port=int(connection.get("port") or 5432),
                    user=connection.get("username") or connection.get("user"),
                    password=connection.get("password"),
                    database=database,
                    connect_timeout=timeout,
                    options=options,
                )
                self.con.statement_timeout = statement_timeout
                self._use_pg_schema(database)
                self._pg_without_jit()
                if statement_timeout > 0:  # after the set-up, which a tiny limit would cancel
                    with self.con.con.cursor() as cursor:
                        cursor.execute(
                            "SELECT set_config('statement_timeout', %s, false)",
                            (str(_milliseconds(statement_timeout)),),
                        )
            elif kind == "mysql":
                _mysql_driver()
                import pymysql

                self.schema = schema or database
                raw = _pymysql_connection(
                    host=connection.get("host") or "127.0.0.1",
                    port=int(connection.get("port") or 3306),
                    user=connection.get("username") or connection.get("user"),
                    password=connection.get("password") or "",
                    database=database or self.schema,
                    connect_timeout=timeout,
                    autocommit=True,
                )
                if self.schema is not None and self.schema != database:
                    # the schema is the default database of the session: a computed table's
                    # unqualified names are read there
                    try:
                        raw.select_db(self.schema)
                    except pymysql.err.OperationalError as e:
                        if e.args and e.args[0] == 1049:  # ER_BAD_DB_ERROR
                            raise MissingSchema(self.schema, database) from None
                        raise
                with raw.cursor() as cursor:
                    cursor.execute("SET SESSION TRANSACTION READ ONLY")
                    if statement_timeout > 0:
                        try:  # MariaDB: seconds
                            cursor.execute("SET SESSION max_statement_time = %s", (statement_timeout,))
                        except Exception:  # noqa: BLE001 - MySQL: milliseconds, SELECT only
                            cursor.execute("SET SESSION max_execution_time = %s", (_milliseconds(statement_timeout),))
                with warnings.catch_warnings():
                    warnings.filterwarnings("ignore", "Unable to set session timezone to UTC", UserWarning)
                    self.con = _timed_mysql().from_connection(raw)
                self.con.statement_timeout = statement_timeout
                # Ibis asks for the named zone 'UTC', which a server without time-zone tables
                # (MariaDB's default) refuses with only a warning: TIMESTAMP values would then be
                # read in the server's zone. An offset needs no tables, so the session is set to
                # +00:00 right below and Ibis' warning about the named zone is moot.
                with self.con.con.cursor() as cursor:
                    cursor.execute("SET time_zone = '+00:00'")
            else:
                raise SourceError(f"unsupported database type '{kind}'")
        except SourceError:
            raise
        except Exception as e:  # noqa: BLE001 - the driver's own reason goes to the user
            raise SourceError(f"cannot connect to {kind} database {database or ''}: {_reason(e)}") from e

    def _pg_without_jit(self) -> None:
        """Switch PostgreSQL's JIT compilation off for this session. It compiles every query
        that costs more than ``jit_above_cost``, and a scan sends several (the fused
        aggregate, a ``unique`` check's groups, example rows), each paying 0.1-0.9 s of
        compiling with inlining and optimisation that Assay's queries do not win back
        (TPC-H SF 1: a scan in 12.6 s instead of 13.4 s, three interleaved rounds). Best
        effort: a server without the setting (PostgreSQL 10, a compatible engine) keeps its
        own way."""
        try:
            with self.con.con.cursor() as cursor:
                cursor.execute("SELECT set_config('jit', 'off', false)")
        except Exception as e:  # noqa: BLE001 - unknown setting: the session works without it
            log.info("this PostgreSQL session keeps its JIT setting (%s)", type(e).__name__)
            self.con.con.rollback()

    def _use_pg_schema(self, database: str | None) -> None:
        """Make the datastore's schema the first of the session's ``search_path`` (then
        ``public``, where extensions' functions live), so a computed table's unqualified
        ``select * from t`` reads ``<schema>.t``. Raises MissingSchema when it does not exist."""
        from psycopg import sql

        schema = self.schema or "public"
        path = sql.SQL(", ").join([sql.Identifier(schema), sql.Identifier("public")])
        with self.con.con.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('search_path', %s, false), "
                "EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = %s)",
                (path.as_string(self.con.con), schema),
            )
            row = cursor.fetchone()
        if not (row and row[1]):
            raise MissingSchema(schema, database)

    def _tables(self) -> list[tuple[str, str]]:
        """(name, "table" | "view") of every container in the schema, by name."""
        if self.kind == "sqlite":
            master = self.con.table("sqlite_master")
            rows = (
                master.filter(master.type.isin(["table", "view"]) & ~master.name.startswith("sqlite_"))
                .select("name", "type")
                .order_by("name")
                .to_pyarrow()
                .to_pylist()
            )
            return [(r["name"], r["type"]) for r in rows]
        if self.kind == "mysql":
            tables = self.con.table("TABLES", database="information_schema")
            rows = (
                tables.filter(self.schema == tables.TABLE_SCHEMA)
                .select(name="TABLE_NAME", kind="TABLE_TYPE")
                .order_by("name")
                .to_pyarrow()
                .to_pylist()
            )
        else:
            tables = self.con.table("tables", database="information_schema")
            rows = (
                tables.filter(tables.table_schema == self.schema)
                .select(name="table_name", kind="table_type")
                .order_by("name")
                .to_pyarrow()
                .to_pylist()
            )
        return [(r["name"], "view" if "VIEW" in r["kind"].upper() else "table") for r in rows]

    def list_containers(self, include=("table", "view")):
        try:
            found = self._tables()
        except Exception as e:  # noqa: BLE001
            raise SourceError(f"cannot list the tables of schema {self.schema}: {_reason(e)}") from e
        out = []
        for name, table_type in found:
            if table_type not in include:
                continue
            try:
                schema = self._table(name).schema()
            except Exception as e:  # noqa: BLE001 — a broken or too slow view is reported on itself
                out.append(ContainerInfo(name, "table", table_type, error=_reason(e)))
                continue
            out.append(ContainerInfo(name, "table", table_type, fields=fields_of(schema)))
        return out

    def _table(self, name: str):
        if self.kind == "sqlite":
            return self.con.table(name)
        return self.con.table(name, database=self.schema)

    def table(self, container, partition_column=None):
        try:
            if container.container_type in COMPUTED_TYPES:
                schema = self._pg_query_schema(container.query) if self.kind == "postgresql" else None
                return self.con.sql(container.query, schema=schema, dialect=self.dialect)
            return self._table(container.name)
        except StatementTimeout:
            raise  # the one timeout message of every engine, as it is
        except Exception as e:  # noqa: BLE001
            raise SourceError(f"cannot read {container.container_type} {container.name}: {_reason(e)}") from e

    def _pg_query_schema(self, query: str):
        """The Ibis schema of a PostgreSQL query, from the result description of the query
        with ``LIMIT 0``. (Ibis would create a temporary view, which a read-only session
        may not.)"""
        import sqlglot as sg
        import sqlglot.expressions as sge

        parsed = cast(sge.Query, sg.parse_one(query, read="postgres"))  # a computed table's SELECT
        probe = sg.select("*").from_(parsed.subquery("_assay_probe")).limit(0)
        with self.con.con.cursor() as cursor:
            cursor.execute(probe.sql("postgres"))
            columns = [(c.name, c.type_code, getattr(c, "_fmod", -1)) for c in cursor.description or []]
            cursor.execute(
                "SELECT CASE WHEN t.typtype = 'e' THEN 'enum' ELSE pg_catalog.format_type(u.o, u.m) END "
                "FROM unnest(%(oids)s::oid[], %(mods)s::int[]) WITH ORDINALITY AS u(o, m, i) "
                "JOIN pg_catalog.pg_type t ON t.oid = u.o ORDER BY u.i",
                {"oids": [c[1] for c in columns], "mods": [c[2] for c in columns]},
            )
            types = [row[0] for row in cursor.fetchall()]
        mapper = self.con.compiler.type_mapper
        return ibis.schema({name: mapper.from_string(t) for (name, _, _), t in zip(columns, types, strict=True)})

    @property
    def dialect(self) -> str:
        return {"postgresql": "postgres", "mysql": "mysql", "sqlite": "sqlite"}[self.kind]

    def close(self):
        try:
            self.con.disconnect()
        except Exception:  # noqa: BLE001
            pass
