"""Assay reads its settings (``ASSAY_*`` environment variables) when it runs, never when a
module is imported: a process that imported Assay before its environment was set (an
embedding application, the tests' fork server in ``tests/cli/forkserver.py``) still runs
with the settings of its environment. Only the command line's modules read the terminal's
settings at import (their Rich consoles): the fork server imports those again for each run."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

import assay
from assay.errors import SettingError
from assay.operations import runner
from tests.cli.forkserver import ASSAY_FRESH, run_assay

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


def _import_time_nodes():
    """``(module name, path, statement)`` for every import-time statement of Assay's modules."""
    for path in sorted(_PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(_PACKAGE.parent).with_suffix("").parts)
        for node in _import_time_statements(ast.parse(path.read_text(), str(path)).body):
            yield module, path, node


def test_no_module_reads_the_environment_when_it_is_imported():
    found = [
        f"{path.relative_to(_PACKAGE.parent)}:{node.lineno}"
        for _module, path, node in _import_time_nodes()
        if _reads_environment(node)
    ]
    assert found == []


def _makes_a_console(node: ast.AST) -> bool:
    return any(
        isinstance(n, ast.Call) and getattr(n.func, "id", getattr(n.func, "attr", None)) == "Console"
        for n in ast.walk(node)
    )


def test_only_the_modules_the_fork_server_imports_again_make_a_console_at_import():
    found = {module for module, _path, node in _import_time_nodes() if _makes_a_console(node)}
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


@pytest.mark.parametrize(
    "variable, value, message",
    [
        (
            "ASSAY_HEARTBEAT_SECONDS",
            "abc",
            "ASSAY_HEARTBEAT_SECONDS='abc': must be a finite number of seconds greater than 0 (default 5)",
        ),
        (
            "ASSAY_HEARTBEAT_SECONDS",
            "0",
            "ASSAY_HEARTBEAT_SECONDS='0': must be a finite number of seconds greater than 0 (default 5)",
        ),
        (
            "ASSAY_HEARTBEAT_SECONDS",
            "inf",
            "ASSAY_HEARTBEAT_SECONDS='inf': must be a finite number of seconds greater than 0 (default 5)",
        ),
        (
            "ASSAY_HEARTBEAT_TIMEOUT",
            "nan",
            "ASSAY_HEARTBEAT_TIMEOUT='nan': must be a finite number of seconds greater than 0 (default 20)",
        ),
        (
            "ASSAY_HEARTBEAT_TIMEOUT",
            "-3",
            "ASSAY_HEARTBEAT_TIMEOUT='-3': must be a finite number of seconds greater than 0 (default 20)",
        ),
        (
            "ASSAY_REAPER_INTERVAL",
            "soon",
            "ASSAY_REAPER_INTERVAL='soon': must be a finite number of seconds greater than 0 (default 5)",
        ),
        (
            "ASSAY_HEARTBEAT_TIMEOUT",
            "5",
            "ASSAY_HEARTBEAT_TIMEOUT (5 s) must be longer than ASSAY_HEARTBEAT_SECONDS (5 s): "
            "a running operation would be taken for lost between two heartbeats",
        ),
    ],
)
def test_an_unusable_heartbeat_setting_stops_a_runner_from_starting(monkeypatch, variable, value, message):
    for name in ("ASSAY_HEARTBEAT_SECONDS", "ASSAY_HEARTBEAT_TIMEOUT", "ASSAY_REAPER_INTERVAL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingError) as e:
        runner.Runner(db=None, workers=1)  # type: ignore[arg-type]  # refused before it touches the store
    assert str(e.value) == message


def test_assay_serve_and_worker_refuse_an_unusable_heartbeat_setting(tmp_path):
    env = {**os.environ, "ASSAY_DATA_DIR": str(tmp_path), "ASSAY_HEARTBEAT_SECONDS": "abc"}
    env.pop("ASSAY_DATABASE_URL", None)
    for command in (["serve", "--port", "1"], ["worker"]):
        r = run_assay(command, env=env, timeout=60)
        assert (r.returncode, r.stdout) == (1, "")
        assert r.stderr == (
            "error: ASSAY_HEARTBEAT_SECONDS='abc': must be a finite number of seconds greater than 0 (default 5)\n"
        )
