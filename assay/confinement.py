"""Which files and folders a datastore may point at: the server's data roots.

A ``duckdb`` or ``sqlite`` datastore's ``database``, a ``local`` datastore's folder
(``connection.uri``) and an enrichment DuckDB / SQLite file must lie inside one of the
**data roots**, after the path is resolved (``os.path.realpath``: ``..`` and every symlink
followed). The roots are ``ASSAY_DATA_ROOTS`` — absolute folders separated by ``:``
(``os.pathsep``) — or, when it is unset, the server's working directory and the system
temporary directory (``tempfile.gettempdir()``). That default keeps the embedded quickstart
(files next to where you start ``assay serve``), ``make demo`` (its ``demo-data/`` folder,
which it also passes as ``ASSAY_DATA_ROOTS``) and the test suite (pytest's temporary
folders) working, while ``/etc``, home directories and the rest of the machine are out of
reach. A shared server should set ``ASSAY_DATA_ROOTS`` to the folders meant for users.

Assay's own data directory (``ASSAY_DATA_DIR``: the metadata SQLite file, the secret key)
and a SQLite metadata file elsewhere are **always** refused, even inside a root; a folder
datastore whose tree contains them skips them. While a folder is walked (sync, scan) each
file is resolved again, so a symlink leading out of the roots is skipped too.

The error never says whether a path outside the roots exists: every such path gets the
same answer.

The same goes for servers: a PostgreSQL or MySQL/MariaDB datastore (or enrichment
datastore) may not be Assay's own metadata database (same database name, same port, a host
that resolves to the same address or, both, to this machine's loopback) — its tables hold
the encrypted secrets and the token register.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

ENV = "ASSAY_DATA_ROOTS"

_guard = threading.Lock()
_protected_dirs: set[str] = set()
_protected_files: set[str] = set()
_SIDECARS = ("", "-wal", "-shm", "-journal")
_server_hosts: dict[tuple[str, int, str], set[str]] = {}
_DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306}


class PathNotAllowed(ValueError):
    """A path outside the data roots or inside Assay's own data; ``loc`` names the field."""

    def __init__(self, loc: tuple[str, ...], message: str):
        super().__init__(message)
        self.loc, self.message = loc, message


def _real(path: str | os.PathLike) -> str:
    return os.path.realpath(os.fspath(path))


def protect_dir(path: str | os.PathLike) -> None:
    """Refuse ``path`` and everything below it to datastores (Assay's data directory)."""
    with _guard:
        _protected_dirs.add(_real(path))


def protect_file(path: str | os.PathLike) -> None:
    """Refuse the file ``path`` and its SQLite sidecars (``-wal``, ``-shm``, ``-journal``)."""
    real = _real(path)
    with _guard:
        _protected_files.update(real + s for s in _SIDECARS)


def _kind_of(drivername: str) -> str | None:
    name = drivername.split("+")[0]
    return {"postgresql": "postgresql", "postgres": "postgresql", "mysql": "mysql", "mariadb": "mysql"}.get(name)


def protect_database_url(url: str) -> None:
    """Refuse, to datastores, the server database of the metadata store at ``url``."""
    from sqlalchemy import make_url

    u = make_url(url)
    kind = _kind_of(u.drivername)
    if kind is None or not u.database:
        return
    key = (kind, int(u.port or _DEFAULT_PORTS[kind]), u.database)
    with _guard:
        _server_hosts.setdefault(key, set()).add(u.host or "localhost")


def _addresses(host: str) -> set[str]:
    import socket

    try:
        return {str(info[4][0]) for info in socket.getaddrinfo(host, None)}
    except OSError:
        return {host}


def _loopback(addresses: set[str]) -> bool:
    import ipaddress

    try:
        return bool(addresses) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses)
    except ValueError:
        return False


def is_metadata_database(kind: str, host: str | None, port: int | None, database: str | None) -> bool:
    """Whether a server datastore (``kind`` postgresql | mysql) is Assay's own metadata database."""
    key = (kind, int(port or _DEFAULT_PORTS.get(kind, 0)), database or "")
    with _guard:
        hosts = set(_server_hosts.get(key, ()))
    if not hosts:
        return False
    mine = _addresses(host or "localhost")
    for other in hosts:
        theirs = _addresses(other)
        if mine & theirs or (_loopback(mine) and _loopback(theirs)):
            return True
    return False


def refuse_metadata_database(kind: str, connection: dict, database: str | None) -> None:
    """Raises PathNotAllowed (naming ``database``) when the datastore is the metadata database."""
    try:
        port = int(connection.get("port") or 0) or None
    except (TypeError, ValueError):
        port = None
    if is_metadata_database(kind, connection.get("host"), port, database):
        raise PathNotAllowed(
            ("database",), "'database' is Assay's own metadata database, which no datastore may read or write"
        )


def data_roots() -> list[str]:
    """The data roots in force now (resolved), from ``ASSAY_DATA_ROOTS`` or the default."""
    raw = os.environ.get(ENV)
    if raw is not None and raw.strip():
        roots = [r for r in raw.split(os.pathsep) if r.strip()]
    else:
        roots = [os.getcwd(), tempfile.gettempdir()]
    return [_real(r) for r in roots]


def _inside(real: str, folder: str) -> bool:
    return real == folder or real.startswith(folder.rstrip(os.sep) + os.sep)


def _default_data_dir() -> str | None:
    env = os.environ.get("ASSAY_DATA_DIR")
    if env:
        return _real(env)
    try:
        import platformdirs

        return _real(platformdirs.user_data_dir("assay"))
    except Exception:  # noqa: BLE001 - no user data directory: nothing to protect there
        return None


def is_protected(real: str) -> bool:
    """Whether a resolved path is Assay's own data (its data directory, metadata file)."""
    with _guard:
        dirs, files = set(_protected_dirs), set(_protected_files)
    default = _default_data_dir()
    if default:
        dirs.add(default)
    return real in files or any(_inside(real, d) for d in dirs)


def allowed(path: str | os.PathLike) -> bool:
    """Whether ``path``, resolved, lies inside a data root and outside Assay's own data."""
    real = _real(path)
    return any(_inside(real, root) for root in data_roots()) and not is_protected(real)


def confine(path: str | os.PathLike, loc: tuple[str, ...]) -> Path:
    """The resolved ``path`` when a datastore may use it.

    Raises:
        PathNotAllowed: outside every data root (the same message whether or not it
            exists), or inside Assay's own data directory; ``loc`` names the field.
    """
    name = loc[-1] if loc else "path"
    if not os.path.isabs(os.fspath(path)):
        raise PathNotAllowed(loc, f"'{name}' must be an absolute path")
    real = _real(path)
    if is_protected(real):
        raise PathNotAllowed(loc, f"'{name}' points into Assay's own data directory, which no datastore may read")
    if not any(_inside(real, root) for root in data_roots()):
        raise PathNotAllowed(
            loc,
            f"'{name}' is outside the data roots this server allows (ASSAY_DATA_ROOTS); "
            "ask the operator for a folder inside one",
        )
    return Path(real)
