"""Shared fixtures: metadata stores (SQLite and PostgreSQL), an API client, engines.

PostgreSQL and MariaDB are the servers on this machine (127.0.0.1). Without them a
test that needs one is skipped with the reason; in CI (``CI=true``) it fails instead,
so a green CI always means every test ran.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fastapi.testclient import TestClient

from assay.api.app import create_app
from assay.config import Settings
from assay.store.db import dispose_engine
from tests.engines import engine  # noqa: F401  (the `engine` fixture, for every test module)

PG_HOST = os.environ.get("ASSAY_TEST_PG_HOST", "127.0.0.1")
PG_ADMIN_URL = f"postgresql+psycopg2://postgres@{PG_HOST}:5432/test"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(what: str, why: Exception | str) -> None:
    message = f"{what} is not reachable ({why}); start it to run this test"
    if IN_CI:
        pytest.fail(f"{message} — in CI every test must run")
    pytest.skip(message)


@pytest.fixture(scope="session")
def pg_admin():
    """A SQLAlchemy engine on the PostgreSQL server's `test` database (AUTOCOMMIT)."""
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as e:  # noqa: BLE001
        admin.dispose()
        _unavailable("PostgreSQL at 127.0.0.1:5432", str(e).splitlines()[0])
    yield admin
    admin.dispose()


@contextlib.contextmanager
def _new_pg_database(pg_admin, template: str | None = None, prefix: str = "assay_test_") -> Iterator[tuple[str, str]]:
    """A new, uniquely named PostgreSQL database (a copy of database ``template`` when
    given): yields ``(name, SQLAlchemy URL)``, then drops it with its connections."""
    from sqlalchemy import text

    name = f"{prefix}{uuid.uuid4().hex[:12]}"
    with pg_admin.connect() as conn:
        if template is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        else:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    url = f"postgresql+psycopg2://postgres@{PG_HOST}:5432/{name}"
    try:
        yield name, url
    finally:
        dispose_engine(url)
        with pg_admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def pg_database(pg_admin) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test; yields its SQLAlchemy URL."""
    with _new_pg_database(pg_admin) as (_name, url):
        yield url


@pytest.fixture(scope="session")
def _pg_store_template(pg_admin) -> Iterator[str]:
    """The name of a PostgreSQL database at the newest migration, made once per test process."""
    from assay.store.db import upgrade

    with _new_pg_database(pg_admin, prefix="assay_template_") as (name, url):
        upgrade(url)
        dispose_engine(url)  # a template has no other connection while it is copied
        yield name


@pytest.fixture
def pg_store(pg_admin, _pg_store_template) -> Iterator[str]:
    """A fresh PostgreSQL metadata store at the newest migration for one test; yields its
    SQLAlchemy URL. A copy of a migrated database (``CREATE DATABASE … TEMPLATE``, ~0.2 s)
    instead of the migrations run again (~0.7–0.9 s on 2 cores); the migrations are tested
    on PostgreSQL on their own (``tests/security/test_upgrade.py``, which, like every source
    or enrichment database, uses the empty ``pg_database``)."""
    with _new_pg_database(pg_admin, template=_pg_store_template) as (_name, url):
        yield url


@pytest.fixture(scope="session")
def mariadb_server():
    """A PyMySQL connection factory for the MariaDB server at 127.0.0.1:3306 (root, no password)."""
    import pymysql

    def connect(database: str | None = "test"):
        return pymysql.connect(host=PG_HOST, port=3306, user="root", password="", database=database, autocommit=True)

    try:
        connect().close()
    except Exception as e:  # noqa: BLE001
        _unavailable("MariaDB at 127.0.0.1:3306", str(e).splitlines()[0])
    return connect


#: The one local Spark session of a test session: 2 cores, 2 shuffle partitions, no UI,
#: a Hive metastore (embedded Derby) in a temporary warehouse folder.
SPARK_MASTER = "local[2]"
#: The test session's JVMs are short-lived and run many small queries: the C1 compiler only
#: and the serial collector halve their CPU (the JVM's share of the parity matrix's Spark
#: cases: 74 s -> 38 s) without changing what Spark computes.
SPARK_TEST_JVM_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
#: Spark generates and compiles Java source for each query (whole-stage code generation,
#: then Janino for each projection and predicate): worth it on big data, but the tests'
#: queries read a few rows each, so the test session's Spark interprets them instead (the
#: Spark tests alone, CPU of all their processes: 98-100 s -> 88 s, wall 75 s -> 66 s).
#: Spark computes the same in both modes (its own tests run each in both; where
#: generated code fails to compile, Spark falls back to interpreting it anyway).
SPARK_TEST_PROPERTIES = {"spark.sql.codegen.wholeStage": "false", "spark.sql.codegen.factoryMode": "NO_CODEGEN"}


@pytest.fixture(scope="session")
def spark_warehouse(tmp_path_factory) -> Path:
    """The warehouse folder (and Derby metastore) of the test session's Spark."""
    return tmp_path_factory.mktemp("spark-warehouse")


