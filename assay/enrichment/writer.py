"""Write scan results to the user's enrichment datastore.

Tables (``<prefix>`` is the source datastore's enrichment prefix, e.g. ``_nyc_flights``):

* ``<prefix>_scan_operations``: one row per container partition scanned;
* ``<prefix>_failed_checks``: one row per (anomaly, failed check);
* ``<prefix>_source_records``: the stored source rows of each anomaly, as JSON;
* ``<prefix>_check_metrics``: one row per check assertion (passed / failed / unasserted,
  with the asserted and anomalous record counts);
* ``<prefix>_remediation_<container_id>`` (remediation ``append`` or ``overwrite``): the
  anomalous source rows with every source column plus ``_QUALYTICS_SOURCE_PARTITION`` and
  ``ANOMALY_UUID``; append keeps every scan's rows, overwrite only the latest scan's.

Columns are those of the Qualytics enrichment schema (docs/semantics.md "Enrichment"). Tables are
created on first write; a table missing a column gets it added. Everything one
container scan writes goes in one transaction, so a failure leaves nothing half-written.
A batch with a key (its operation and container, its anomalies' UUIDs) is **idempotent**:
the same transaction first deletes what an earlier attempt of that container scan wrote
(rows of that operation and container; rows of those anomalies), so a retry — by this
process or any other, after a timeout that hid a commit — never leaves two copies.
The enrichment datastore is a DuckDB file (written through DuckDB's own connection) or a PostgreSQL,
MySQL/MariaDB or SQLite database (written through SQLAlchemy Core, whose transactions
make each batch all or nothing; missing columns are added with Alembic's ``add_column``).
"""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass, field
from typing import Any

import ibis
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

SCAN_OPERATIONS = ibis.schema(
    {
        "OPERATION_ID": "int64",
        "DATASTORE_ID": "int64",
        "CONTAINER_ID": "int64",
        "PARTITION_NAME": "string",
        "INCREMENTAL": "boolean",
        "RECORDS_PROCESSED": "int64",
        "ENRICHMENT_SOURCE_RECORD_LIMIT": "int64",
        "MAX_RECORDS_ANALYZED": "int64",
        "ANOMALY_COUNT": "int64",
        "START_TIME": "timestamp('UTC')",
        "END_TIME": "timestamp('UTC')",
        "RESULT": "string",
        "MESSAGE": "string",
    }
)
FAILED_CHECKS = ibis.schema(
    {
        "QUALITY_CHECK_ID": "int64",
        "ANOMALY_UUID": "string",
        "QUALITY_CHECK_MESSAGE": "string",
        "SUGGESTED_REMEDIATION_FIELD": "string",
        "SUGGESTED_REMEDIATION_VALUE": "string",
        "SUGGESTED_REMEDIATION_SCORE": "float64",
        "QUALITY_CHECK_RULE_TYPE": "string",
        "QUALITY_CHECK_TAGS": "string",
        "QUALITY_CHECK_PARAMETERS": "string",
        "QUALITY_CHECK_DESCRIPTION": "string",
        "QUALITY_CHECK_FIELDS": "string",
        "QUALITY_CHECK_METADATA": "string",
        "ANOMALOUS_RECORDS_COUNT": "int64",
        "OPERATION_ID": "int64",
        "DETECTED_TIME": "timestamp('UTC')",
        "SOURCE_DATASTORE": "string",
        "SOURCE_CONTAINER": "string",
        "SOURCE_PARTITION": "string",
        "FINGERPRINT": "int64",
    }
)
SOURCE_RECORDS = ibis.schema(
    {
        "SOURCE_CONTAINER": "string",
        "SOURCE_PARTITION": "string",
        "ANOMALY_UUID": "string",
        "CONTEXT": "string",
        "RECORD": "string",
    }
)

CHECK_METRICS = ibis.schema(
    {
        "OPERATION_ID": "int64",
        "CONTAINER_ID": "int64",
        "SOURCE_DATASTORE": "string",
        "SOURCE_CONTAINER": "string",
        "SOURCE_PARTITION": "string",
        "QUALITY_CHECK_ID": "int64",
        "ASSERTION_RESULT": "string",
        "ASSERTION_DETAILS": "string",
        "ASSERTED_RECORDS_COUNT": "int64",
        "ANOMALOUS_RECORDS_COUNT": "int64",
        "_QUALYTICS_SOURCE_PARTITION": "string",
    }
)

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def default_prefix(datastore_name: str) -> str:
    """The default enrichment prefix of a source datastore: its name in snake_case with a
    leading underscore ("Analytics Bronze" → ``_analytics_bronze``), at most 60 characters."""
    snake = re.sub(r"[^0-9a-zA-Z]+", "_", datastore_name).strip("_").lower()
    return ("_" + snake)[:60]


