"""Report generation latency: POST /api/v1/reports/generate rendered inline (dashboard figures, movers, drivers,
recommendations, three SVG charts, HTML -> PDF with WeasyPrint, two S3 puts to moto) for one client with
N campaigns over five platforms and three currencies (the dashboard benchmark's data set, reused).

It decides the inline/queued split documented in strategist.services.reports.service: inline must stay well
inside API Gateway's 29 s for every period it accepts (up to 92 days).

Run by hand: .venv/bin/python bench/report_generate.py --campaigns 200 --days 400 --requests 10
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "shared"), str(ROOT / "bench")]

from dashboard_latency import seed  # noqa: E402 - bench/ sits beside this script
from timing import cpu_model, summary_ms  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--campaigns", type=int, default=200)
    parser.add_argument("--days", type=int, default=400)
    parser.add_argument("--requests", type=int, default=10)
    args = parser.parse_args()

    from starlette.testclient import TestClient

    from infra.local.gateway import create_app
    from infra.local.stack import LocalStack

    local_dir = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    stack = LocalStack(local_dir=local_dir)
    stack.start(background=False)
    out: dict[str, Any] = {"cpu": cpu_model(), "date": dt.datetime.now(dt.UTC).isoformat(timespec="minutes")}
    try:
        today = dt.datetime.now(dt.UTC).date()
        data = seed(stack, args.campaigns, args.days, today)
        out["metric_rows"] = data["metric_rows"]
        gw = stack.gateway()
        gw.bucket.rate = gw.bucket.burst = 100_000
        headers = {"Authorization": f"Bearer {data['key']}"}
        cid = str(data["client_id"])
        periods = {
            "last_week": {"period": "last_week"},
            "last_month": {"period": "last_month"},
            "92 days": {
                "start": (today - dt.timedelta(days=92)).isoformat(),
                "end": (today - dt.timedelta(days=1)).isoformat(),
            },
        }
        with TestClient(create_app(gw)) as client:
            client.post(
                "/api/v1/reports/generate", json={"client_id": cid, "period": "last_week"}, headers=headers
            )
            for name, body in periods.items():
                lat, render, pages, size = [], [], 0, 0
                for _ in range(args.requests):
                    t0 = time.perf_counter()
                    r = client.post(
                        "/api/v1/reports/generate", json={"client_id": cid, **body}, headers=headers
                    )
                    lat.append((time.perf_counter() - t0) * 1000)
                    assert r.status_code == 201, r.text
                    rep = r.json()["report"]
                    render.append(float(rep["render_ms"]))
                    pages, size = rep["pdf_pages"], rep["pdf_bytes"]
                out[name] = {
                    "request": summary_ms(lat),
                    "render_html_pdf": summary_ms(render),
                    "pdf_pages": pages,
                    "pdf_bytes": size,
                }
    finally:
        stack.stop()
        shutil.rmtree(local_dir, ignore_errors=True)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
