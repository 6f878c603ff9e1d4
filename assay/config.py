"""Runtime settings, read from the environment.

| variable              | default                                   |
|-----------------------|-------------------------------------------|
| ASSAY_DATA_DIR        | the user's data directory (platformdirs)  |
| ASSAY_DATABASE_URL    | sqlite:///<data dir>/assay.db             |
| ASSAY_WORKERS         | 2 worker threads inside `assay serve`     |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    workers: int


def get_settings() -> Settings:
    """Return the settings in force now (re-read on every call, so tests can change env vars)."""
    data_dir = Path(os.environ.get("ASSAY_DATA_DIR") or platformdirs.user_data_dir("assay"))
    data_dir.mkdir(parents=True, exist_ok=True)
    url = os.environ.get("ASSAY_DATABASE_URL") or f"sqlite:///{data_dir / 'assay.db'}"
    workers = int(os.environ.get("ASSAY_WORKERS", "2"))
    return Settings(data_dir=data_dir, database_url=url, workers=max(1, workers))