@dataclass
class EnrichmentBatch:
    """Everything one container scan writes, keyed by table suffix."""

    scan_operations: list[dict[str, Any]] = field(default_factory=list)
    failed_checks: list[dict[str, Any]] = field(default_factory=list)
    source_records: list[dict[str, Any]] = field(default_factory=list)
    check_metrics: list[dict[str, Any]] = field(default_factory=list)
    #: ``(table name, Ibis schema, rows, "append" | "overwrite")`` or None
    remediation: tuple[str, Any, list[dict[str, Any]], str] | None = None
    #: ``(operation id, container id)``: the container scan whose rows these are, so that a
    #: repeated write replaces them (None: plain append)
    key: tuple[int, int] | None = None
    #: the UUIDs of the anomalies whose rows these are (with ``key``)
    anomaly_uuids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class EnrichmentTarget:
    """Where enrichment goes: ``type`` duckdb | postgresql | mysql | sqlite, the database
    (a file path for duckdb/sqlite), the schema (PostgreSQL) and the connection settings
    including secrets."""

    type: str
    database: str | None
    schema: str | None = None
    connection: tuple = ()

    @property
    def key(self) -> str:
        """The same for every spelling of one database (a file's real path), so one lock
        covers the writes and reads of one file however its datastores name it."""
        database = self.database
        if self.type in ("duckdb", "sqlite") and database and database != ":memory:":
            database = os.path.realpath(database)
        return f"{self.type}:{dict(self.connection).get('host', '')}:{database}:{self.schema}"

    def url(self) -> sa.URL:
        c = dict(self.connection)
        if self.type == "sqlite":
            return sa.URL.create("sqlite", database=self.database)
        driver = {"postgresql": "postgresql+psycopg2", "mysql": "mysql+pymysql"}[self.type]
        return sa.URL.create(
            driver,
            username=c.get("username") or c.get("user"),
            password=c.get("password"),
            host=c.get("host"),
            port=int(c["port"]) if c.get("port") else None,
            database=self.database,
        )


ENRICHMENT_TYPES = ("duckdb", "postgresql", "mysql", "sqlite")


def target_of(datastore, secrets: dict | None = None) -> EnrichmentTarget:
    """The target of an enrichment datastore row.

    Raises: ValueError for an unsupported type, or a DuckDB / SQLite file outside the
    server's data roots (:mod:`assay.confinement`, a ``PathNotAllowed``).
    """
    if datastore.type not in ENRICHMENT_TYPES:
        raise ValueError(
            f"enrichment datastores of type '{datastore.type}' are not supported; "
            f"use one of: {', '.join(ENRICHMENT_TYPES)}"
        )
    if datastore.type in ("duckdb", "sqlite"):
        from ..confinement import confine

        confine(datastore.database or "", ("database",))
    else:
        from ..confinement import refuse_metadata_database

        refuse_metadata_database(datastore.type, datastore.connection or {}, datastore.database)
    connection = {**(datastore.connection or {}), **(secrets or {})}
    schema = datastore.schema if datastore.type == "postgresql" else None
    return EnrichmentTarget(datastore.type, datastore.database, schema, tuple(sorted(connection.items())))


class EnrichmentWriter:
    """Writes :class:`EnrichmentBatch` es to an enrichment datastore.

    Raises whatever the engine raises (file locked, server down, disk full); the batch is
    then rolled back and nothing of it remains.
    """

    def __init__(self, target: EnrichmentTarget, prefix: str):
        if not target.database:
            raise ValueError("the enrichment datastore has no 'database'")
        self.target, self.prefix = target, prefix

    def table_name(self, suffix: str) -> str:
        return f"{self.prefix}_{suffix}"

    def _plan(self, batch: EnrichmentBatch) -> list[tuple[str, Any, list[dict[str, Any]], str, list]]:
        """``(table, schema, rows, mode, replaced)``; ``replaced`` lists ``(column, values)``
        pairs (ANDed) selecting the rows an earlier attempt of the same batch wrote."""
        by_scan: list[tuple[str, list[Any]]] = []
        by_anomaly: list[tuple[str, list[Any]]] = []
        if batch.key is not None:
            by_scan = [("OPERATION_ID", [batch.key[0]]), ("CONTAINER_ID", [batch.key[1]])]
            by_anomaly = [("ANOMALY_UUID", list(batch.anomaly_uuids))] if batch.anomaly_uuids else []
        plan: list[tuple[str, Any, list[dict[str, Any]], str, list]] = [
            (self.table_name("scan_operations"), SCAN_OPERATIONS, batch.scan_operations, "append", by_scan),
            (self.table_name("failed_checks"), FAILED_CHECKS, batch.failed_checks, "append", by_anomaly),
            (self.table_name("source_records"), SOURCE_RECORDS, batch.source_records, "append", by_anomaly),
            (self.table_name("check_metrics"), CHECK_METRICS, batch.check_metrics, "append", by_scan),
        ]
        if batch.remediation:
            name, schema, rows, mode = batch.remediation
            plan.append((name, schema, rows, mode, by_anomaly))
        return plan

    def write(self, batch: EnrichmentBatch) -> None:
        """Append the batch's rows to its tables (and the remediation copy), all or nothing."""
        plan = self._plan(batch)
        with _lock_for(self.target.key):
            if self.target.type == "duckdb":
                _write_duckdb(self.target.database or "", plan)
            else:
                _write_sql(self.target, plan)


