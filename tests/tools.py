"""Client tools the tests drive as subprocesses, each installed from PyPI into its own
virtualenv under ``.cache/`` because their pins clash with Assay's: the public Qualytics CLI
(conformance) and openapi-python-client (a typed client generated from ``/api/openapi.json``).

``make test`` installs them before pytest starts (``python -m tests.tools``), so the test run
neither waits for PyPI nor races two workers into one virtualenv; a test asking for a tool that
is missing installs it then (``tool_from_pypi``).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: package -> (version, executable): every tool a test runs, at the version it was tested with
TOOLS = {
    "qualytics-cli": ("1.2.2", "qualytics"),
    "openapi-python-client": ("0.29.1", "openapi-python-client"),
}


def tool_venv(package: str) -> Path:
    """The virtualenv of ``package`` at its version in ``TOOLS``: ``.cache/<package>-<version>``."""
    return ROOT / ".cache" / f"{package}-{TOOLS[package][0]}"


def _install(package: str) -> tuple[Path, str | None]:
    """Install ``package`` (idempotent); returns its executable and the error, if any."""
    version, executable = TOOLS[package]
    venv = tool_venv(package)
    exe = venv / "bin" / executable
    if exe.exists():
        return exe, None
    venv.parent.mkdir(exist_ok=True)
    with open(venv.parent / f"{package}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test workers must not install into one virtualenv
        if exe.exists():  # the other one did
            return exe, None
        return exe, _create(venv, package, version)


def _create(venv: Path, package: str, version: str) -> str | None:
    """A fresh virtualenv at ``venv`` holding ``package==version``, made with uv (a dev
    dependency: about 2 s for both tools, where pip took 30 s of CPU) or, without it, with
    venv and pip. Returns the installer's error, if any."""
    shutil.rmtree(venv, ignore_errors=True)
    uv = _uv()
    python = str(venv / "bin" / "python")
    if uv:
        # on this very interpreter, as `python -m venv` would (uv never fetches another one then)
        subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True, capture_output=True)
        install = [uv, "pip", "install", "--quiet", "--python", python]
    else:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
        install = [python, "-m", "pip", "install", "--quiet"]
    r = subprocess.run([*install, f"{package}=={version}"], capture_output=True, text=True)
    if r.returncode != 0:
        shutil.rmtree(venv, ignore_errors=True)
        return f"could not install {package} {version} from PyPI: {r.stderr.strip()[-500:]}"
    return None


def _uv() -> str | None:
    """The uv executable installed with the dev dependencies, or None."""
    try:
        from uv import find_uv_bin
    except ImportError:
        return None
    try:
        return find_uv_bin()
    except FileNotFoundError:
        return None


def tool_from_pypi(package: str) -> Path:
    """The executable of ``package`` (a key of ``TOOLS``), installed if missing. Skips the
    test when PyPI cannot be reached; fails it in CI."""
    import pytest

    exe, error = _install(package)
    if error:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(error)
        pytest.skip(error)
    return exe


def main() -> int:
    """Install every tool of ``TOOLS``. Exit status 1 in CI if one could not be installed;
    elsewhere 0 (the tests that need it skip, saying why)."""
    failed = False
    for package in TOOLS:
        exe, error = _install(package)
        print(f"test tool {package}: {error or exe.relative_to(ROOT)}")
        failed = failed or error is not None
    return 1 if failed and os.environ.get("CI", "").lower() in ("1", "true", "yes") else 0


if __name__ == "__main__":
    sys.exit(main())
