"""The dashboard's weight and first paint: gzip sizes of the built files, and Chromium's paint timing for the
sign-in page (cold cache, no service worker yet) and the time until the agency overview shows its table after
signing in, on a fresh `make run`-like stack with demo data. Each measured in a new browser context (cold HTTP
cache), N times; also with the CPU throttled 4x (Chrome DevTools' mid-range-phone setting).

    .venv/bin/python bench/dashboard_web.py [--runs 15]"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "dashboard"))
sys.path.insert(0, str(ROOT))

from devstack import CHROMIUM, CHROMIUM_FLAGS, running_stack  # noqa: E402

from bench.timing import cpu_model, pct  # noqa: E402
from infra.local.dashboard_build import ensure_built  # noqa: E402

DIST = ROOT / "dashboard" / "dist"

PAINT_JS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const paints = Object.fromEntries(performance.getEntriesByType('paint').map((p) => [p.name, p.startTime]));
  return {first_paint: paints['first-paint'], first_contentful_paint: paints['first-contentful-paint'],
          dom_content_loaded: nav.domContentLoadedEventEnd, load: nav.loadEventEnd,
          transfer_bytes: performance.getEntriesByType('resource').reduce((s, r) => s + r.transferSize, 0)
                          + nav.transferSize};
}"""


def sizes() -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for path in sorted(DIST.rglob("*")):
        if path.is_file() and path.suffix in (".js", ".css", ".html", ".webmanifest"):
            raw = path.read_bytes()
            out[path.relative_to(DIST).as_posix()] = {
                "bytes": len(raw),
                "gzip_bytes": len(gzip.compress(raw, compresslevel=9, mtime=0)),
            }
    return out


def measure(browser, base: str, demo: dict, runs: int, throttle: float) -> dict[str, list[float]]:
    owner = demo["tenants"][0]["owner"]
    result: dict[str, list[float]] = {
        "first_paint": [],
        "first_contentful_paint": [],
        "load": [],
        "overview": [],
    }
    for _ in range(runs):
        context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 860})
        page = context.new_page()
        if throttle > 1:
            cdp = context.new_cdp_session(page)
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": throttle})
        page.goto("/signin", wait_until="load")
        # First contentful paint can be recorded after the load event (the app renders once its module runs).
        page.wait_for_function(
            "performance.getEntriesByType('paint').some((p) => p.name === 'first-contentful-paint')",
            timeout=10_000,
        )
        timing = page.evaluate(PAINT_JS)
        for key in ("first_paint", "first_contentful_paint", "load"):
            result[key].append(timing[key])
        page.get_by_label("E-mail").fill(owner["email"])
        page.get_by_label("Password").fill(owner["password"])
        started = time.perf_counter()
        page.get_by_role("button", name="Sign in").click()
        page.get_by_test_id("overview-table").locator("tbody tr").first.wait_for(timeout=60_000)
        result["overview"].append((time.perf_counter() - started) * 1000)
        context.close()
    return result


def main(argv: list[str] | None = None) -> int:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)
    ensure_built()
    built = sizes()
    report: dict = {"cpu": cpu_model(), "files": built}
    with running_stack() as (base, demo), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        measure(browser, base, demo, 2, 1)  # warm the functions (Lambda init) and the page cache of the OS
        for throttle in (1, 4):
            data = measure(browser, base, demo, args.runs, throttle)
            report[f"cpu_x{throttle:g}"] = {
                k: {
                    "p50_ms": round(pct(ok, 0.5), 1),
                    "p90_ms": round(pct(ok, 0.9), 1),
                    "runs": len(ok),
                }
                for k, v in data.items()
                if (ok := [x for x in v if x is not None])
            }
        browser.close()
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
