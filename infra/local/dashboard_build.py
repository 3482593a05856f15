"""Build dashboard/dist when it is missing or older than its sources (`make run`, `make test`).

`npm ci` runs from the committed lock file when node_modules is missing or older than the lock file; then
`vite build`. Without npm the build is skipped with a message saying so (the gateway then serves a plain page
that links the API docs)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "dashboard"
DIST_INDEX = DASHBOARD / "dist" / "index.html"
SOURCES = ("index.html", "package.json", "package-lock.json", "vite.config.js", "src", "public")


def newest_source(dashboard: Path = DASHBOARD) -> float:
    newest = 0.0
    for name in SOURCES:
        path = dashboard / name
        if path.is_file():
            newest = max(newest, path.stat().st_mtime)
        elif path.is_dir():
            newest = max([newest, *(p.stat().st_mtime for p in path.rglob("*") if p.is_file())])
    return newest


def is_stale(dashboard: Path = DASHBOARD) -> bool:
    index = dashboard / "dist" / "index.html"
    return not index.is_file() or index.stat().st_mtime < newest_source(dashboard)


def ensure_built(dashboard: Path = DASHBOARD, *, log=print) -> bool:
    """True when dist is current (built now or already); False when it could not be built."""
    if not is_stale(dashboard):
        return True
    npm = shutil.which("npm")
    if npm is None:
        log(
            "dashboard: npm is not installed, so dashboard/dist is not built; the gateway serves the API and its "
            "docs only. Install Node.js 20+ (with npm) and run `make dashboard`."
        )
        return False
    lock_marker = dashboard / "node_modules" / ".package-lock.json"
    lock = dashboard / "package-lock.json"
    if not lock_marker.is_file() or lock_marker.stat().st_mtime < lock.stat().st_mtime:
        log("dashboard: npm ci (from package-lock.json)")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=dashboard, check=True)
    log("dashboard: vite build -> dashboard/dist")
    subprocess.run([npm, "run", "--silent", "build", "--", "--logLevel", "warn"], cwd=dashboard, check=True)
    return True


if __name__ == "__main__":
    ok = ensure_built()
    # A missing npm is not a failure of `make run`; for the browser tests it is (they need the site).
    sys.exit(0 if ok or "--optional" in sys.argv else 1)
