"""Assay's own files are private: the data directory 0700, the metadata SQLite file (and its
WAL) and the generated secret key 0600, whatever the umask."""

from __future__ import annotations

import os
import stat

from sqlalchemy import text

from assay.config import get_settings
from assay.store.db import Database, dispose_engine, upgrade


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_data_directory_metadata_file_and_secret_key_are_private(tmp_path, monkeypatch):
    data_dir = tmp_path / "fresh" / "assay"
    monkeypatch.setenv("ASSAY_DATA_DIR", str(data_dir))
    monkeypatch.delenv("ASSAY_DATABASE_URL", raising=False)
    monkeypatch.delenv("ASSAY_SECRET_KEY", raising=False)
    old = os.umask(0o022)  # the usual umask: files 0644 unless Assay says otherwise
    try:
        settings = get_settings()
        upgrade(settings.database_url)
        with Database(settings.database_url).session() as s:
            s.execute(text("select 1"))
    finally:
        os.umask(old)
    try:
        assert _mode(data_dir) == 0o700
        assert _mode(data_dir / "secret.key") == 0o600
        assert _mode(data_dir / "assay.db") == 0o600
        for sidecar in ("assay.db-wal", "assay.db-shm"):
            if (data_dir / sidecar).exists():
                assert _mode(data_dir / sidecar) == 0o600, sidecar
    finally:
        dispose_engine(settings.database_url)
