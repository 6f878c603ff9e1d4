"""Apache Spark datastores: tables of a Spark catalog and folders of files, read and
checked by Spark itself.

Every query is an Ibis expression compiled by Ibis' PySpark backend to Spark SQL and
run by Spark: the scan's fused aggregate of all checks of a container is one Spark job
(a few stages), example rows are bounded queries, and nothing but the results comes back
to Python (as Arrow).

Connection settings (the datastore's ``connection``):

* ``master``: where Spark runs. ``local[N]`` (this process starts Spark on N cores),
  ``spark://host:7077``, ``yarn``, ``k8s://…`` (a classic session: this process is the
  Spark driver), or ``sc://host:15002`` (Spark Connect: the driver runs on the server;
  the secret ``token`` is sent as the Connect bearer token). Default ``local[*]``.
* ``uri``: optional, a folder of CSV / TSV / Parquet / JSON-lines files
  (``file:///abs/folder``, or for a cluster any URI Spark reads, e.g. ``hdfs://…``,
  ``s3a://…``, when the same folder is mounted where Assay runs). Files are grouped into
  containers by the same file-pattern rules as a ``local`` datastore
  (``sources.files.group_paths``); each file is a partition. A Delta table folder is one
  container read at its current version: by ``format("delta")`` when the session has the
  Delta Lake jars, else by the Parquet reader over the live files delta-rs names
  (``sources.delta``). CSV options ``delimiter``,
  ``header``, ``quote``, ``escape`` as for ``local``.
* the datastore's ``schema``: the Spark database (namespace) whose tables and views are
  containers (default ``default``); its ``database``: the catalog (optional, e.g.
  ``spark_catalog``). Set ``tables: false`` to list only the files of ``uri``.
* ``warehouse``: optional, the warehouse folder (``spark.sql.warehouse.dir``) of a
  classic session; with ``metastore: "hive"`` the catalog is a Hive metastore (the
  embedded one is kept in ``<warehouse>/metastore_db`` unless
  ``spark.hadoop.javax.jdo.option.ConnectionURL`` says otherwise; a remote one with
  ``spark.hadoop.hive.metastore.uris``).
* a ``spark.*`` key: a Spark property, e.g. ``"spark.executor.memory": "8g"`` — sizing and
  SQL tuning only (:data:`ALLOWED_PROPERTIES`); others only where the server's operator
  allows them (``ASSAY_SPARK_PROPERTIES``).

Sessions: Spark allows one classic session per process (one JVM, one master). Assay
starts it on first use with the first datastore's master, warehouse and properties, and
gives each opened datastore its own ``newSession()`` of it (own temporary views and SQL
settings, shared executors). A datastore asking for another master, warehouse or
metastore than the running session's is refused with a clear error: use Spark Connect
for several clusters. A Spark Connect datastore gets a session of its own.

Every session runs with ``spark.sql.session.timeZone=UTC`` (timestamps are UTC
instants, as on every engine); the Spark UI shows each job under a job group / tag
naming the Assay operation, and an abort cancels that tag's jobs.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import uuid
from pathlib import Path, PurePosixPath
from typing import Any

import ibis
import ibis.expr.types as ir
import sqlglot.expressions as sge
from ibis.backends.pyspark import Backend as _IbisSpark

from . import delta
from .base import COMPUTED_TYPES, ContainerInfo, Source, SourceError, fields_of
from .files import folder_of, group_files

#: Settings every Assay Spark session runs with (a datastore cannot change them).
FIXED_PROPERTIES = {
    "spark.sql.session.timeZone": "UTC",
}
#: Settings a classic session is started with unless the datastore says otherwise.
DEFAULT_PROPERTIES = {
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}
#: Properties fixed when the JVM starts: a running session with other values cannot serve
#: the datastore.
STATIC_PROPERTIES = ("spark.sql.warehouse.dir", "spark.sql.catalogImplementation")
#: Spark properties a datastore may set (exact keys, or prefixes ending in "."): sizing,
#: parallelism and the SQL engine's own tuning. Everything else (JVM options, class paths,
#: jars and packages, event logs, Hadoop and catalog settings, listeners, local folders…)
#: could run code or write files on the server: an operator allows such keys server-wide
#: with ``ASSAY_SPARK_PROPERTIES`` (see :func:`allowed_property`).
ALLOWED_PROPERTIES = (
    "spark.app.name",
    "spark.cores.max",
    "spark.default.parallelism",
    "spark.driver.cores",
    "spark.driver.maxResultSize",
    "spark.driver.memory",
    "spark.dynamicAllocation.",
    "spark.executor.cores",
    "spark.executor.instances",
    "spark.executor.memory",
    "spark.executor.memoryOverhead",
    "spark.memory.fraction",
    "spark.memory.storageFraction",
    "spark.network.timeout",
    "spark.scheduler.mode",
    "spark.task.cpus",
    "spark.ui.enabled",
    "spark.ui.showConsoleProgress",
    "spark.sql.adaptive.",
    "spark.sql.ansi.enabled",
    "spark.sql.autoBroadcastJoinThreshold",
    "spark.sql.broadcastTimeout",
    "spark.sql.caseSensitive",
    "spark.sql.execution.arrow.pyspark.enabled",
    "spark.sql.files.maxPartitionBytes",
    "spark.sql.files.ignoreCorruptFiles",
    "spark.sql.files.ignoreMissingFiles",
    "spark.sql.parquet.",
    "spark.sql.shuffle.partitions",
)
#: The server's environment variable naming further Spark properties datastores may set
#: (comma-separated keys or prefixes ending in "."), e.g. ``spark.jars.packages,spark.sql.catalog.``.
PROPERTIES_ENV = "ASSAY_SPARK_PROPERTIES"
#: Connection keys that are Assay's own, not Spark properties.
SETTINGS = ("type", "master", "uri", "warehouse", "metastore", "tables", "delimiter", "header", "quote", "escape")

_lock = threading.Lock()
_classic: Any = None  # the process' classic SparkSession, started on first use


def _reason(e: BaseException) -> str:
    text = str(e).strip()
    if not text:
        return type(e).__name__
    first = text.splitlines()[0]
    # Spark's analysis errors: "[TABLE_OR_VIEW_NOT_FOUND] The table or view `x` cannot be found. …"
    return first[:500]


def properties_of(connection: dict) -> dict[str, str]:
    """The Spark properties of a connection: every ``spark.*`` key (values as text),
    plus ``warehouse`` and ``metastore`` translated to their properties."""
    props = {str(k): _text(v) for k, v in connection.items() if str(k).startswith("spark.")}
    if connection.get("warehouse"):
        warehouse = str(folder_of(str(connection["warehouse"])))
        props.setdefault("spark.sql.warehouse.dir", warehouse)
    if connection.get("metastore"):
        props.setdefault("spark.sql.catalogImplementation", str(connection["metastore"]).lower())
        if props["spark.sql.catalogImplementation"] == "hive" and connection.get("warehouse"):
            metastore = Path(props["spark.sql.warehouse.dir"]) / "metastore_db"
            props.setdefault(
                "spark.hadoop.javax.jdo.option.ConnectionURL", f"jdbc:derby:;databaseName={metastore};create=true"
            )
            # the embedded metastore's derby.log goes to the warehouse, not the server's cwd
            props.setdefault("spark.driver.extraJavaOptions", f"-Dderby.system.home={metastore.parent}")
    return props


def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def allowed_property(key: str) -> bool:
    """Whether a datastore may set the Spark property ``key``: one of
    :data:`ALLOWED_PROPERTIES` or of the operator's ``ASSAY_SPARK_PROPERTIES`` (exact keys,
    or prefixes ending in ".")."""
    extra = [k.strip() for k in os.environ.get(PROPERTIES_ENV, "").split(",") if k.strip()]
    for allowed in (*ALLOWED_PROPERTIES, *extra):
        if key == allowed or (allowed.endswith(".") and key.startswith(allowed)):
            return True
    return False


def validate_connection(connection: dict) -> list[tuple[tuple[str, ...], str]]:
    """Problems of a ``spark`` connection body as ``(location, message)`` pairs (empty when
    it is fine): the master URL's form, ``uri`` an absolute ``file://`` folder (or another
    URI scheme Spark reads), ``metastore`` ``hive`` or ``in-memory``, ``spark.*`` values
    scalars."""
    problems: list[tuple[tuple[str, ...], str]] = []
    master = connection.get("master", "local[*]")
    if not isinstance(master, str) or not master.strip():
        problems.append((("connection", "master"), "'master' must be a Spark master URL such as local[2]"))
    elif not (
        master.startswith(("local", "spark://", "sc://", "k8s://", "mesos://")) or master in ("yarn", "yarn-client")
    ):
        problems.append(
            (
                ("connection", "master"),
                f"'{master}' is not a Spark master URL: use local[N], spark://host:7077, yarn, k8s://… "
                "or sc://host:15002 (Spark Connect)",
            )
        )
    uri = connection.get("uri")
    if uri is not None:
        if not isinstance(uri, str) or not uri:
            problems.append((("connection", "uri"), "'uri' must be a folder URI such as file:///abs/folder"))
        elif (uri.startswith("file://") or "://" not in uri) and not Path(uri.removeprefix("file://")).is_absolute():
            problems.append((("connection", "uri"), f"'{uri}' is not an absolute folder (file:///abs/folder)"))
    if connection.get("metastore") is not None and str(connection["metastore"]).lower() not in ("hive", "in-memory"):
        problems.append((("connection", "metastore"), "'metastore' must be 'hive' or 'in-memory'"))
    warehouse = connection.get("warehouse")
    if warehouse is not None and (not isinstance(warehouse, str) or not folder_of(warehouse).is_absolute()):
        problems.append((("connection", "warehouse"), "'warehouse' must be an absolute folder"))
    for key, value in connection.items():
        if not str(key).startswith("spark."):
            continue
        if not allowed_property(str(key)):
            problems.append(
                (
                    ("connection", str(key)),
                    f"the Spark property '{key}' is not one a datastore may set (it could run code or write "
                    f"files on the server); a server operator can allow it with {PROPERTIES_ENV}",
                )
            )
        elif not isinstance(value, (str, int, float, bool)):
            problems.append((("connection", str(key)), "a Spark property's value must be a string, number or boolean"))
    return problems


def _remote_session(url: str):
    """A new Spark Connect session on ``url``.

    PySpark marks the whole process as "Spark Connect" when it creates one (the environment
    variable ``SPARK_CONNECT_MODE_ENABLED``), after which a classic session can no longer
    start or be used (``CONNECT_URL_NOT_SET`` / ``SESSION_ALREADY_EXIST``). One Assay server
    may hold both kinds of Spark datastore, so the mark is taken back; Assay's own column
    expressions pick their module by session kind instead (``_functions``)."""
    from pyspark.sql import SparkSession

    with _lock:
        marked = "SPARK_CONNECT_MODE_ENABLED" in os.environ
        try:
            return SparkSession.builder.remote(url).create()
        finally:
            if not marked:
                os.environ.pop("SPARK_CONNECT_MODE_ENABLED", None)


def _functions(remote: bool):
    """PySpark's column functions for a Spark Connect session (``remote``) or a classic one."""
    if remote:
        from pyspark.sql.connect import functions as F
    else:
        from pyspark.sql import functions as F  # type: ignore[no-redef]
    return F