#: The name under which a batch's Arrow rows are visible to the INSERT that copies them.
_ROWS_VIEW = "__assay_enrichment_rows"


def _write_duckdb(path: str, plan) -> None:
    """Write ``plan`` (:meth:`EnrichmentWriter._plan`) into the DuckDB file ``path`` in one
    transaction, through DuckDB's own connection: the tables' columns are read in one
    query, and each table's rows are copied from Arrow by one ``INSERT`` naming its columns
    (a column the table has and the batch lacks stays NULL). Ibis is used only to create a
    missing table or add missing columns, as its type mapping names the DuckDB types. Ibis'
    own ``list_tables``/``table``/``insert`` per table cost ~0.15 s of Python per scan.

    Raises whatever DuckDB raises (file locked, disk full); nothing of the batch is then left.
    """
    import duckdb
    import sqlglot.expressions as sge

    raw = duckdb.connect(path)
    try:
        raw.execute("SET TimeZone = 'UTC'")  # as an Ibis connection has it
        have = _duckdb_columns(raw)
        backend = None
        for name, schema, *_ in plan:
            if name not in have or any(col not in have[name] for col in schema.names):
                backend = backend or ibis.duckdb.from_connection(raw)
                _ensure_duckdb(backend, name, schema, have.get(name))
        raw.begin()
        try:
            for name, schema, rows, mode, replaced in plan:
                table = _quoted_table(name)
                if mode == "overwrite":
                    raw.execute(sge.delete(table).sql("duckdb"))
                elif replaced:
                    where = sge.and_(
                        *[
                            sge.column(col, quoted=True).isin(*[sge.convert(v) for v in values])
                            for col, values in replaced
                        ]
                    )
                    raw.execute(sge.delete(table, where=where).sql("duckdb"))
                if rows:
                    columns = [sge.to_identifier(col, quoted=True) for col in schema.names]
                    raw.register(_ROWS_VIEW, _arrow(schema, rows))
                    insert = sge.insert(
                        sge.select(*columns).from_(_quoted_table(_ROWS_VIEW)),
                        table,
                        columns=columns,
                    )
                    raw.execute(insert.sql("duckdb"))
                    # after a failed insert the view goes with the connection: DuckDB 2
                    # refuses even an unregister in an aborted transaction
                    raw.unregister(_ROWS_VIEW)
            raw.commit()
        except BaseException:
            raw.rollback()
            raise
    finally:
        raw.close()


def _quoted_table(name: str):
    """Table ``name`` as one quoted identifier, whatever characters the enrichment prefix
    holds (``sqlglot.to_table`` would parse it: ``_a.b`` as a schema and a table, ``_a"b``
    as an error)."""
    import sqlglot.expressions as sge

    return sge.Table(this=sge.to_identifier(name, quoted=True))


def _duckdb_columns(raw) -> dict[str, set[str]]:
    """``{table: its column names}`` of the DuckDB connection's current schema (from
    ``duckdb_columns()``: the first ``information_schema`` query of a connection takes
    ~20 ms, this ~1.5 ms)."""
    rows = raw.execute(
        "SELECT table_name, column_name FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = current_schema()"
    ).fetchall()
    out: dict[str, set[str]] = {}
    for table, column in rows:
        out.setdefault(table, set()).add(column)
    return out


