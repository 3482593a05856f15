"""Optimize-job simulation (issue 6): the daily optimize job with auto-applied budget shifts on a simulated demo
client for N simulated weeks, against a no-optimization twin with the same seed, compared at equal total spend.

Per seed: a local stack (embedded Postgres, moto, the gateway's handlers, the platform simulator) with one tenant
whose settings auto-apply ``budget_shift`` recommendations (cap ±30 %, cooldown 72 h, no approval needed); one
client with the simulator's demo Google Ads and Meta accounts (``demo_spec(seed)``: 4 campaigns each, USD, 120
days of history), connected through the API and backfilled through the sync worker. Then, every simulated week:
run ``services.optimization.job.run`` (optimize every active campaign with ``today`` = the simulator's date,
apply the budget shifts through the guarded apply path, i.e. real connector writes to the simulator), advance the
simulator's clock 7 days, sync the new days. The twin is a second, in-process simulator with the same seed and
spec that is never changed; both are read from ``/_sim/truth`` (final conversions and revenue, not the reported
early estimates). Budget shifts move spend between campaigns, so total spend stays equal up to rounding; the
comparison is ROAS and conversions per unit spend, and the absolute revenue / conversion difference.

Run: .venv/bin/python bench/optimize_simulation.py [--seeds 7 11 13] [--weeks 8] [--json out.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "shared")]

import boto3  # noqa: E402
import httpx  # noqa: E402

PLATFORMS = ("google_ads", "meta_ads")
CREDS = {
    "google_ads": lambda a: {
        "customer_id": a,
        "developer_token": "dev",
        "client_id": "cid",
        "client_secret": "cs",
        "refresh_token": "1//rt",
    },
    "meta_ads": lambda a: {"ad_account_id": f"act_{a}", "access_token": "EAAtest"},
}


def _spec(seed: int, campaigns: int, history: int) -> Any:
    from infra.platform_sim import demo_spec

    spec = demo_spec(seed=seed, campaigns_per_platform=campaigns, history_days=history, platforms=PLATFORMS)
    return spec


def _drain(stack: Any) -> None:
    from infra.local import lambda_runtime
    from infra.local.poller import Poller, QueueBinding

    template = stack.template
    spec = template.functions["WorkerSyncFunction"]
    trigger = next(t for t in template.sqs_triggers if t.function == "WorkerSyncFunction")
    sqs = boto3.client("sqs", endpoint_url=stack.resources.endpoint)
    binding = QueueBinding(
        trigger,
        stack.resources.queue_urls[trigger.queue],
        stack.resources.attributes[(trigger.queue, "Arn")],
        lambda event: lambda_runtime.invoke(spec, event),
    )
    poller = Poller(sqs, [binding], wait_s=0)
    for _ in range(500):
        msgs = sqs.receive_message(QueueUrl=binding.queue_url, MaxNumberOfMessages=1)
        if not msgs.get("Messages"):
            return
        m = msgs["Messages"][0]
        sqs.change_message_visibility(
            QueueUrl=binding.queue_url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
        )
        poller.poll_once(binding)
    raise RuntimeError("sync queue did not drain")


def _sync_window(stack: Any, tenant_id: uuid.UUID, conn_ids: list[str], start: dt.date, end: dt.date) -> None:
    sqs = boto3.client("sqs", endpoint_url=stack.resources.endpoint)
    for cid in conn_ids:
        body = {
            "tenant_id": str(tenant_id),
            "connection_id": cid,
            "kind": "scheduled",
            "window_start": start.isoformat(),
            "window_end": end.isoformat(),
        }
        sqs.send_message(QueueUrl=stack.resources.queue_urls["SyncQueue"], MessageBody=json.dumps(body))
    _drain(stack)


def _totals(client: Any, spec: Any, start: dt.date, end: dt.date) -> dict[str, float]:
    out = {"spend": 0.0, "conversions": 0.0, "revenue": 0.0}
    for account in spec.accounts:
        for camp in account.campaigns:
            truth = client.get(
                "/_sim/truth",
                params={
                    "platform": account.platform,
                    "account_id": account.account_id,
                    "campaign_id": camp.id,
                    "start": start.isoformat(),
                    "end": end.isoformat(),
                },
            ).json()
            for d in truth["days"]:
                out["spend"] += float(d["spend"])
                out["conversions"] += float(d["conversions_final"])
                out["revenue"] += float(d["conversion_value_final"])
    return out


def run_seed(seed: int, weeks: int, campaigns: int, history: int) -> dict[str, Any]:
    from starlette.testclient import TestClient

    from infra.local.gateway import create_app as gateway_app
    from infra.local.stack import LocalStack
    from infra.platform_sim.app import create_app as sim_app
    from strategist import bootstrap
    from strategist.services.optimization import job
    from strategist.services.optimization.apply import Platforms
    from tests.conftest import tenant_factory

    t0 = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix=f"optbench-{seed}-"))
    stack = LocalStack(local_dir=tmp)
    stack.start(background=False)
    try:
        spec = _spec(seed, campaigns, history)
        httpx.post(f"{stack.sim_url}/_sim/accounts", json=spec.model_dump(mode="json")).raise_for_status()
        sim_today = dt.date.fromisoformat(httpx.get(f"{stack.sim_url}/_sim/clock").json()["today"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            twin = TestClient(sim_app(seed=7, spec=spec, today=sim_today), base_url="http://twin")
        gw = stack.gateway()
        gw.bucket.rate = gw.bucket.burst = gw.login_bucket.rate = gw.login_bucket.burst = 100_000
        with TestClient(gateway_app(gw)) as api:
            factory, close = tenant_factory(stack, api)
            world = factory("Optimize bench")
            from sqlalchemy import create_engine, text

            engine = create_engine(stack.owner_url())
            with engine.begin() as c:
                c.execute(
                    text("UPDATE tenants SET settings = CAST(:s AS jsonb) WHERE id = :t"),
                    {
                        "s": json.dumps(
                            {
                                "auto_apply": ["budget_shift"],
                                "cooldown_hours": 72,
                                "approval_threshold_pct": 1000,
                            }
                        ),
                        "t": world.tenant_id,
                    },
                )
                c.execute(
                    text("UPDATE clients SET goals = '{}'::jsonb WHERE tenant_id = :t"),
                    {"t": world.tenant_id},
                )
            engine.dispose()
            conn_ids = []
            for account in spec.accounts:
                body = {
                    "platform": account.platform,
                    "credentials": CREDS[account.platform](account.account_id),
                    "backfill_days": history,
                }
                r = api.post(
                    f"/api/v1/clients/{world.clients[0]}/connections", json=body, headers=world.owner.headers
                )
                r.raise_for_status()
                conn_ids.append(r.json()["data"]["id"])
            _drain(stack)
            platforms = Platforms(cipher=bootstrap.credential_cipher(), connectors=bootstrap.connect)
            start = sim_today
            applied, runs = 0, []
            for week in range(weeks):
                today = dt.date.fromisoformat(httpx.get(f"{stack.sim_url}/_sim/clock").json()["today"])
                totals = job.run(
                    lambda: bootstrap.system_unit_of_work("bench"),
                    platforms,
                    today=today,
                    now=dt.datetime.combine(today, dt.time(5), tzinfo=dt.UTC),  # cooldowns in simulated time
                    tenant_ids=[world.tenant_id],
                )
                applied += int(totals.get("applied", 0))
                runs.append(
                    {
                        "week": week + 1,
                        "today": today.isoformat(),
                        **{k: v for k, v in totals.items() if k != "rules"},
                    }
                )
                httpx.post(f"{stack.sim_url}/_sim/clock", json={"advance_days": 7}).raise_for_status()
                new_today = today + dt.timedelta(days=7)
                _sync_window(
                    stack,
                    world.tenant_id,
                    conn_ids,
                    today - dt.timedelta(days=3),
                    new_today - dt.timedelta(days=1),
                )
            end = start + dt.timedelta(days=7 * weeks - 1)
            engine = create_engine(stack.owner_url())
            with engine.connect() as c:
                blocked = [
                    next(
                        (k for k in ("cooldown", "cap", "awaiting approval", "platform value") if k in r[0]),
                        "other",
                    )
                    for r in c.execute(
                        text(
                            "SELECT result->>'auto_apply_blocked' FROM optimization_recommendations "
                            "WHERE tenant_id = :t AND result ? 'auto_apply_blocked'"
                        ),
                        {"t": world.tenant_id},
                    )
                ]
            engine.dispose()
            # the optimized world is the stack's simulator: read its truth over the same days
            optimized = _totals(httpx.Client(base_url=stack.sim_url), spec, start, end)
            baseline = _totals(twin, spec, start, end)
            twin.close()
            close()
    finally:
        stack.stop()
    roas_o, roas_b = optimized["revenue"] / optimized["spend"], baseline["revenue"] / baseline["spend"]
    cps_o, cps_b = optimized["conversions"] / optimized["spend"], baseline["conversions"] / baseline["spend"]
    return {
        "seed": seed,
        "weeks": weeks,
        "campaigns": campaigns * len(PLATFORMS),
        "changes_applied": applied,
        "optimized": optimized,
        "baseline": baseline,
        "spend_difference_pct": (optimized["spend"] / baseline["spend"] - 1) * 100,
        "roas_uplift_pct": (roas_o / roas_b - 1) * 100,
        "conversions_per_spend_uplift_pct": (cps_o / cps_b - 1) * 100,
        "revenue_uplift_pct": (optimized["revenue"] / baseline["revenue"] - 1) * 100,
        "runs": runs,
        "blocked_reasons": {r: blocked.count(r) for r in sorted(set(blocked))},
        "seconds": time.perf_counter() - t0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[7, 11, 13])
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--campaigns", type=int, default=4, help="per platform")
    parser.add_argument("--history", type=int, default=120)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = []
    for seed in args.seeds:
        res = run_seed(seed, args.weeks, args.campaigns, args.history)
        results.append(res)
        print(
            f"seed {seed}: {res['changes_applied']} shifts applied; spend {res['optimized']['spend']:.0f} vs "
            f"{res['baseline']['spend']:.0f} ({res['spend_difference_pct']:+.2f} %); ROAS uplift "
            f"{res['roas_uplift_pct']:+.2f} %, conversions/spend uplift {res['conversions_per_spend_uplift_pct']:+.2f} %"
            f" ({res['seconds']:.0f} s)",
            flush=True,
        )
    for key in ("roas_uplift_pct", "conversions_per_spend_uplift_pct", "spend_difference_pct"):
        vals = [r[key] for r in results]
        spread = statistics.stdev(vals) if len(vals) > 1 else 0.0
        print(
            f"{key}: mean {statistics.mean(vals):+.2f} %, sd {spread:.2f}, min {min(vals):+.2f}, max {max(vals):+.2f}"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
