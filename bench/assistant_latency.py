"""Assistant latency: POST /api/v1/assistant/chat in offline mode, one question per intent, for one client with
N campaigns over five platforms and three currencies (the dashboard benchmark's data set, reused), through the
local gateway (authorizer, handler, Postgres). The what-if question runs the budget optimizer's response curves
and forecast draws, so it is the slowest; every answer must stay inside API Gateway's 29 s.

Run by hand: .venv/bin/python bench/assistant_latency.py --campaigns 200 --days 200 --requests 5
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

QUESTIONS = {
    "why_kpi_changed": "Why did CPA rise last week?",
    "how_is_it_doing": "How is the account doing over the last 30 days?",
    "rank_campaigns": "Which campaign has the best ROAS?",
    "pacing": "Are we on pace this month?",
    "forecast_month_end": "Forecast to month end",
    "what_if": "What if we move 20% from Meta to Google?",
}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--campaigns", type=int, default=200)
    parser.add_argument("--days", type=int, default=200)
    parser.add_argument("--requests", type=int, default=5)
    args = parser.parse_args()

    from starlette.testclient import TestClient

    from infra.local.gateway import create_app
    from infra.local.stack import LocalStack

    local_dir = Path(tempfile.mkdtemp(prefix="bench-assistant-"))
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
        with TestClient(create_app(gw)) as client:
            client.post(
                "/api/v1/assistant/chat",
                json={"client_id": cid, "message": "Are we on pace?"},
                headers=headers,
            )
            for intent, question in QUESTIONS.items():
                lat = []
                for _ in range(args.requests):
                    t0 = time.perf_counter()
                    r = client.post(
                        "/api/v1/assistant/chat",
                        json={"client_id": cid, "message": question},
                        headers=headers,
                    )
                    lat.append((time.perf_counter() - t0) * 1000)
                    assert r.status_code == 200, r.text
                    answer = r.json()["chat"]["answer"]
                    assert answer["intent"] == intent, answer
                out[intent] = {
                    **summary_ms(lat),
                    "citations": len(answer["citations"]),
                    "tool_ok": all(c["ok"] for c in answer["tool_calls"]),
                }
    finally:
        stack.stop()
        shutil.rmtree(local_dir, ignore_errors=True)
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