def _ensure_duckdb(con, name: str, schema, have: set[str] | None) -> None:
    """Create table ``name`` with ``schema`` (``have`` is None), or add the columns of
    ``schema`` it lacks (written by an older Assay); ``con`` is an Ibis DuckDB backend."""
    if have is None:
        con.create_table(name, schema=schema)
        return
    missing = [(col, dtype) for col, dtype in schema.items() if col not in have]
    import sqlglot.expressions as sge

    for col, dtype in missing:
        stmt = sge.Alter(
            this=_quoted_table(name),
            kind="TABLE",
            actions=[
                sge.ColumnDef(this=sge.to_identifier(col, quoted=True), kind=con.compiler.type_mapper.from_ibis(dtype))
            ],
        )
        con.raw_sql(stmt.sql(dialect="duckdb"))


_engines: dict[str, sa.Engine] = {}


def _engine(target: EnrichmentTarget) -> sa.Engine:
    url = target.url()
    key = url.render_as_string(hide_password=False)
    if key not in _engines:
        args = {"connect_timeout": 10} if target.type in ("postgresql", "mysql") else {}
        _engines[key] = sa.create_engine(url, pool_pre_ping=True, connect_args=args)
    return _engines[key]


def _sa_type(dtype):
    if dtype.is_boolean():
        return sa.Boolean()
    if dtype.is_integer():
        return sa.BigInteger()
    if dtype.is_decimal():
        # a scale of 0 is a scale (DECIMAL(12,0) as NUMERIC(12,10) overflowed)
        return sa.Numeric(dtype.precision or 38, 10 if dtype.scale is None else dtype.scale)
    if dtype.is_floating():
        return sa.Float(53)
    if dtype.is_timestamp():
        return sa.DateTime(timezone=dtype.timezone is not None)
    if dtype.is_date():
        return sa.Date()
    if dtype.is_time():
        return sa.Time()
    # MySQL/MariaDB's TEXT and BLOB hold 64 KB: a source record (JSON) or a value can be longer
    if dtype.is_binary():
        return sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")
    return sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")


def _sa_table(name: str, schema, db_schema: str | None) -> sa.Table:
    columns = [sa.Column(col, _sa_type(dtype)) for col, dtype in schema.items()]
    return sa.Table(name, sa.MetaData(schema=db_schema), *columns)


def _write_sql(target: EnrichmentTarget, plan) -> None:
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    engine = _engine(target)
    tables = []
    # DDL first, in its own transaction (MySQL commits implicitly on DDL).
    with engine.begin() as conn:
        inspector = sa.inspect(conn)
        for name, schema, rows, mode, replaced in plan:
            table = _sa_table(name, schema, target.schema)
            if not inspector.has_table(name, schema=target.schema):
                table.create(conn)
            else:
                have = {c["name"] for c in inspector.get_columns(name, schema=target.schema)}
                ops = Operations(MigrationContext.configure(conn))
                for column in table.columns:
                    if column.name not in have:
                        ops.add_column(name, sa.Column(column.name, column.type), schema=target.schema)
            tables.append((table, schema, rows, mode, replaced))
    with engine.begin() as conn:
        for table, schema, rows, mode, replaced in tables:
            if mode == "overwrite":
                conn.execute(table.delete())
            elif replaced:
                conn.execute(table.delete().where(*[table.c[col].in_(values) for col, values in replaced]))
            if rows:
                conn.execute(table.insert(), [_sql_row(schema, row) for row in rows])


def _sql_row(schema, row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for col, dtype in schema.items():
        value = row.get(col)
        if value is not None and _sa_type(dtype).__class__ is sa.Text and not isinstance(value, str):
            value = to_json(value)
        out[col] = value
    return out


def _arrow(schema, rows: list[dict[str, Any]]) -> pa.Table:
    arrow_schema = schema.to_pyarrow()
    columns = {name: [row.get(name) for row in rows] for name in schema.names}
    return pa.table(columns, schema=arrow_schema)


def _lock_for(key: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def write_lock(target: EnrichmentTarget) -> threading.Lock:
    """The lock this process holds while it writes to ``target``. A reader of a DuckDB
    enrichment file holds it too: DuckDB refuses a read-only connection to a file the same
    process has open for writing ("Can't open a connection to same database file with a
    different configuration"), so the reader waits for the write (~0.15 s) instead."""
    return _lock_for(target.key)


def to_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def replace_table(target: EnrichmentTarget, name: str, schema, rows: list[dict[str, Any]]) -> None:
    """Replace the contents of table ``name`` in the enrichment datastore with ``rows``
    (export tables are replaced on every export), all or nothing."""
    with _lock_for(target.key):
        if target.type == "duckdb":
            con = ibis.duckdb.connect(target.database)
            try:
                con.create_table(name, _arrow(schema, rows), overwrite=True)
            finally:
                con.disconnect()
        else:
            _write_sql(target, [(name, schema, rows, "overwrite", [])])
