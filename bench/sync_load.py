"""Sync load: 100 ad-platform connections created at once against the simulated platforms (25 each of Google,
Meta, LinkedIn, TikTok; 3 campaigns, 90 days of history each), through the API (each connect queues its backfill
on the sync queue) and drained by the local SQS event-source mapping into the real sync worker. Reports the time
from the first connect to the last completed backfill, metric rows per second, sync runs and failures, and what
the simulator served against what was stored.

Starts its own stack (python -m infra.local.run) on a free port with a throwaway data directory. The poller runs
POLLER_CONCURRENCY threads per queue (the stand-in for Lambda's concurrent invocations; the template caps the sync
event source at MaximumConcurrency 50). Everything shares the machine's cores.

Run by hand:  .venv/bin/python bench/sync_load.py --connections 100 --poller-concurrency 8
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import signal
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from load import make_keys, start_stack  # noqa: E402

from tests.integration.test_sync import CREDS  # noqa: E402

PLATFORMS = ("google_ads", "meta_ads", "linkedin_ads", "tiktok_ads")
ACCOUNT_BASE = {"google_ads": 6_100_000_000, "meta_ads": 610_000_000_000_000, "linkedin_ads": 610_000_000,
                "tiktok_ads": 7_610_000_000_000_000_000}  # fmt: skip


def _accounts(n: int, days: int) -> list[dict[str, Any]]:
    run = uuid.uuid4().int % 10_000
    out = []
    for i in range(n):
        plat = PLATFORMS[i % len(PLATFORMS)]
        account = str(ACCOUNT_BASE[plat] + run * 1000 + i)
        out.append({
            "platform": plat, "account_id": account, "name": f"Load {plat} {i}", "currency": "USD",
            "time_zone": "America/New_York", "history_days": days,
            "campaigns": [{"id": f"{account[-6:]}{c}", "name": f"Campaign {c}", "budget": str(40 + 10 * c)}
                          for c in range(3)],
        })  # fmt: skip
    return out


async def _connect_all(
    base: str, keys: list[str], clients: list[str], accounts: list[dict], days: int
) -> list:
    async def one(i: int, acct: dict) -> tuple[int, str | None]:
        body = {"platform": acct["platform"], "credentials": CREDS[acct["platform"]](acct["account_id"]),
                "backfill_days": days}  # fmt: skip
        url = f"/api/v1/clients/{clients[i % len(clients)]}/connections"
        async with httpx.AsyncClient(base_url=base, timeout=120) as c:
            r = await c.post(url, json=body, headers={"Authorization": f"Bearer {keys[i]}"})
        return r.status_code, (r.json()["data"]["id"] if r.status_code == 201 else r.text[:200])

    return await asyncio.gather(*(one(i, a) for i, a in enumerate(accounts)))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--connections", type=int, default=100)
    p.add_argument("--days", type=int, default=90)
    p.add_argument("--poller-concurrency", type=int, default=8)
    p.add_argument("--timeout", type=float, default=900)
    args = p.parse_args()
    os.environ["POLLER_CONCURRENCY"] = str(args.poller_concurrency)
    proc, base, local = start_stack()
    try:
        demo = json.loads((local / "demo.json").read_text())
        tenant = demo["tenants"][0]
        health = httpx.get(f"{base}/health", timeout=10).json()
        sim = json.dumps(health)
        sim_url = sim.split('"platform_simulator"')[1].split('"url": "')[1].split('"')[0]
        host, port, _su, owner_pw, _app = (local / "pg" / "pg-credentials").read_text().split()
        engine = create_engine(f"postgresql+pg8000://strategist_owner:{owner_pw}@{host}:{port}/strategist")
        keys = make_keys(base, tenant["owner"]["api_key"], args.connections)
        accounts = _accounts(args.connections, args.days)
        httpx.post(f"{sim_url}/_sim/accounts", json={"accounts": accounts}, timeout=60).raise_for_status()

        t0 = time.perf_counter()
        made = asyncio.run(_connect_all(base, keys, tenant["client_ids"], accounts, args.days))
        connect_s = time.perf_counter() - t0
        ids = [cid for code, cid in made if code == 201]
        refused = [(code, msg) for code, msg in made if code != 201]
        done_at = None
        with engine.connect() as conn:
            while time.perf_counter() - t0 < args.timeout:
                row = conn.execute(
                    text(
                        "SELECT count(*) FILTER (WHERE (backfill->>'complete')::boolean), "
                        "count(*) FILTER (WHERE status <> 'active') FROM platform_connections "
                        "WHERE id = ANY(CAST(:ids AS uuid[]))"
                    ),
                    {"ids": ids},
                ).one()
                conn.rollback()
                if row[0] + row[1] >= len(ids):
                    done_at = time.perf_counter() - t0
                    break
                time.sleep(0.5)
            runs = conn.execute(
                text(
                    "SELECT status, count(*), coalesce(sum(rows_upserted), 0), min(started_at), max(finished_at) "
                    "FROM sync_runs WHERE connection_id = ANY(CAST(:ids AS uuid[])) GROUP BY status"
                ),
                {"ids": ids},
            ).all()
            stored = conn.execute(
                text(
                    "SELECT count(*) FROM campaign_metrics m JOIN campaigns c ON c.id = m.campaign_id "
                    "WHERE c.connection_id = ANY(CAST(:ids AS uuid[]))"
                ),
                {"ids": ids},
            ).scalar_one()
        served = 0
        yesterday = None
        for acct in accounts:
            for camp in acct["campaigns"]:
                truth = httpx.get(f"{sim_url}/_sim/truth", params={
                    "platform": acct["platform"], "account_id": acct["account_id"], "campaign_id": camp["id"],
                    "start": (dt.date.today() - dt.timedelta(days=args.days + 2)).isoformat(),
                }).json()  # fmt: skip
                served += sum(1 for d in truth["days"] if d["served"])
                yesterday = truth["days"][-1]["date"] if truth["days"] else yesterday
        by_status = {s: {"runs": n, "rows": int(r)} for s, n, r, _a, _b in runs}
        rows = sum(v["rows"] for v in by_status.values())
        result = {
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}",
            "connections_requested": args.connections,
            "connections_created": len(ids),
            "refused": refused[:5],
            "history_days": args.days,
            "poller_concurrency": args.poller_concurrency,
            "connect_all_s": round(connect_s, 2),
            "time_to_drain_s": round(done_at, 1) if done_at else None,
            "sync_runs": by_status,
            "rows_upserted": rows,
            "rows_per_s": round(rows / done_at, 1) if done_at else None,
            "metric_rows_stored": stored,
            "days_served_by_simulator": served,
        }
        print(json.dumps(result, indent=2, default=str))
        engine.dispose()
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
