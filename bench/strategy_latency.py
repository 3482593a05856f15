"""Strategy generation latency (issue 5 goal: p95 < 1 s through the local gateway with the offline writer).

Starts the local stack in process on a throwaway directory, creates one tenant with an owner API key and two USD
retail clients: one with no history (benchmark priors) and one with 365 days of daily metrics on Google and Meta
(fitted curves; the first request fits and caches them in ``fitted_models``, later ones reuse the cache). Then it
POSTs the brief's "Campaign Strategy Generation" example body sequentially through the local gateway (authorizer
+ handler + Postgres, in-process Starlette TestClient), interleaving an anchor request (``GET /api/v1/tenant``) so
both are measured under the same conditions. Also measures ``POST /api/v1/budget/optimize`` for the client with
history. Every generate request stores a new strategy version (as in production).

Run by hand: .venv/bin/python bench/strategy_latency.py --requests 100
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "shared")]

from timing import cpu_model, summary_ms  # noqa: E402 - bench/ sits beside this script

BRIEF = {
    "campaign_name": "Holiday Sale Campaign",
    "objective": "sales_conversion",
    "target_audience": {
        "demographics": {"age_range": "25-54", "gender": "mixed"},
        "interests": ["shopping", "fashion", "deals"],
        "behaviors": ["online_purchaser", "brand_conscious"],
    },
    "budget": 15000.00,
    "duration_days": 45,
    "platforms": ["google_ads", "meta_ads", "email"],
    "campaign_type": "search",
    "kpis": ["conversions", "roas", "revenue"],
}


def seed(stack: Any, days: int, today: dt.date) -> dict[str, Any]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.orm import Session

    from strategist.adapters import crypto
    from strategist.adapters.db.metrics_store import MetricRow, upsert_metrics
    from strategist.adapters.db.models import ApiKey, Campaign, Client, Tenant
    from strategist.bootstrap import system_unit_of_work
    from strategist.services import fx

    tid, bare, rich = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    key = crypto.new_api_key()
    engine = create_engine(stack.owner_url())
    with Session(engine) as s, s.begin():
        fx.load_packaged_rates(s)
    with Session(engine) as s, s.begin():
        s.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tid)})
        s.add(Tenant(id=tid, name="bench agency"))
        s.flush()
        for cid, name in ((bare, "No history"), (rich, "With history")):
            s.add(
                Client(
                    id=cid,
                    tenant_id=tid,
                    name=name,
                    industry="retail",
                    currency="USD",
                    reporting_timezone="UTC",
                    kpis=["roas"],
                    goals={"roas": 3},
                )
            )
        s.add(
            ApiKey(
                tenant_id=tid,
                name="bench owner key",
                prefix=key.prefix,
                key_hash=key.key_hash,
                role="owner",
                scopes=["admin", "read", "write"],
            )
        )
    rng = random.Random(20261126)
    with system_unit_of_work("bench") as uow:
        uow.set_tenant(tid)
        rows = []
        for p, cpm, ctr, cvr, aov in (
            ("google_ads", 30.0, 0.05, 0.04, 90.0),
            ("meta_ads", 12.0, 0.012, 0.03, 80.0),
        ):
            for n in range(3):
                camp = Campaign(
                    id=uuid.uuid4(),
                    tenant_id=tid,
                    client_id=rich,
                    platform=p,
                    external_id=f"{p}-{n}",
                    name=f"{p} {n}",
                    status="active",
                    currency="USD",
                )
                uow.session.add(camp)
                uow.session.flush()
                for d in range(days, 0, -1):
                    spend = 150 * rng.uniform(0.5, 1.5)
                    imp = int(spend / cpm * 1000)
                    clicks = int(imp * ctr * rng.uniform(0.9, 1.1))
                    conv = round(clicks * cvr * rng.uniform(0.8, 1.2), 2)
                    rows.append(
                        MetricRow(
                            campaign_id=camp.id,
                            date=today - dt.timedelta(days=d),
                            currency="USD",
                            cost=Decimal(str(round(spend, 2))),
                            impressions=imp,
                            clicks=clicks,
                            conversions=Decimal(str(conv)),
                            conversion_value=Decimal(str(round(conv * aov, 2))),
                            time_zone="UTC",
                            attribution_window="google_ads_default",
                            source="bench",
                        )
                    )
        written = upsert_metrics(uow.session, tid, rows)
    engine.dispose()
    return {"tenant_id": tid, "bare": bare, "rich": rich, "key": key.plaintext, "metric_rows": written}


def measure(client: Any, path: str, body: dict, headers: dict, n: int, anchor: list[float]) -> dict[str, Any]:
    lat: list[float] = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = client.post(path, json=body, headers=headers)
        lat.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 201, r.text[:500]
        t0 = time.perf_counter()
        a = client.get("/api/v1/tenant", headers=headers)
        anchor.append((time.perf_counter() - t0) * 1000)
        assert a.status_code == 200, a.text[:500]
    return {
        "path": path,
        "requests": n,
        **summary_ms(lat),
        "bytes": len(r.content),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--requests", type=int, default=100)
    p.add_argument("--days", type=int, default=365)
    args = p.parse_args()

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    runtime = f"/tmp/ms-runtime-{os.getuid()}"
    os.makedirs(runtime, mode=0o700, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", runtime)
    import logging

    logging.disable(logging.WARNING)
    from starlette.testclient import TestClient

    from infra.local.gateway import create_app
    from infra.local.stack import LocalStack

    local_dir = Path(tempfile.mkdtemp(prefix="ms-bench-strategy-"))
    stack = LocalStack(local_dir=local_dir)
    stack.start(background=False)
    try:
        today = dt.datetime.now(dt.UTC).date()
        data = seed(stack, args.days, today)
        gw = stack.gateway()
        gw.bucket.rate = gw.bucket.burst = 100_000
        headers = {"Authorization": f"Bearer {data['key']}"}
        url = "/api/v1/strategy/generate"
        bare = {**BRIEF, "tenant_id": str(data["tenant_id"]), "client_id": str(data["bare"])}
        rich = {**bare, "client_id": str(data["rich"])}
        budget = {"client_id": str(data["rich"]), "total_budget": 30000}
        with TestClient(create_app(gw)) as client:
            t0 = time.perf_counter()
            first = client.post(url, json=rich, headers=headers)
            first_ms = (time.perf_counter() - t0) * 1000  # fits and caches the history curves
            assert first.status_code == 201, first.text[:500]
            roi = first.json()["strategy"]["estimated_roi"]
            for _ in range(5):  # warm: imports, pool, pydantic builds
                client.post(url, json=bare, headers=headers)
                client.get("/api/v1/tenant", headers=headers)
            anchor: list[float] = []
            runs = [
                {
                    "case": "no history (benchmark priors)",
                    **measure(client, url, bare, headers, args.requests, anchor),
                },
                {
                    "case": "history, cached fits",
                    **measure(client, url, rich, headers, args.requests, anchor),
                },
                {
                    "case": "budget optimize (history)",
                    **measure(
                        client,
                        "/api/v1/budget/optimize",
                        budget,
                        headers,
                        max(20, args.requests // 2),
                        anchor,
                    ),
                },
            ]
        result = {
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "nproc": os.cpu_count(),
            "cpu": cpu_model(),
            "python": platform.python_version(),
            "metric_rows": data["metric_rows"],
            "first_request_with_fit_ms": round(first_ms, 1),
            "example_estimated_roi": f"{roi}x",
            "runs": runs,
            "anchor": {
                "path": "/api/v1/tenant",
                "requests": len(anchor),
                **{k: v for k, v in summary_ms(anchor).items() if k in {"p50_ms", "p95_ms", "p99_ms"}},
            },
        }
        print(json.dumps(result, indent=2, default=str))
    finally:
        stack.stop()
        shutil.rmtree(local_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
