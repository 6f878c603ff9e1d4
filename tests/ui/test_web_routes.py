"""The UI's routes on the API's app (no browser): the SPA fallback, static files, the
offline docs page, and that nothing under /api is taken by them. Also: the committed
TypeScript API types match the app's OpenAPI document (they are regenerated from it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assay.api.app import create_app
from assay.config import Settings

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture
def static(tmp_path) -> Path:
    """A stand-in build: index.html, a hashed asset, the swagger assets."""
    root = tmp_path / "static"
    (root / "assets").mkdir(parents=True)
    (root / "swagger").mkdir()
    (root / "index.html").write_text("<!doctype html><title>Assay</title><div id=root></div>")
    (root / "assets" / "index-abc.js").write_text("console.log('app')")
    (root / "swagger" / "swagger-ui-bundle.js").write_text("// swagger")
    (root / "swagger" / "swagger-ui.css").write_text("/* swagger */")
    (tmp_path / "secret.txt").write_text("outside the build")
    return root


def _client(tmp_path: Path, monkeypatch, static_dir: Path) -> TestClient:
    import assay.web

    monkeypatch.setattr(assay.web, "STATIC_DIR", static_dir)
    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'meta.db'}", workers=0)
    return TestClient(create_app(settings, start_workers=False))


def test_spa_fallback_static_files_and_api_untouched(tmp_path, monkeypatch, static):
    with _client(tmp_path, monkeypatch, static) as client:
        for path in ("/", "/anomalies?status=Active", "/datastores/3", "/checks/new"):
            r = client.get(path)
            assert (r.status_code, r.headers["content-type"]) == (200, "text/html; charset=utf-8"), path
            assert "<div id=root>" in r.text
        asset = client.get("/assets/index-abc.js")
        assert asset.status_code == 200 and asset.text == "console.log('app')"
        assert "immutable" in asset.headers["cache-control"]
        assert client.get("/assets/missing.js").status_code == 404  # a missing file is not a client route
        for escape in ("/../secret.txt", "/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt"):
            assert "outside the build" not in client.get(escape).text, escape
        # /api keeps its own answers: JSON 404 for unknown paths, 405 for a wrong method, 401 without a token
        unknown = client.get("/api/no-such-thing")
        assert unknown.status_code == 404 and unknown.headers["content-type"].startswith("application/json")
        assert client.post("/api/no-such-thing").status_code == 404
        assert client.get("/api/datastores").status_code == 401
        assert client.get("/api/health").status_code == 204


def test_docs_page_uses_local_assets(tmp_path, monkeypatch, static):
    with _client(tmp_path, monkeypatch, static) as client:
        docs = client.get("/api/docs")
        assert docs.status_code == 200
        assert 'src="/swagger/swagger-ui-bundle.js"' in docs.text
        assert 'href="/swagger/swagger-ui.css"' in docs.text
        assert "cdn" not in docs.text.lower()
        assert client.get("/swagger/swagger-ui-bundle.js").text == "// swagger"
        assert "/api/docs" not in client.get("/api/openapi.json").json()["paths"]


def test_without_a_build_the_root_says_how_to_build(tmp_path, monkeypatch):
    with _client(tmp_path, monkeypatch, tmp_path / "not-built") as client:
        root = client.get("/")
        assert root.status_code == 200 and "make install" in root.text
        assert client.get("/datastores").status_code == 404
        docs = client.get("/api/docs")
        assert docs.status_code == 503 and "not built" in docs.text


def test_generated_api_types_match_the_openapi_document(tmp_path):
    """ui/src/api/schema.d.ts is what openapi-typescript makes of /api/openapi.json today;
    after an API change run `npm run gen:api` in ui/ and commit the result. The script's
    throwaway data directory (under TMPDIR) is gone when it ends."""
    node = shutil.which("node")
    if node is None or not (ROOT / "ui" / "node_modules" / "openapi-typescript").is_dir():
        message = "Node.js and ui/node_modules (cd ui && npm ci) are needed to regenerate the API types"
        if IN_CI:
            pytest.fail(f"{message} — in CI every test must run")
        pytest.skip(message)
    r = subprocess.run(
        [node, "scripts/gen-api.mjs", "--check"],
        cwd=ROOT / "ui",
        env={
            **{k: v for k, v in os.environ.items() if k != "ASSAY_DATA_DIR"},
            "PYTHON": sys.executable,
            "TMPDIR": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == "src/api/schema.d.ts matches the API\n"
    assert list(tmp_path.iterdir()) == []
