"""Engine and session factory for the metadata store, plus `upgrade()` (Alembic head).

The metadata store is a SQLite file by default and PostgreSQL in production
(``ASSAY_DATABASE_URL``). Migrations run on every start of the server.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, make_url, select
from sqlalchemy.orm import Session, sessionmaker

_MIGRATIONS = Path(__file__).parent / "migrations"
_lock = threading.Lock()
_engines: dict[str, Engine] = {}


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _private_file(path: str | None) -> None:
    """Create a SQLite metadata file mode 0600 before SQLite does (it would use the umask,
    usually 0644); its -wal and -shm files then get the same mode from SQLite."""
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    import os

    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except (FileExistsError, FileNotFoundError):  # exists already / no folder: SQLite reports that
        return
    os.close(fd)


def get_engine(url: str) -> Engine:
    """Return the process-wide SQLAlchemy engine for ``url`` (created once, thread-safe)."""
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            if url.startswith("sqlite"):
                _private_file(make_url(url).database)
                engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
                event.listen(engine, "connect", _sqlite_pragmas)
            else:
                engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
            _engines[url] = engine
        return engine


def dispose_engine(url: str) -> None:
    """Close every pooled connection of ``url``'s engine and forget it."""
    with _lock:
        engine = _engines.pop(url, None)
    if engine is not None:
        engine.dispose()


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@functools.cache
def head_revision() -> str | None:
    """The newest migration's revision id (read once per process from ``migrations/``)."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def upgrade(url: str) -> None:
    """Apply every Alembic migration up to head on the metadata store at ``url``.

    A store already at head is left alone without loading Alembic's environment (a
    server's start, and every test's fresh app, costs one query instead of ~0.3 s)."""
    engine = get_engine(url)
    with engine.begin() as connection:
        if MigrationContext.configure(connection).get_current_revision() == head_revision():
            return
        cfg = alembic_config(url)
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


class Database:
    """A metadata store: its engine plus a session factory.

    ``session()`` is a context manager that commits on success and rolls back on error.
    """

    def __init__(self, url: str, secret_key: str = ""):
        self.url = url
        from ..confinement import protect_database_url

        protect_database_url(url)  # no datastore may be the metadata database
        if url.startswith("sqlite"):
            from ..confinement import protect_file

            path = make_url(url).database
            if path and path != ":memory:":
                protect_file(path)  # no datastore may read the metadata store
        self.secret_key = secret_key  # decrypts datastore secrets inside jobs
        self.engine = get_engine(url)
        self._factory = sessionmaker(self.engine, expire_on_commit=False)
        from .audit import install as install_audit
        from .repositories.scope import install as install_scope

        install_scope(self._factory)  # a request's session sees only its user's teams' rows
        install_audit(self._factory)  # created_by / last_editor / anomaly status changes
        from .repositories.tags import install as install_tags

        install_tags(self._factory)  # a tag name's first use creates its global tag

    def ping(self) -> None:
        """One round trip to the metadata database (``SELECT 1``). Raises what the driver
        raises when it cannot be reached."""
        with self.engine.connect() as conn:
            conn.execute(select(1))

    @contextmanager
    def session(self, *, user_id: int | None = None, scope=None) -> Iterator[Session]:
        """A unit of work. ``user_id``: who acts (audit columns); ``scope``: a
        ``repositories.scope.Scope`` limiting what the session sees (None: everything)."""
        session = self._factory(info={"user_id": user_id, "scope": scope})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
