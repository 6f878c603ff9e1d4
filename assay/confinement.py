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
