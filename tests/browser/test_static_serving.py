"""How the local gateway serves the built dashboard: index.html for the app's own paths (never cached), hashed
assets cached for good, the manifest and service worker by name, and the API's JSON answers left alone."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from infra.local import dashboard_build

pytestmark = pytest.mark.stack
HTML = {"Accept": "text/html,application/xhtml+xml"}


def test_app_paths_answer_index_html_uncached(api: Any, dashboard_built: Path) -> None:
    for path in ("/", "/signin", "/clients/5b8c0a55-7a5e-4a4e-9d44-3a3b7b0f5e11", "/strategy"):
        r = api.get(path, headers=HTML)
        assert r.status_code == 200, path
        assert r.headers["content-type"].startswith("text/html")
        assert "no-cache" in r.headers["cache-control"]
        assert "<div x-data x-cloak>" in r.text


def test_api_and_unknown_paths_keep_the_json_envelope(api: Any, dashboard_built: Path) -> None:
    r = api.get("/api/v1/nothing-here", headers=HTML)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = api.get("/strategy")  # not a browser navigation (no text/html): the API's 404
    assert r.status_code == 404 and r.json()["success"] is False
    r = api.post("/signin", json={}, headers=HTML)
    assert r.status_code == 404
    r = api.get("/health", headers=HTML)
    assert r.headers["content-type"].startswith("application/json")


def test_assets_manifest_and_service_worker(api: Any, dashboard_built: Path) -> None:
    assets = sorted((dashboard_built.parent / "assets").iterdir())
    js = next(a for a in assets if a.suffix == ".js")
    r = api.get(f"/assets/{js.name}")
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0] in ("text/javascript", "application/javascript")
    assert "immutable" in r.headers["cache-control"]
    r = api.get("/manifest.webmanifest")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/manifest+json")
    assert r.json()["start_url"] == "/"
    r = api.get("/sw.js")
    assert r.status_code == 200 and "no-cache" in r.headers["cache-control"]
    assert "/api/" in r.text  # the worker names the data paths it never caches
    assert api.get("/assets/missing.js").status_code == 404


def test_build_is_stale_when_a_source_is_newer(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    source = tmp_path / "src" / "main.js"
    source.write_text("x")
    assert dashboard_build.is_stale(tmp_path)  # no dist at all
    (tmp_path / "dist").mkdir()
    index = tmp_path / "dist" / "index.html"
    index.write_text("<html>")
    now = time.time()
    os.utime(source, (now - 100, now - 100))
    os.utime(index, (now - 50, now - 50))
    assert not dashboard_build.is_stale(tmp_path)
    os.utime(source, (now, now))
    assert dashboard_build.is_stale(tmp_path)


def test_without_npm_the_build_is_skipped_with_a_message(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(dashboard_build.shutil, "which", lambda _: None)
    (tmp_path / "index.html").write_text("x")
    messages: list[str] = []
    assert dashboard_build.ensure_built(tmp_path, log=messages.append) is False
    assert "npm is not installed" in messages[0]