def classic_session(master: str = "local[*]", properties: dict[str, str] | None = None):
    """The process' classic SparkSession, started on first call with ``master`` and
    ``properties`` (plus :data:`DEFAULT_PROPERTIES` and :data:`FIXED_PROPERTIES`).

    Raises: SourceError when Spark cannot start (no ``java``, a bad property), or when the
        running session's master or static properties (warehouse, catalog) differ from
        the ones asked for.
    """
    global _classic
    properties = dict(properties or {})
    with _lock:
        if _classic is not None and _classic.sparkContext._jsc is None:
            _classic = None  # stopped by someone else
        if _classic is None:
            from pyspark.sql import SparkSession

            builder = SparkSession.builder.master(master).appName("assay")
            for key, value in {**DEFAULT_PROPERTIES, **properties, **FIXED_PROPERTIES}.items():
                builder = builder.config(key, value)
            if properties.get("spark.sql.catalogImplementation") == "hive":
                builder = builder.enableHiveSupport()
            try:
                _classic = builder.getOrCreate()
                # Spark's WARN lines (a stack trace per probed path) would drown Assay's log
                _classic.sparkContext.setLogLevel("ERROR")
            except Exception as e:  # noqa: BLE001 - no java, bad property, …
                raise SourceError(f"cannot start Spark (master {master}): {_reason(e)}") from e
            return _classic
        running = _classic.sparkContext.master
        if master != running:
            raise SourceError(
                f"this Assay process already runs a Spark session on master {running}; one classic "
                f"Spark session per process, so master {master} cannot be used here "
                "(use Spark Connect, sc://host:port, to reach several clusters)"
            )
        conf = _classic.sparkContext.getConf()
        for key in STATIC_PROPERTIES:
            if key in properties and conf.get(key) is not None and _same(key, conf.get(key), properties[key]) is False:
                raise SourceError(
                    f"this Assay process' Spark session runs with {key}={conf.get(key)}, fixed when Spark "
                    f"starts; the datastore asks for {properties[key]}"
                )
        return _classic


