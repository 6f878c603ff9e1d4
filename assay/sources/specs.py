"""The settings of each connection type Assay supports, as Pydantic models: the keys a
datastore body's ``connection`` object (and, for ``connection_property=False`` fields, the
datastore body itself) takes for that type, with the connectors' defaults.
``GET /api/datastores/specifications`` is generated from them (:mod:`assay.specs`).

Secrets (``SecretStr``) are stored encrypted and never returned.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, Field, SecretStr
from pydantic import ValidationError as PydanticValidationError
from pydantic.json_schema import JsonDict

from . import COMPUTE_ENGINES
from .base import DEFAULT_STATEMENT_TIMEOUT
from .sql import DEFAULT_TIMEOUT

#: ``json_schema_extra`` of a field of the datastore body (not of its ``connection``).
DATASTORE: JsonDict = {"connection_property": False}

StatementTimeout = Field(
    default=float(DEFAULT_STATEMENT_TIMEOUT),
    ge=0,
    le=86400,
    title="Statement timeout (s)",
    description="seconds a single query may run; 0: no limit",
)


def _lower(value: Any) -> Any:
    """Names compared case-insensitively (``Hive`` is ``hive``)."""
    return value.lower() if isinstance(value, str) else value


class ConnectionSettings(BaseModel):
    """A connection type: ``TYPE`` (the ``connection.type`` value), ``DISPLAY_NAME``."""

    TYPE: ClassVar[str]
    DISPLAY_NAME: ClassVar[str]


class _Server(ConnectionSettings):
    host: str = Field(title="Host")
    port: int
    username: str | None = Field(default=None, title="User")
    password: SecretStr | None = Field(default=None, title="Password")
    connect_timeout: int = Field(default=DEFAULT_TIMEOUT, ge=1, title="Connect timeout (s)")
    statement_timeout: float = StatementTimeout
    database: str = Field(title="Database", json_schema_extra=DATASTORE)
    schema_: str | None = Field(default=None, alias="schema", title="Schema", json_schema_extra=DATASTORE)


class PostgreSQLConnection(_Server):
    TYPE = "postgresql"
    DISPLAY_NAME = "PostgreSQL"
    port: int = Field(default=5432, ge=1, le=65535, title="Port")


class MySQLConnection(_Server):
    TYPE = "mysql"
    DISPLAY_NAME = "MySQL / MariaDB"
    port: int = Field(default=3306, ge=1, le=65535, title="Port")


class DuckDBConnection(ConnectionSettings):
    TYPE = "duckdb"
    DISPLAY_NAME = "DuckDB"
    database: str = Field(
        title="Database file",
        description="absolute path of the DuckDB file",
        json_schema_extra={**DATASTORE, "placeholder": "/data/warehouse.duckdb"},
    )
    schema_: str = Field(default="main", alias="schema", title="Schema", json_schema_extra=DATASTORE)
    statement_timeout: float = StatementTimeout


class SQLiteConnection(ConnectionSettings):
    TYPE = "sqlite"
    DISPLAY_NAME = "SQLite"
    database: str = Field(
        title="Database file",
        description="absolute path of the SQLite file",
        json_schema_extra={**DATASTORE, "placeholder": "/data/app.sqlite"},
    )
    statement_timeout: float = StatementTimeout


class _Files(ConnectionSettings):
    delimiter: str | None = Field(default=None, title="CSV delimiter", description="sniffed when unset")
    header: bool | None = Field(default=None, title="CSV header row", description="sniffed when unset")
    quote: str | None = Field(default=None, title="CSV quote character")
    escape: str | None = Field(default=None, title="CSV escape character")


class LocalConnection(_Files):
    TYPE = "local"
    DISPLAY_NAME = "Local folder"
    uri: str = Field(title="Folder URI", json_schema_extra={"placeholder": "file:///absolute/folder"})
    compute_engine: Literal[COMPUTE_ENGINES] = Field(  # type: ignore[valid-type]
        default="duckdb", title="Compute engine", description="duckdb (in the Assay process) or spark"
    )
    statement_timeout: float = StatementTimeout


class S3Connection(_Files):
    TYPE = "s3"
    DISPLAY_NAME = "Amazon S3 (and S3-compatible)"
    uri: str = Field(title="Bucket URI", json_schema_extra={"placeholder": "s3://bucket/prefix"})
    endpoint_url: str | None = Field(
        default=None, title="Endpoint URL", description="an S3-compatible server (MinIO, Ceph …)"
    )
    region: str | None = Field(default=None, title="Region", json_schema_extra={"placeholder": "us-east-1"})
    access_key: SecretStr | None = Field(default=None, title="Access key", description="none: a public bucket")
    secret_key: SecretStr | None = Field(default=None, title="Secret key")
    token: SecretStr | None = Field(default=None, title="Session token")
    statement_timeout: float = StatementTimeout


class SparkConnection(_Files):
    TYPE = "spark"
    DISPLAY_NAME = "Apache Spark"
    master: str = Field(
        default="local[*]", title="Master URL", description="local[N], spark://host:7077, yarn, k8s://… or sc://…"
    )
    uri: str | None = Field(default=None, title="Folder URI", description="a folder of files to read as containers")
    warehouse: str | None = Field(default=None, title="Warehouse folder")
    metastore: Annotated[Literal["hive", "in-memory"] | None, BeforeValidator(_lower)] = Field(
        default=None, title="Metastore"
    )
    database: str | None = Field(default=None, title="Database", json_schema_extra=DATASTORE)


#: Every connection type Assay reads, by ``TYPE``.
CONNECTION_MODELS: tuple[type[ConnectionSettings], ...] = (
    PostgreSQLConnection,
    MySQLConnection,
    DuckDBConnection,
    SQLiteConnection,
    LocalConnection,
    S3Connection,
    SparkConnection,
)


def check_settings(type_: str, settings: dict, database: str | None) -> list[tuple[tuple[str, ...], str]]:
    """Problems of a datastore's settings against the model of its connection ``type_`` as
    ``(location, message)`` pairs (empty when they fit): ``settings`` are the ``connection``
    keys (secrets included), ``database`` the datastore body's. A location is
    ``("connection", key)``, or ``(key,)`` for a key of the datastore body itself."""
    model = next((m for m in CONNECTION_MODELS if type_ == m.TYPE), None)
    if model is None:
        return [(("connection", "type"), f"unsupported connection type '{type_}'")]
    data = dict(settings)
    if database is not None:
        data["database"] = database
    try:
        model.model_validate(data)
    except PydanticValidationError as e:
        by_key = {info.alias or name: info for name, info in model.model_fields.items()}
        problems: list[tuple[tuple[str, ...], str]] = []
        for error in e.errors():
            key = str(error["loc"][0]) if error["loc"] else "connection"
            extra = by_key[key].json_schema_extra if key in by_key else None
            inside = not (isinstance(extra, dict) and extra.get("connection_property") is False)
            problems.append(((("connection", key) if inside else (key,)), f"'{key}': {error['msg']}"))
        return problems
    return []


def check_connection(type_: str, settings: dict) -> list[tuple[tuple[str, ...], str]]:
    """Problems of a shared connection's settings (``/api/connections``: a flat body) against
    the model of its ``type_``, as ``((key,), message)`` pairs: a key of the wrong type or out
    of bounds (a ``port`` of ``"abc"``). The datastore's own keys (``database``, ``schema``)
    may be left to each datastore, so their absence is no problem here."""
    problems: list[tuple[tuple[str, ...], str]] = []
    for loc, message in check_settings(type_, settings, None):
        key = loc[-1]
        if loc == (key,) and key not in settings and message.endswith("Field required"):
            continue  # a datastore-level key the connection leaves to its datastores
        problems.append(((key,), message))
    return problems
