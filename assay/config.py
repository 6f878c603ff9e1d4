"""Runtime settings, read from the environment.

| variable              | default                                                  |
|-----------------------|----------------------------------------------------------|
| ASSAY_DATA_DIR        | the user's data directory (platformdirs)                 |
| ASSAY_DATABASE_URL    | sqlite:///<data dir>/assay.db                            |
| ASSAY_WORKERS         | 2 worker threads inside `assay serve` (0: API only; run `assay worker` processes) |
| ASSAY_SECRET_KEY      | generated into <data dir>/secret.key on first start      |
| ASSAY_AUTO_APPROVE_CLI_LOGIN | off; tests only: CLI browser logins approved at once |
| ASSAY_ADMIN_EMAIL, ASSAY_ADMIN_PASSWORD | unset: a one-time set-up link is printed at start (api/first_admin.py) |

The secret key signs API tokens (HS256 JWTs); keep it private. Several servers sharing
one metadata store must share the key too. Assay creates the data directory mode 0700 and
the metadata SQLite file and the secret key mode 0600.

More settings live next to what they govern: ``ASSAY_DATA_ROOTS`` (``confinement.py``),
``ASSAY_HEARTBEAT_TIMEOUT`` / ``ASSAY_HEARTBEAT_SECONDS`` / ``ASSAY_REAPER_INTERVAL``
(``operations/runner.py``), ``ASSAY_ENRICHMENT_RETRY_SECONDS`` (``enrichment/pending.py``),
``ASSAY_MAX_BODY_BYTES`` (``api/limits.py``).
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    workers: int
    secret_key: str = field(default="", repr=False)
    auto_approve_cli_login: bool = False

    def __post_init__(self):
        from .confinement import protect_dir

        protect_dir(self.data_dir)  # no datastore may read the metadata store or the key
        if not self.secret_key:
            object.__setattr__(self, "secret_key", load_secret_key(self.data_dir))


def load_secret_key(data_dir: Path) -> str:
    """``ASSAY_SECRET_KEY`` if set, else the key in ``<data_dir>/secret.key``, created on
    first use (32 random bytes, url-safe base64, file mode 0600)."""
    env = os.environ.get("ASSAY_SECRET_KEY")
    if env:
        return env
    path = Path(data_dir) / "secret.key"
    if not path.exists():
        make_private_dir(path.parent)
        key = base64.urlsafe_b64encode(os.urandom(32)).decode()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first
            return path.read_text().strip()
        with os.fdopen(fd, "w") as f:
            f.write(key)
    return path.read_text().strip()


def make_private_dir(path: Path) -> None:
    """Create the data directory (and its parents) if missing; the directory itself is
    created mode 0700 (only the server's user may list or enter it)."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:  # another process created it first
            return
        os.chmod(path, 0o700)  # whatever the umask


def get_settings() -> Settings:
    """Return the settings in force now (re-read on every call, so tests can change env vars)."""
    data_dir = Path(os.environ.get("ASSAY_DATA_DIR") or platformdirs.user_data_dir("assay"))
    make_private_dir(data_dir)
    url = os.environ.get("ASSAY_DATABASE_URL") or f"sqlite:///{data_dir / 'assay.db'}"
    workers = int(os.environ.get("ASSAY_WORKERS", "2"))
    auto_approve = os.environ.get("ASSAY_AUTO_APPROVE_CLI_LOGIN", "").lower() in ("1", "true", "yes")
    return Settings(data_dir=data_dir, database_url=url, workers=max(0, workers), auto_approve_cli_login=auto_approve)
