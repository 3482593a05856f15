"""Dashboard latency (issue 3 goal: p95 < 150 ms for a client with 200 campaigns x 2 years).

Starts the local stack in process (embedded Postgres migrated, moto, the functions' environment) on a throwaway
directory, loads the ECB rates, and gives one client 200 campaigns x 730 days of daily totals through the real
bulk path (``upsert_metrics``), plus device breakdown rows for a fifth of the campaigns (which the dashboard must
skip). Campaigns are spread over five platforms and three currencies (USD 70 %, EUR 20 %, GBP 10 %) so the
dated-FX path is exercised. Then it calls the endpoint sequentially through the local gateway (authorizer +
handler + Postgres, in-process Starlette TestClient, an owner API key), interleaving an anchor request
(``GET /api/v1/tenant``, same authorizer and a one-row read) so the two are measured under the same conditions.

Run by hand: .venv/bin/python bench/dashboard_latency.py --requests 200
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

PLATFORMS = (
    ("google_ads", "America/New_York", "google_ads_default"),
    ("meta_ads", "America/New_York", "7d_click_1d_view"),
    ("linkedin_ads", "UTC", "linkedin_default"),
    ("tiktok_ads", "America/New_York", "tiktok_default"),
    ("youtube_ads", "America/New_York", "google_ads_default"),
)


def seed(stack: Any, campaigns: int, days: int, today: dt.date) -> dict[str, Any]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.orm import Session

    from strategist.adapters import crypto
    from strategist.adapters.db.metrics_store import MetricRow, upsert_metrics
    from strategist.adapters.db.models import ApiKey, Client, Tenant
    from strategist.bootstrap import system_unit_of_work
    from strategist.services import fx

    tid, cid = uuid.uuid4(), uuid.uuid4()
    key = crypto.new_api_key()
    engine = create_engine(stack.owner_url())
    t0 = time.perf_counter()
    with Session(engine) as s, s.begin():
        fx_rows = fx.load_packaged_rates(s)
    fx_s = time.perf_counter() - t0
    rng = random.Random(20261126)
    camp_ids: list[tuple[uuid.UUID, str, str, str, str]] = []
    with Session(engine) as s, s.begin():
        s.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tid)})
        s.add(Tenant(id=tid, name="bench agency"))
        s.flush()
        s.add(
            Client(
                id=cid,
                tenant_id=tid,
                name="Bench client",
                industry="retail",
                currency="USD",
                reporting_timezone="America/New_York",
                kpis=["roas"],
                goals={},
                monthly_budget=Decimal("250000.00"),
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
        s.flush()
        conns = {}
        for platform_name, tz, _ in PLATFORMS:
            conn = uuid.uuid4()
            conns[platform_name] = conn
            s.execute(
                text(
                    "INSERT INTO platform_connections (id, tenant_id, client_id, platform, account_id, name, "
                    "credentials, time_zone, data_as_of, data_through, last_sync_at) VALUES (:id, :t, :c, :p, "
                    ":a, :n, '{}', :tz, now(), :through, now())"
                ),
                {
                    "id": conn,
                    "t": tid,
                    "c": cid,
                    "p": platform_name,
                    "a": f"acct-{platform_name}",
                    "n": platform_name,
                    "tz": tz,
                    "through": today - dt.timedelta(days=1),
                },
            )
        for i in range(campaigns):
            platform_name, tz, window = PLATFORMS[i % len(PLATFORMS)]
            currency = "USD" if i % 10 < 7 else ("EUR" if i % 10 < 9 else "GBP")
            camp = uuid.uuid4()
            s.execute(
                text(
                    "INSERT INTO campaigns (id, tenant_id, client_id, connection_id, platform, external_id, name, "
                    "currency, time_zone) VALUES (:id, :t, :c, :conn, :p, :x, :n, :cur, :tz)"
                ),
                {
                    "id": camp,
                    "t": tid,
                    "c": cid,
                    "conn": conns[platform_name],
                    "p": platform_name,
                    "x": str(i),
                    "n": f"Campaign {i:03d}",
                    "cur": currency,
                    "tz": tz,
                },
            )
            camp_ids.append((camp, platform_name, tz, window, currency))
    t0 = time.perf_counter()
    written = 0
    first = today - dt.timedelta(days=days)
    with system_unit_of_work("bench") as uow:
        uow.set_tenant(tid)
        for n, (camp, _, tz, window, currency) in enumerate(camp_ids):
            base = rng.uniform(20, 400)
            rows = []
            for d in range(days):
                day = first + dt.timedelta(days=d)
                cost = Decimal(str(round(base * rng.uniform(0.6, 1.4), 2)))
                imp = int(float(cost) * rng.uniform(60, 140))
                clicks = int(imp * rng.uniform(0.005, 0.03))
                conv = Decimal(str(round(clicks * rng.uniform(0.01, 0.08), 2)))
                value = Decimal(str(round(float(conv) * rng.uniform(30, 90), 2)))
                common = {
                    "campaign_id": camp,
                    "date": day,
                    "currency": currency,
                    "time_zone": tz,
                    "attribution_window": window,
                    "source": "bench",
                }
                rows.append(
                    MetricRow(
                        **common,
                        cost=cost,
                        impressions=imp,
                        clicks=clicks,
                        conversions=conv,
                        conversion_value=value,
                    )
                )
                if n % 5 == 0:  # device breakdown rows that must never be added to the totals
                    half = (cost / 2).quantize(Decimal("0.01"))
                    for device, part in (("device:mobile", half), ("device:desktop", cost - half)):
                        rows.append(
                            MetricRow(
                                **common,
                                cost=part,
                                impressions=imp // 2,
                                clicks=clicks // 2,
                                conversions=conv / 2,
                                conversion_value=value / 2,
                                breakdown=device,
                            )
                        )
            written += upsert_metrics(uow.session, tid, rows)
    load_s = time.perf_counter() - t0
    with engine.begin() as conn:
        conn.execute(text("ANALYZE campaign_metrics; ANALYZE campaigns; ANALYZE fx_rates"))
    engine.dispose()
    return {
        "tenant_id": tid,
        "client_id": cid,
        "key": key.plaintext,
        "metric_rows": written,
        "load_s": round(load_s, 1),
        "fx_rows": fx_rows,
        "fx_s": round(fx_s, 1),
    }


def measure(
    client: Any, path: str, params: dict[str, str], headers: dict[str, str], n: int, anchor: list[float]
) -> dict[str, Any]:
    lat: list[float] = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = client.get(path, params=params, headers=headers)
        lat.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, r.text[:500]
        t0 = time.perf_counter()
        a = client.get("/api/v1/tenant", headers=headers)
        anchor.append((time.perf_counter() - t0) * 1000)
        assert a.status_code == 200, a.text[:500]
    return {
        "params": params,
        "requests": n,
        **summary_ms(lat),
        "bytes": len(r.content),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--campaigns", type=int, default=200)
    p.add_argument("--days", type=int, default=730)
    p.add_argument("--requests", type=int, default=200)
    p.add_argument("--extra-requests", type=int, default=50, help="for the wider ranges")
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

    local_dir = Path(tempfile.mkdtemp(prefix="ms-bench-dash-"))
    stack = LocalStack(local_dir=local_dir)
    stack.start(background=False)
    try:
        today = dt.datetime.now(dt.UTC).date()
        data = seed(stack, args.campaigns, args.days, today)
        gw = stack.gateway()
        gw.bucket.rate = gw.bucket.burst = 100_000  # the usage-plan throttle would bite a tight loop
        headers = {"Authorization": f"Bearer {data['key']}"}
        cid = str(data["client_id"])
        two_years = {
            "start": (today - dt.timedelta(days=args.days)).isoformat(),
            "end": (today - dt.timedelta(days=1)).isoformat(),
            "compare": "none",
        }
        with TestClient(create_app(gw)) as client:
            for _ in range(10):  # warm: function import, pool, pydantic builds, Postgres caches
                client.get("/api/v1/analytics/dashboard", params={"client_id": cid}, headers=headers)
                client.get("/api/v1/tenant", headers=headers)
            anchor: list[float] = []
            runs = [
                measure(
                    client, "/api/v1/analytics/dashboard", {"client_id": cid}, headers, args.requests, anchor
                )
            ]
            for params in (
                {"client_id": cid, "date_range": "90d"},
                {"client_id": cid, "date_range": "ytd", "compare": "previous_year"},
                {"client_id": cid, **two_years},
            ):
                runs.append(
                    measure(
                        client, "/api/v1/analytics/dashboard", params, headers, args.extra_requests, anchor
                    )
                )
        result = {
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "nproc": os.cpu_count(),
            "cpu": cpu_model(),
            "python": platform.python_version(),
            "seed": {k: v for k, v in data.items() if k in {"metric_rows", "load_s", "fx_rows", "fx_s"}},
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
