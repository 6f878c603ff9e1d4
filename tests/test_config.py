"""Assay reads its settings (``ASSAY_*`` environment variables) when it runs, never when a
module is imported: a process that imported Assay before its environment was set (an
embedding application, the tests' fork server in ``tests/cli/forkserver.py``) still runs
with the settings of its environment. Only the command line's modules read the terminal's
settings at import (their Rich consoles): the fork server imports those again for each run."""

from __future__ import annotations

import ast
from pathlib import Path

import assay
from assay.operations import runner
from tests.cli.forkserver import ASSAY_FRESH

_PACKAGE = Path(assay.__file__).parent


def _reads_environment(node: ast.AST) -> bool:
    return any(
        (isinstance(n, ast.Attribute) and n.attr in ("environ", "getenv", "environb"))
        or (isinstance(n, ast.Name) and n.id in ("environ", "getenv"))
        for n in ast.walk(node)
    )


def _import_time_statements(body: list[ast.stmt]):
    """The statements of a module (or class) body that run when it is imported: everything
    but the bodies of functions (a decorator or a default value runs at import too)."""
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from node.decorator_list
            yield from node.args.defaults
            yield from [d for d in node.args.kw_defaults if d is not None]
        elif isinstance(node, ast.ClassDef):
            yield from node.decorator_list
            yield from _import_time_statements(node.body)
        else:
            yield node


def test_no_module_reads_the_environment_when_it_is_imported():
    found = []
    for path in sorted(_PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in _import_time_statements(tree.body):
            if _reads_environment(node):
                found.append(f"{path.relative_to(_PACKAGE.parent)}:{node.lineno}")
    assert found == []


def _makes_a_console(node: ast.AST) -> bool:
    return any(
        isinstance(n, ast.Call) and getattr(n.func, "id", getattr(n.func, "attr", None)) == "Console"
        for n in ast.walk(node)
    )


def test_only_the_modules_the_fork_server_imports_again_make_a_console_at_import():
    found = set()
    for path in sorted(_PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        if any(_makes_a_console(n) for n in _import_time_statements(tree.body)):
            found.add(".".join(path.relative_to(_PACKAGE.parent).with_suffix("").parts))
    assert found == {"assay.client_cli", "assay.demo"}
    assert found <= set(ASSAY_FRESH)


def test_the_check_sees_an_import_time_read():
    tree = ast.parse(
        "import os\n"
        "A = float(os.environ.get('X', '1'))\n"
        "def f(x=os.getenv('Y')):\n    return os.environ['Z']\n"
        "class C:\n    b = os.environ.get('W')\n    def g(self):\n        return os.environ['V']\n"
    )
    assert [n.lineno for n in _import_time_statements(tree.body) if _reads_environment(n)] == [2, 3, 6]


def test_heartbeat_settings_are_read_when_used(monkeypatch):
    monkeypatch.delenv("ASSAY_HEARTBEAT_SECONDS", raising=False)
    monkeypatch.delenv("ASSAY_HEARTBEAT_TIMEOUT", raising=False)
    assert (runner.heartbeat_seconds(), runner.heartbeat_timeout()) == (5.0, 20.0)
    monkeypatch.setenv("ASSAY_HEARTBEAT_SECONDS", "0.5")
    monkeypatch.setenv("ASSAY_HEARTBEAT_TIMEOUT", "3")
    assert (runner.heartbeat_seconds(), runner.heartbeat_timeout()) == (0.5, 3.0)