def _same(key: str, running: str, wanted: str) -> bool:
    if key == "spark.sql.warehouse.dir":
        return folder_of(running.removeprefix("file:")) == folder_of(wanted.removeprefix("file:"))
    return running == wanted


def stop_classic_session() -> None:
    """Stop the process' classic session (tests, shutdown); the next use starts a new one."""
    global _classic
    with _lock:
        if _classic is not None:
            _classic.stop()
            _classic = None


class SparkCompiler(type(_IbisSpark.compiler)):  # type: ignore[misc]  # Ibis' compiler class, found from its instance
    """Ibis' PySpark compiler, with NULL tests that mean NULL: Ibis' own makes a NaN double
    NULL (``isnull(x) OR isnan(x)``), which no other engine does."""

    def visit_IsNull(self, op, *, arg):
        return arg.is_(sge.Null())

    def visit_NotNull(self, op, *, arg):
        return sge.Not(this=arg.is_(sge.Null()))


class SparkBackend(_IbisSpark):
    """Ibis' PySpark backend, reading results as Arrow (``DataFrame.toArrow``) instead of
    through pandas, so NaN stays NaN (pandas would make it NULL), decimals keep every
    digit and timestamps their type; in-memory tables go to Spark as Arrow too."""

    compiler = SparkCompiler()

    def to_pyarrow(self, expr, /, *, params=None, limit=None, **kwargs):
        from ibis.formats.pyarrow import PyArrowData

        self._run_pre_execute_hooks(expr)
        table_expr = expr.as_table()
        df = self._session.sql(self.compile(table_expr, params=params, limit=limit, **kwargs))
        table = PyArrowData.convert_table(df.toArrow(), table_expr.schema())
        return expr.__pyarrow_result__(table)

    def to_pyarrow_batches(self, expr, /, *, params=None, limit=None, chunk_size: int = 1_000_000, **kwargs):
        import pyarrow as pa

        table = self.to_pyarrow(expr.as_table(), params=params, limit=limit, **kwargs)
        return pa.ipc.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=chunk_size))

    def _register_in_memory_table(self, op) -> None:
        from ibis.backends.pyspark.datatypes import PySparkSchema

        data = op.data.to_pyarrow(op.schema)
        df = self._session.createDataFrame(data, schema=PySparkSchema.from_ibis(op.schema))
        df.createOrReplaceTempView(op.name)


