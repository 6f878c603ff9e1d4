"""Routers parse, authorize and shape; the statements that read and write the metadata store
live in ``assay/store`` (its repositories and ``Database``). A router may name SQLAlchemy's
``Session`` type, nothing else of SQLAlchemy."""

from __future__ import annotations

import ast
from pathlib import Path

ROUTERS = Path(__file__).resolve().parents[1] / "assay" / "api" / "routers"
ALLOWED = {("sqlalchemy.orm", "Session")}


def sqlalchemy_imports(source: str) -> list[tuple[int, str]]:
    """``(line, what)`` of each import of SQLAlchemy in ``source`` that is not in ``ALLOWED``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "sqlalchemy"]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlalchemy":
            found += [
                (node.lineno, f"{node.module}.{a.name}") for a in node.names if (node.module, a.name) not in ALLOWED
            ]
    return found


def test_the_checker_names_each_query_import():
    sample = "from sqlalchemy import select, text\nfrom sqlalchemy.orm import Session\nimport sqlalchemy.sql\n"
    assert sqlalchemy_imports(sample) == [(1, "sqlalchemy.select"), (1, "sqlalchemy.text"), (3, "sqlalchemy.sql")]


def test_routers_build_no_statements():
    routers = sorted(ROUTERS.glob("*.py"))
    assert len(routers) > 20
    offending = {
        path.name: found for path in routers if (found := sqlalchemy_imports(path.read_text(encoding="utf-8")))
    }
    assert offending == {}