@pytest.fixture(scope="session")
def spark_session(spark_warehouse):
    """The process' classic SparkSession (``assay.sources.spark.classic_session``), started
    once per test session; Spark datastores of the tests use ``spark_connection_settings``
    so they share it. Skipped without ``java`` (failed in CI)."""
    import shutil

    if shutil.which("java") is None:
        _unavailable("java (needed by Spark)", "no 'java' on PATH")
    try:
        import pyspark  # noqa: F401
    except ImportError as e:
        _unavailable("PySpark (the assay[spark] extra)", e)
    from assay.sources.spark import classic_session, properties_of, stop_classic_session

    properties = properties_of(spark_connection_settings(spark_warehouse))
    properties["spark.driver.extraJavaOptions"] += " " + SPARK_TEST_JVM_OPTIONS
    properties.update(SPARK_TEST_PROPERTIES)
    session = classic_session(SPARK_MASTER, properties)
    yield session
    stop_classic_session()


def spark_connection_settings(warehouse: Path, **extra) -> dict:
    """A ``spark`` connection body on the test session's Spark (``spark_session``)."""
    return {
        "type": "spark",
        "master": SPARK_MASTER,
        "warehouse": str(warehouse),
        "metastore": "hive",
        "spark.ui.enabled": "false",
        "spark.sql.shuffle.partitions": "2",
        **extra,
    }


_MIGRATED_SQLITE: list[Path] = []  # this test process' migrated, empty metadata store


