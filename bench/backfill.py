"""Backfill of N campaigns x D days from the simulated ad-platform server through the real connectors and the
sync worker's code path (decrypt credentials, fetch per 90-day chunk, upsert campaigns and metrics, record the
run), as the SQS worker would run it. The simulator runs in its own process, as a remote platform would.

Reports wall time, rows per second and peak memory (this process's max RSS) for a sequential run, and for
--workers N processes splitting the chunks (what parallel Lambdas do on AWS).

Run by hand: python bench/backfill.py --campaigns 1000 --days 730 --workers 2"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp())
ROOT = Path(__file__).resolve().parents[1]
PLATFORMS = ("google_ads", "meta_ads", "linkedin_ads", "tiktok_ads")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spec(campaigns: int, days: int) -> dict:
    per = campaigns // len(PLATFORMS)
    accounts = []
    for k, platform in enumerate(PLATFORMS):
        account = {
            "google_ads": "3330001111",
            "meta_ads": "333000111122223",
            "linkedin_ads": "333000111",
            "tiktok_ads": "3330001111222233334",
        }[platform]
        accounts.append(
            {
                "platform": platform,
                "account_id": account,
                "name": f"bench {platform}",
                "currency": "USD",
                "time_zone": "UTC",
                "history_days": days,
                "campaigns": [
                    {
                        "id": str(9_000_000 + k * 100_000 + i),
                        "name": f"bench {platform} {i}",
                        "budget": str(50 + i % 200),
                    }
                    for i in range(per)
                ],
            }
        )
    return {"accounts": accounts}


CREDS = {
    "google_ads": {
        "customer_id": "3330001111",
        "developer_token": "d",
        "client_id": "c",
        "client_secret": "s",
        "refresh_token": "1//r",
    },
    "meta_ads": {"ad_account_id": "act_333000111122223", "access_token": "EAAb"},
    "linkedin_ads": {
        "ad_account_id": "333000111",
        "access_token": "AQVb",
        "client_id": "c",
        "client_secret": "s",
        "refresh_token": "AQXr",
    },
    "tiktok_ads": {
        "advertiser_id": "3330001111222233334",
        "access_token": "act.b",
        "app_id": "a",
        "secret": "s",
        "refresh_token": "rft.b",
    },
}


def _run_chunks(env: dict, messages: list[dict]) -> tuple[int, float]:
    os.environ.update(env)
    from strategist import bootstrap
    from strategist.services.sync import sync_connection

    rows = 0
    for m in messages:
        result = sync_connection(
            m,
            uow_factory=lambda: bootstrap.system_unit_of_work("bench"),
            cipher=bootstrap.credential_cipher(),
            connectors=bootstrap.connect,
        )
        assert result.status == "ok", result
        rows += result.rows
    return rows, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--campaigns", type=int, default=1000)
    p.add_argument("--days", type=int, default=730)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args()

    from sqlalchemy import text

    from infra.local.stack import LocalStack
    from strategist import bootstrap
    from strategist.services import sync_plan

    work = Path(tempfile.mkdtemp(prefix="ms-bench-backfill-"))
    (work / "spec.json").write_text(json.dumps(_spec(args.campaigns, args.days)))
    port = _free_port()
    sim = subprocess.Popen(
        [sys.executable, "-m", "infra.platform_sim", "--port", str(port), "--spec", str(work / "spec.json")],
        cwd=ROOT,
        start_new_session=True,
    )
    stack = LocalStack(local_dir=work / "stack")
    stack.start_database()
    stack.start_aws()
    stack.sim_url = f"http://127.0.0.1:{port}"
    env = stack.configure_environment()
    stack.seed()
    report: dict = {"campaigns": args.campaigns, "days": args.days}
    try:
        import httpx

        for _ in range(100):
            try:
                httpx.get(f"{stack.sim_url}/_sim/accounts", timeout=2).raise_for_status()
                break
            except httpx.HTTPError:
                time.sleep(0.3)
        tid = uuid.UUID(json.loads((stack.local_dir / "demo.json").read_text())["tenants"][0]["tenant_id"])
        cipher = bootstrap.credential_cipher()
        for mode, workers in (("sequential", 1), (f"{args.workers}_processes", args.workers)):
            messages = []
            with bootstrap.system_unit_of_work("bench") as uow:
                uow.set_tenant(tid)
                uow.session.execute(text("DELETE FROM campaigns"))
                uow.session.execute(text("DELETE FROM platform_connections"))
                client = uow.session.execute(text("SELECT id FROM clients LIMIT 1")).scalar()
                for platform in PLATFORMS:
                    cid = uuid.uuid4()
                    ctx = {"tenant_id": str(tid), "connection_id": str(cid)}
                    uow.session.execute(
                        text(
                            "INSERT INTO platform_connections (id, tenant_id, client_id, platform, account_id, name,"
                            " credentials, currency, time_zone, backfill) VALUES (:i, :t, :c, :p, :a, :n,"
                            " CAST(:cr AS jsonb), 'USD', 'UTC', CAST(:b AS jsonb))"
                        ),
                        {
                            "i": cid,
                            "t": tid,
                            "c": client,
                            "p": platform,
                            "a": CREDS[platform].get("customer_id", "x"),
                            "n": platform,
                            "cr": json.dumps(cipher.encrypt(CREDS[platform], context=ctx)),
                            "b": json.dumps({"chunks_total": 9, "done": []}),
                        },
                    )
                    for w in sync_plan.backfill_chunks(sync_plan.yesterday_in("UTC"), args.days):
                        messages.append(sync_plan.message(tid, cid, "backfill", w))
            t0 = time.perf_counter()
            if workers == 1:
                rows, rss = _run_chunks(env, messages)
                peak = rss
            else:
                ctx = mp.get_context("spawn")
                with ctx.Pool(workers) as pool:
                    parts = pool.starmap(_run_chunks, [(env, messages[i::workers]) for i in range(workers)])
                rows, peak = sum(r for r, _ in parts), max(m for _, m in parts)
            wall = time.perf_counter() - t0
            with bootstrap.system_unit_of_work("bench") as uow:
                uow.set_tenant(tid)
                stored = uow.session.execute(text("SELECT count(*) FROM campaign_metrics")).scalar()
            report[mode] = {
                "wall_s": round(wall, 1),
                "rows": stored,
                "rows_upserted": rows,
                "rows_per_s": round(stored / wall),
                "peak_rss_mb_per_process": round(peak),
                "chunks": len(messages),
            }
        print(json.dumps(report, indent=2))
    finally:
        os.killpg(sim.pid, signal.SIGTERM)
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
