"""The first Admin of a new install: from ``ASSAY_ADMIN_EMAIL`` / ``ASSAY_ADMIN_PASSWORD``, or
through a one-time set-up link printed at start.

Every install has an Admin from its first migration (``admin@localhost``, no password; the
tokens of ``assay token create`` belong to it, so single-user installs and scripts keep
working). On start, while that Admin has no password:

* with both variables set, it takes that email and password;
* otherwise the server prints a set-up link (``/api/auth/setup?code=…``, valid 24 h, usable
  once) where whoever runs the server sets them.
"""

from __future__ import annotations

import logging
import os
import sys

from ..security import hash_password
from ..store.db import Database
from ..store.repositories import users as repo

log = logging.getLogger(__name__)


def ensure_first_admin(database: Database, secret: str) -> str | None:
    """Apply ``ASSAY_ADMIN_EMAIL``/``ASSAY_ADMIN_PASSWORD`` to the first Admin, or return the
    path of a one-time set-up link (None when the first Admin already has a password).

    Raises: ValueError for an ASSAY_ADMIN_PASSWORD shorter than 8 characters."""
    from .routers.users import setup_code

    email = os.environ.get("ASSAY_ADMIN_EMAIL", "").strip()
    password = os.environ.get("ASSAY_ADMIN_PASSWORD", "")
    with database.session() as session:
        admin = repo.first_admin(session)
        if admin is None or admin.password_hash is not None:
            return None
        if email and password:
            if repo.email_taken(session, email, other_than=admin.id):
                raise ValueError(f"ASSAY_ADMIN_EMAIL: another user has the email '{email}'")
            admin.email = email
            admin.password_hash = hash_password(password)
            log.info("first Admin set from ASSAY_ADMIN_EMAIL: %s", email)
            return None
        return f"/api/auth/setup?code={setup_code(secret, admin)}"


def announce(link: str) -> None:
    """Print the set-up link where the person starting the server sees it (stderr)."""
    base = os.environ.get("ASSAY_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    print(
        "Assay: no Admin password yet. Set the first Admin's email and password (link valid 24 h, "
        f"usable once):\n  {base}{link}\n(or start with ASSAY_ADMIN_EMAIL and ASSAY_ADMIN_PASSWORD set)",
        file=sys.stderr,
        flush=True,
    )