def _migrated_sqlite() -> Path:
    """A SQLite metadata store at the newest migration, made once per test process.

    Every app of the tests starts on a copy of it: the migrations (tested on their own in
    ``tests/security/test_upgrade.py`` and by every PostgreSQL store and live server) would
    otherwise run again for each test, about half a second each."""
    if not _MIGRATED_SQLITE:
        import atexit
        import shutil
        import tempfile

        from assay.store.db import upgrade

        folder = Path(tempfile.mkdtemp(prefix="assay-migrated-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        url = f"sqlite:///{folder / 'assay.db'}"
        upgrade(url)
        dispose_engine(url)  # closes the connections: the WAL is checkpointed into the file
        _MIGRATED_SQLITE.append(folder / "assay.db")
    return _MIGRATED_SQLITE[0]


def make_settings(tmp_path: Path, database_url: str | None = None, workers: int = 2) -> Settings:
    """Settings of a test app: a data directory under ``tmp_path`` and, unless
    ``database_url`` is given, a SQLite metadata store there (a copy of a migrated one)."""
    import shutil

    data_dir = tmp_path / "assay-data"
    data_dir.mkdir(exist_ok=True)
    if database_url is None:
        store = data_dir / "assay.db"
        if not store.exists():
            shutil.copyfile(_migrated_sqlite(), store)
        database_url = f"sqlite:///{store}"
    return Settings(data_dir=data_dir, database_url=database_url, workers=workers)


class Api:
    """A TestClient wrapper with helpers tests share. Every call goes through the real
    HTTP stack of the app (routing, validation, serialization)."""

    def __init__(self, client: TestClient):
        self.client = client

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.client, name)

    def ok(self, method: str, url: str, **kwargs) -> Any:
        """Call and assert a 2xx; return the JSON body (None for 204)."""
        r = self.client.request(method, url, **kwargs)
        assert r.status_code < 300, f"{method} {url} -> {r.status_code}: {r.text}"
        return None if r.status_code == 204 else r.json()

    def wait(self, op_id: int, timeout: float = 60) -> dict:
        """Wait until operation ``op_id`` has an end time; return GET /api/operations/{id}.

        It watches the operation's ``end_time`` in the app's metadata store every 20 ms
        (about 0.2 ms of CPU) rather than through the HTTP stack (about 4 ms each, taken
        from the operation it waits for); the answer returned is the API's."""
        from sqlalchemy import select

        from assay.store.models import Operation

        database = self.client.app.state.database
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with database.session() as s:
                row = s.execute(select(Operation.end_time).where(Operation.id == op_id)).first()
            if row is None or row.end_time is not None:  # no such operation: the GET says so at once
                return self.ok("GET", f"/api/operations/{op_id}")
            time.sleep(0.02)
        op = self.ok("GET", f"/api/operations/{op_id}")
        raise AssertionError(f"operation {op_id} did not finish within {timeout}s: {op}")

    def run(self, payload: dict, timeout: float = 60) -> dict:
        """POST /api/operations/run and wait for the operation to end."""
        op = self.ok("POST", "/api/operations/run", json=payload)
        return self.wait(op["id"], timeout)

    def duckdb_datastore(
        self, name: str, path: Path | str, schema: str = "main", test_connection: bool = True, **extra
    ) -> dict:
        """Create a DuckDB datastore; ``test_connection=False`` saves one whose file is missing on purpose."""
        body = {"name": name, "connection": {"type": "duckdb"}, "database": str(path), "schema": schema, **extra}
        params = {} if test_connection else {"test_connection": "false"}
        return self.ok("POST", "/api/datastores", json=body, params=params)

    def enrichment_datastore(self, name: str, path: Path | str) -> dict:
        return self.duckdb_datastore(name, path, enrichment_only=True)

    def sync(self, datastore_id: int) -> dict:
        op = self.run({"type": "sync", "datastore_id": datastore_id})
        assert op["result"] == "success", op
        return op

    def container_id(self, datastore_id: int, name: str) -> int:
        listing = self.ok("GET", "/api/containers/listing", params={"datastore": datastore_id})
        return next(c["id"] for c in listing if c["name"] == name)

    def check(self, container_id: int, rule: str, fields: list[str] | None = None, **body) -> dict:
        return self.ok(
            "POST",
            "/api/quality-checks",
            json={"container_id": container_id, "rule": rule, "fields": fields or [], **body},
        )

    def scan(self, datastore_id: int, **payload) -> dict:
        return self.run({"type": "scan", "datastore_id": datastore_id, **payload})

    def anomalies(self, **params) -> list[dict]:
        out, page = [], 1
        while True:
            body = self.ok("GET", "/api/anomalies", params={**params, "page": page, "size": 100})
            out.extend(body["items"])
            if page * 100 >= body["total"]:
                return out
            page += 1


def _client(settings: Settings) -> Iterator[Api]:
    """A client on a fresh app whose requests carry a valid admin token."""
    from assay.security import issue_token

    app = create_app(settings)
    with TestClient(app) as client:
        with app.state.database.session() as session:
            _row, token = issue_token(session, settings.secret_key, name="tests")
        client.headers["Authorization"] = f"Bearer {token}"
        yield Api(client)
    dispose_engine(settings.database_url)


@pytest.fixture
def api(tmp_path) -> Iterator[Api]:
    """An API client on a fresh SQLite metadata store."""
    yield from _client(make_settings(tmp_path))


@pytest.fixture(params=["sqlite", "postgres"])
def api_any_store(request, tmp_path) -> Iterator[Api]:
    """An API client, once on a SQLite metadata store and once on PostgreSQL."""
    if request.param == "postgres":
        url = request.getfixturevalue("pg_store")
        yield from _client(make_settings(tmp_path, url))
    else:
        yield from _client(make_settings(tmp_path))


@pytest.fixture
def make_duckdb(tmp_path) -> Callable[..., Path]:
    """``make_duckdb(*sql, name="src.duckdb")``: run SQL statements into a new DuckDB
    file (connection closed afterwards) and return its path."""

    def make(*statements: str, name: str = "src.duckdb") -> Path:
        path = tmp_path / name
        con = duckdb.connect(str(path))
        try:
            for sql in statements:
                con.execute(sql)
        finally:
            con.close()
        return path

    return make


# --- the order of the parallel run (pytest-xdist, ``--dist loadfile``) ------------------

#: Test files that use the test session's Spark (a JVM of ~1 GB that takes ~20 s to start):
#: one work unit, so one worker starts it. The parity matrix's Spark cases join them.
SPARK_FILES = (
    "tests/sources/test_spark.py",
    "tests/sources/test_spark_engine.py",
    "tests/engine/rules/test_spark_semantics.py",
)
#: The parity matrix's Spark cases (``test_parity[spark]``, ``test_example_rows_agree_across_engines[spark]``)
#: share one evaluation per process, so they join the Spark unit too.
SPARK_PARITY = ("tests/engine/rules/test_parity.py::", "[spark]")
#: The browser tests share one seeded live server and one Chromium (``tests/ui/conftest.py``):
#: one work unit, so they are made once.
UI_FILES = ("tests/ui/test_ui_",)

#: The longest work units (about a minute or more on the 2-core machine, from
#: ``pytest --durations``), sent first so that no worker starts one when the others are
#: done; every other file follows, most tests first (xdist's own order).
LONGEST_FIRST = (
    "spark",
    "tests/cli/test_qualytics_cli.py",
    "tests/cli/test_qualytics_cli_config.py",
    "ui",
    "tests/engine/test_profile_inference.py",
    "tests/operations/test_control.py",
    "tests/api/test_openapi.py",
    "tests/engine/rules/test_parity.py",
    "tests/enrichment/test_pending.py",
    "tests/api/test_scan.py",
    "tests/cli/test_qualytics_cli_ownership.py",
    "tests/security/test_teams.py",
    "tests/ui/test_web_routes.py",
    # shorter, but mostly waiting (README commands one after the other, timeouts): handed
    # out last, one of them alone ended the run 20 s late
    "tests/test_readme.py",
    "tests/sources/test_statement_timeout.py",
    "tests/sources/test_s3.py",
)


def work_unit(nodeid: str) -> str:
    """The unit of work a test belongs to: its file, ``"spark"`` for the Spark tests or
    ``"ui"`` for the browser tests."""
    if nodeid.startswith(SPARK_FILES) or (nodeid.startswith(SPARK_PARITY[0]) and nodeid.endswith(SPARK_PARITY[1])):
        return "spark"
    if nodeid.startswith(UI_FILES):
        return "ui"
    return nodeid.split("::", 1)[0]


def pytest_collection_modifyitems(config, items):
    """Run the ``LONGEST_FIRST`` units first (a stable sort: the tests of a file keep their
    order); the parallel run hands out work units in this order."""
    rank = {unit: i for i, unit in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(work_unit(item.nodeid), len(rank)))


def pytest_xdist_make_scheduler(config, log):
    """xdist's whole-file scheduling with the Spark tests as one unit, its units handed out
    in collection order (``pytest_collection_modifyitems``: the longest first)."""
    from xdist.scheduler import LoadFileScheduling

    class Scheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    config.option.loadscopereorder = False  # xdist's reorder is by test count, not time
    return Scheduling(config, log)


def pytest_sessionstart(session):
    """Set the objects of the imports aside from the garbage collector (``gc.freeze``) and
    collect with the server's thresholds, as the server does at start
    (``operations.runner.freeze_startup_heap``): every full collection of a test process
    would otherwise walk them again, and young collections every 700 allocations cost the
    tests 6–9 % of their CPU."""
    import gc

    from assay.operations.runner import GC_THRESHOLDS

    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