def connect_ibis(session) -> SparkBackend:
    """An Ibis backend (:class:`SparkBackend`) on a SparkSession (classic or Connect)."""
    _ = ibis.pyspark  # loading the entry point registers ibis.options.pyspark, which the compiler reads
    backend = SparkBackend()
    backend.do_connect(session)
    return backend


class SparkSource(Source):
    """A Spark datastore: the tables and views of a catalog database, and the file
    patterns of a folder (see the module docstring for the settings).

    Raises SourceError when Spark cannot be reached or started (the reason is Spark's
    own), when the folder does not exist, or when the session cannot serve the
    datastore's master / static properties.
    """

    def __init__(self, connection: dict, catalog: str | None = None, database: str | None = None, secrets=None):
        self.connection = dict(connection or {})
        self.catalog = catalog or None
        self.database = database or "default"
        self.master = str(self.connection.get("master") or "local[*]")
        self.list_tables = bool(self.connection.get("tables", True))
        self.tag = f"assay-{uuid.uuid4().hex[:12]}"
        self._views: dict[tuple, str] = {}
        self._groups: dict[str, tuple[str, str, list[str]]] | None = None
        uri = self.connection.get("uri")
        self.root: Path | None = None
        if uri:
            self.root = folder_of(uri)
            if not self.root.is_dir():
                raise SourceError(f"folder not found: {self.root}")
        properties = properties_of(self.connection)
        self.remote = self.master.startswith("sc://")
        try:
            if self.remote:
                url = self.master
                token = (secrets or {}).get("token")
                if token and ";token=" not in url:
                    url = f"{url.rstrip('/')}/;token={token}"
                self.session = _remote_session(url)
                for key, value in {**properties, **FIXED_PROPERTIES}.items():
                    if key not in STATIC_PROPERTIES:
                        self.session.conf.set(key, value)
            else:
                base = classic_session(self.master, properties)
                self.session = base.newSession()
                for key, value in {**properties, **FIXED_PROPERTIES}.items():
                    if key not in STATIC_PROPERTIES and not key.startswith(("spark.hadoop.", "spark.driver.")):
                        try:
                            self.session.conf.set(key, value)
                        except Exception:  # noqa: BLE001 - a static property: set when Spark started
                            pass
            self.session.addTag(self.tag)
            self.con = connect_ibis(self.session)
        except SourceError:
            raise
        except Exception as e:  # noqa: BLE001 - Spark's own reason goes to the user
            raise SourceError(f"cannot open Spark session ({self.master}): {_reason(e)}") from e

    # -- naming the operation ---------------------------------------------------------

    def describe(self, label: str) -> None:
        """Name the Spark jobs this source runs from now on (in this thread): the Spark UI
        shows them under job group ``self.tag`` with description ``label`` (a classic
        session), and with tag ``self.tag`` (both kinds); an abort cancels them."""
        try:
            self.session.addTag(self.tag)
            if not self.remote:
                sc = self.session.sparkContext
                sc.setJobGroup(self.tag, label, interruptOnCancel=True)
                sc.setJobDescription(label)
        except Exception:  # noqa: BLE001 - naming is best effort
            pass

    def interrupt(self) -> None:
        """Cancel every running Spark job of this source (its tag / job group)."""
        try:
            self.session.interruptTag(self.tag)
        except Exception:  # noqa: BLE001 - best effort
            pass
        if not self.remote:
            try:
                self.session.sparkContext.cancelJobGroup(self.tag)
            except Exception:  # noqa: BLE001
                pass

    # -- listing ----------------------------------------------------------------------

    def _qualified(self) -> str:
        return f"{self.catalog}.{self.database}" if self.catalog else self.database

    def _tables(self) -> list[tuple[str, str]]:
        """(name, "table" | "view") of the catalog database's tables, by name (temporary
        views left out)."""
        try:
            found = self.session.catalog.listTables(self._qualified())
        except Exception as e:  # noqa: BLE001
            raise SourceError(f"cannot list the tables of Spark database {self._qualified()}: {_reason(e)}") from e
        out = []
        for t in found:
            if t.isTemporary:
                continue
            out.append((t.name, "view" if (t.tableType or "").upper() == "VIEW" else "table"))
        return sorted(out)

    @property
    def groups(self) -> dict[str, tuple[str, str, list[str]]]:
        """File containers: name → (glob relative to the folder, format, file paths)."""
        if self._groups is None:
            self._groups = {}
            if self.root is not None:
                self._groups = {
                    name: (glob, fmt, [str(p) for p in files])
                    for name, (glob, fmt, files) in group_files(self.root).items()
                }
        return self._groups

    def list_containers(self, include=("table", "view")):
        out = []
        names: set[str] = set()
        if self.list_tables:
            for name, table_type in self._tables():
                names.add(name)
                if table_type not in include:
                    continue
                try:
                    schema = self._table(name).schema()
                except Exception as e:  # noqa: BLE001
                    raise SourceError(f"cannot read table {self._qualified()}.{name}: {_reason(e)}") from e
                out.append(ContainerInfo(name, "table", table_type, fields=fields_of(schema)))
        for name, (glob, fmt, files) in self.groups.items():
            try:
                schema = self._read(fmt, files).schema()
            except Exception as e:  # noqa: BLE001
                if fmt == "delta":  # listed with its reason (e.g. deletion vectors): its scans fail the same way
                    error = str(e) if isinstance(e, SourceError) else f"cannot read Delta table {glob}: {_reason(e)}"
                    out.append(
                        ContainerInfo(
                            name if name not in names else f"{name}.{fmt}",
                            "file",
                            None,
                            location=glob,
                            file_format=fmt,
                            error=error,
                        )
                    )
                    continue
                raise SourceError(f"cannot read {glob}: {_reason(e)}") from e
            out.append(
                ContainerInfo(
                    name if name not in names else f"{name}.{fmt}",
                    "file",
                    None,
                    location=glob,
                    file_format=fmt,
                    fields=fields_of(schema),
                )
            )
        return out

    # -- reading ----------------------------------------------------------------------

    def _table(self, name: str) -> ir.Table:
        return self.con.table(name, database=(self.catalog, self.database) if self.catalog else self.database)

    def _reader(self, fmt: str, files: list[str]):
        reader = self.session.read
        if fmt == "csv":
            options: dict[str, Any] = {"header": True, "inferSchema": True}
            first = PurePosixPath(files[0]).name.removesuffix(".gz").lower() if files else ""
            if first.endswith(".tsv"):
                options["sep"] = "\t"
            elif first.endswith(".psv"):
                options["sep"] = "|"
            c = self.connection
            if c.get("delimiter"):
                options["sep"] = c["delimiter"]
            header = c.get("header", c.get("has_header"))
            if header is not None:
                options["header"] = bool(header)
            for key in ("quote", "escape"):
                if c.get(key):
                    options[key] = c[key]
            reader = reader.options(**{k: _text(v) for k, v in options.items()})
        return reader

    def _read(self, fmt: str, files: list[str], partition_column: str | None = None, schema=None) -> ir.Table:
        """The files as one temporary view of this session (one per distinct read)."""
        key = (fmt, tuple(files), partition_column, None if schema is None else schema.simpleString())
        view = self._views.get(key)
        if view is None:
            F = _functions(self.remote)
            if fmt == "delta":
                df = self._delta(files[0])
            else:
                reader = self._reader(fmt, files)
                if schema is not None:
                    reader = reader.schema(schema)
                df = reader.format("json" if fmt == "json" else fmt).load([_uri(f) for f in files])
            if partition_column:
                # each row's file, as the path file_partitions() names it (a Delta table: its folder)
                path = F.lit(files[0]) if fmt == "delta" else _path_of(F, F.col("_metadata.file_path"), files)
                df = df.withColumn(partition_column, path)
            view = f"__assay_files_{uuid.uuid4().hex[:12]}"
            df.createOrReplaceTempView(view)
            self._views[key] = view
        return self.con.table(view)

    def _delta(self, path: str):
        """The current version of the Delta table in folder ``path`` as a Spark DataFrame: by
        Spark's own Delta reader when the session has it (the Delta Lake jars), otherwise by
        Spark's Parquet reader over the live files of the current version, as the table's log
        names them (read by delta-rs, ``sources.delta``), typed by the table's Delta schema
        and partition values taken from the files' folders.

        Raises: SourceError for a table whose reader features its live files alone cannot
            serve (deletion vectors, column mapping; ``delta.unsupported``) on a Spark without
            the Delta reader."""
        try:
            return self.session.read.format("delta").load(_uri(path))
        except Exception as e:
            if not _no_data_source(e):
                raise
        from pyspark.sql.types import StructType

        F = _functions(self.remote)
        table = delta.open_table(path, self._relative(path))
        schema = StructType.fromJson(delta.spark_schema(table))
        live = delta.live_files(table)
        if not live:
            return self.session.createDataFrame([], schema)
        df = self.session.read.schema(schema).option("basePath", _uri(path)).parquet(*[_uri(f) for f in live])
        # Spark puts partition columns last; keep the Delta schema's order
        return df.select(*[F.col("`" + name.replace("`", "``") + "`") for name in schema.fieldNames()])

    def _relative(self, path: str) -> str:
        """A path as the datastore names it: relative to ``uri`` (``.`` for the folder itself)."""
        if self.root is not None:
            try:
                return Path(path).relative_to(self.root).as_posix()
            except ValueError:
                pass
        return path

    def table(self, container, partition_column=None, files=None):
        """The container's Ibis table. For a file pattern, ``partition_column`` (when
        given) holds each row's file path, and ``files`` restricts the read to those files
        (with the columns and types of the whole pattern; an empty list gives no rows)."""
        try:
            if container.container_type in COMPUTED_TYPES:
                return self.con.sql(container.query, dialect="spark")
            if container.container_type != "file":
                return self._table(container.name)
            group = self.groups.get(_file_name(container))
            if group is None:
                raise SourceError(f"no files match container {container.name} ({container.location}) any more")
            _glob, fmt, all_files = group
            whole = self._read(fmt, all_files, partition_column)
            if files is None:
                return whole
            wanted = set(files)
            if fmt == "delta":  # one partition: the table's current version, whole or not at all
                return whole if all_files[0] in wanted else whole.limit(0)
            chosen = [f for f in all_files if f in wanted and Path(f).stat().st_size > 0]
            if not chosen:
                return whole.limit(0)
            schema = self.session.table(whole.get_name()).schema
            if partition_column:
                schema = type(schema)([f for f in schema.fields if f.name != partition_column])
            return self._read(fmt, chosen, partition_column, schema=schema)
        except SourceError:
            raise
        except Exception as e:  # noqa: BLE001
            raise SourceError(f"cannot read {container.container_type} {container.name}: {_reason(e)}") from e

    def partition_count(self, container):
        if container.container_type != "file":
            return 1
        group = self.groups.get(_file_name(container))
        return len(group[2]) if group else 0

    def file_partitions(self, container) -> list[tuple[str, dt.datetime]] | None:
        """A file pattern's files as (path, last-modified time in UTC); None for a table."""
        if container.container_type != "file":
            return None
        group = self.groups.get(_file_name(container))
        if group is None:
            raise SourceError(f"no files match container {container.name} ({container.location}) any more")
        _glob, fmt, paths = group
        if fmt == "delta":  # one partition, modified when its current version was committed
            commit = delta.commit_file(paths[0], delta.open_table(paths[0], self._relative(paths[0])))
            return [(paths[0], dt.datetime.fromtimestamp(Path(commit).stat().st_mtime, tz=dt.UTC))]
        return [(p, dt.datetime.fromtimestamp(Path(p).stat().st_mtime, tz=dt.UTC)) for p in paths]

    def close(self) -> None:
        try:
            self.session.removeTag(self.tag)
            if not self.remote:  # the worker thread runs other operations next
                sc = self.session.sparkContext
                for key in ("spark.jobGroup.id", "spark.job.description", "spark.job.interruptOnCancel"):
                    sc.setLocalProperty(key, None)
        except Exception:  # noqa: BLE001
            pass
        for view in self._views.values():
            try:
                self.session.catalog.dropTempView(view)
            except Exception:  # noqa: BLE001
                pass
        self._views.clear()
        if self.remote:
            try:
                self.session.stop()  # the client's session; the server keeps running
            except Exception:  # noqa: BLE001
                pass


