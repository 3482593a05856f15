"""Backtest of the strategy forecast on the demo clients (issue 5): fit on the first 18 months, forecast the next 3.

For every demo client and each platform it advertises on, the simulated ad-platform server (in-process: the same
``SimState`` that ``infra.platform_sim.app.create_app`` serves, loaded with ``infra.local.demo_platforms``'s spec,
so the numbers are exactly what the connectors would sync) gives two years of daily rows; email comes from the
demo's ESP export. We take the first 78 weeks (546 days, about 18 months) as history and fit each platform's
funnel exactly as ``POST /api/v1/strategy/generate`` does for a client with history
(``response_models.platform_prior`` -> ``strategist.ml.fit_platform_response``), then forecast the next 13 weeks
(91 days, about 3 months) given the spend actually made in them, with the plan's own Monte Carlo
(``plan_math.simulate``: parameters drawn once per draw, fresh day noise, 1,000 draws, fixed seed). Reported:
how often the actual weekly conversions and revenue fall inside the forecast's p10-p90 band (nominal 80 %), per
platform, per client total (all its platforms summed per draw) and overall, and the MAPE of the weekly p50.

Benchmark money figures stay in USD for non-USD clients (what the service does when no ECB rate is known); with
546 days of history the prior's weight is negligible. Rows of the last week before the simulator's "today" are
still being restated and are never used (the test window ends three months earlier).

Run: .venv/bin/python bench/strategy_backtest.py [--today 2026-11-26] [--json out.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform as host
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "shared")]

from infra.local.demo_platforms import HISTORY_DAYS, PLATFORMS, demo_connections, email_rows  # noqa: E402
from infra.local.seed import DEMO_TENANTS  # noqa: E402
from infra.platform_sim.spec import FAMILY  # noqa: E402
from infra.platform_sim.state import SimState  # noqa: E402
from strategist.ml.curves import fit_platform_response  # noqa: E402
from strategist.services import response_models as rm  # noqa: E402
from strategist.services.strategy import plan_math as pm  # noqa: E402

TRAIN_DAYS = 78 * 7
TEST_WEEKS = 13
COLUMNS = ("spend", "impressions", "clicks", "conversions", "revenue")


def _platform_days(today: dt.date) -> dict[tuple[str, str], dict[str, Any]]:
    """(client name, platform) -> daily frame over the backtest window, from the simulator and the email export."""
    start = today - dt.timedelta(days=HISTORY_DAYS)
    end = start + dt.timedelta(days=TRAIN_DAYS + 7 * TEST_WEEKS - 1)
    state = SimState(seed=7, today=today)
    conns = demo_connections()
    for c in conns:
        state.add_account(c["spec"])
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for c in conns:
        account = state.account(FAMILY[c["platform"]], c["account_id"])
        rows = state.rows(account, [x.id for x in c["spec"].campaigns], start, end)
        frame = pd.DataFrame(
            {
                "date": rows.dates,
                "spend": rows.spend,
                "impressions": rows.impressions,
                "clicks": rows.clicks,
                "conversions": rows.conversions,
                "revenue": rows.conversion_value,
            }
        )
        out[(c["client"].name, c["platform"])] = {
            "client": c["client"],
            "frame": frame.groupby("date", as_index=False).sum(),
        }
    for tenant in DEMO_TENANTS:
        for client in tenant.clients:
            key = (client.name, "email")
            if key in out or "email" not in PLATFORMS.get(client.name, ()):
                continue
            raw = [r for r in email_rows(client, today) if start <= r["date"] <= end]
            field = {"spend": "cost", "revenue": "conversion_value"}
            frame = pd.DataFrame({k: [float(r[field.get(k, k)]) for r in raw] for k in COLUMNS})
            frame.insert(0, "date", [r["date"] for r in raw])
            out[key] = {"client": client, "frame": frame}
    for v in out.values():
        f = v["frame"]
        f["date"] = pd.to_datetime(f["date"]).dt.date
        full = pd.DataFrame({"date": [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]})
        v["frame"] = full.merge(f, on="date", how="left").fillna(0.0)
    return out


def _weekly(values: np.ndarray) -> np.ndarray:
    """(…, days) -> (…, weeks) sums."""
    return values.reshape(*values.shape[:-1], -1, 7).sum(axis=-1)


def _score(actual: np.ndarray, draws: np.ndarray) -> dict[str, Any]:
    """actual: (weeks,), draws: (n, weeks) -> inside flags, p50 errors."""
    p10, p50, p90 = np.quantile(draws, [0.1, 0.5, 0.9], axis=0)
    inside = (actual >= p10) & (actual <= p90)
    with np.errstate(divide="ignore", invalid="ignore"):
        ape = np.where(actual > 0, np.abs(p50 - actual) / actual, np.nan)
    below = actual < p10
    return {"inside": inside, "ape": ape, "below": below, "bias": (p50 - actual) / np.maximum(actual, 1e-9)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--today", type=dt.date.fromisoformat, default=dt.date(2026, 11, 26))
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    t0 = time.perf_counter()
    data = _platform_days(args.today)
    per_platform: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    per_client: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    detail = []
    by_client: dict[str, dict[str, Any]] = defaultdict(dict)
    for (name, plat), v in sorted(data.items()):
        by_client[name][plat] = v
    for name, plats in by_client.items():
        responses, test_spend, actual = {}, {}, {}
        for plat, v in plats.items():
            f = v["frame"]
            train, test = f.iloc[:TRAIN_DAYS], f.iloc[TRAIN_DAYS:]
            if train["spend"].gt(0).sum() < 60 or test["spend"].sum() <= 0:
                continue
            industry = rm.benchmark_industry(v["client"].industry)
            prior = rm.platform_prior(plat, "conversions", industry, 1.0)
            responses[plat] = fit_platform_response(train, plat, prior)
            test_spend[plat] = test["spend"].to_numpy(dtype=float)
            actual[plat] = {m: test[m].to_numpy(dtype=float) for m in ("conversions", "revenue")}
        sims = pm.simulate(responses, test_spend)
        for plat in responses:
            row = {"client": name, "platform": plat, "history_days": responses[plat].n_days}
            for m in ("conversions", "revenue"):
                s = _score(_weekly(actual[plat][m]), _weekly(np.asarray(sims[plat][m])))
                per_platform[plat][m].append(s)
                per_platform["all platforms"][m].append(s)
                row[m] = {
                    "coverage": float(s["inside"].mean()),
                    "mape": float(np.nanmean(s["ape"])),
                    "bias": float(np.median(s["bias"])),
                }
            detail.append(row)
        for m in ("conversions", "revenue"):
            tot_a = sum(_weekly(actual[q][m]) for q in responses)
            tot_d = sum(_weekly(np.asarray(sims[q][m])) for q in responses)
            per_client["client totals"][m].append(_score(tot_a, tot_d))

    def agg(scores: list[dict[str, Any]]) -> dict[str, float]:
        inside = np.concatenate([s["inside"] for s in scores])
        ape = np.concatenate([s["ape"] for s in scores])
        below = np.concatenate([s["below"] for s in scores])
        return {
            "weeks": int(inside.size),
            "coverage": round(float(inside.mean()), 3),
            "below_p10": round(float(below.mean()), 3),
            "above_p90": round(max(0.0, float(1 - inside.mean() - below.mean())), 3),
            "mape_p50": round(float(np.nanmean(ape)), 4),
        }

    table = {
        k: {m: agg(v[m]) for m in ("conversions", "revenue")}
        for k, v in sorted(per_platform.items())
        if k != "all platforms"
    }
    table["all platforms"] = {m: agg(per_platform["all platforms"][m]) for m in ("conversions", "revenue")}
    table["client totals"] = {m: agg(per_client["client totals"][m]) for m in ("conversions", "revenue")}
    out = {
        "today": args.today.isoformat(),
        "train_days": TRAIN_DAYS,
        "test_weeks": TEST_WEEKS,
        "clients": len(by_client),
        "series": len(detail),
        "nominal_coverage": 0.8,
        "table": table,
        "detail": detail,
        "seconds": round(time.perf_counter() - t0, 2),
        "machine": {"nproc": os.cpu_count(), "python": host.python_version()},
    }
    print(
        f"{'':16} {'conv cov':>8} {'<p10':>6} {'>p90':>6} {'conv MAPE':>9} | {'rev cov':>8} {'<p10':>6} {'>p90':>6} {'rev MAPE':>8} weeks"
    )
    for k, v in table.items():
        c, r = v["conversions"], v["revenue"]
        print(
            f"{k:16} {c['coverage']:8.3f} {c['below_p10']:6.3f} {c['above_p90']:6.3f} {c['mape_p50']:9.4f} | "
            f"{r['coverage']:8.3f} {r['below_p10']:6.3f} {r['above_p90']:6.3f} {r['mape_p50']:8.4f} {c['weeks']}"
        )
    print(f"{len(by_client)} clients, {len(detail)} client-platform series, {out['seconds']} s")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