def _no_data_source(e: BaseException) -> bool:
    text = str(e)
    return "DATA_SOURCE_NOT_FOUND" in text or "Failed to find the data source" in text


def _file_name(container) -> str:
    """The file group a container reads: its name, without the ``.fmt`` a clash with a
    table's name added at sync."""
    name = container.name
    fmt = getattr(container, "file_format", None)
    if fmt and name.endswith(f".{fmt}"):
        return name[: -len(fmt) - 1]
    return name


_GLOB = str.maketrans({c: "\\" + c for c in "\\*?[]{}"})


def _uri(path: str) -> str:
    """A file's path as Spark's reader takes it: a plain path (Hadoop does not decode
    ``%xx``), with Hadoop's glob characters escaped so a name like ``a[1].csv`` is itself."""
    return path if "://" in path else path.translate(_GLOB)


def _path_of(F, file_path, files: list[str]):
    """A Spark column turning ``_metadata.file_path`` (``file:`` + the path as a URI, where
    a space is ``%20`` and ``%`` is ``%25`` but ``+`` stays ``+``) back into the plain path
    :meth:`SparkSource.file_partitions` names; a remote URI (``hdfs://…``) stays a URI.
    ``F``: the session's column functions (``_functions``)."""
    local = not any("://" in f for f in files)
    if not local:
        return file_path
    path = F.regexp_replace(file_path, "^file:(//)?", "")
    return F.url_decode(F.replace(path, F.lit("+"), F.lit("%2B")))
