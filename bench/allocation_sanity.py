"""Allocation sanity on the demo clients: does the fitted optimum land near the simulator's true optimum?

For every demo client, each ad platform it advertises on is fitted on the first 78 weeks of the simulator's
daily rows exactly as ``bench/strategy_backtest.py`` does (``response_models.platform_prior`` ->
``strategist.ml.fit_platform_response``), and ``strategist.ml.allocate`` splits the client's current total daily
spend (mean of the last 28 training days, summed over its ad platforms) over the fitted REVENUE curves, with no
exploration floor and no trust region. The true optimum is computed on the simulator's own curves (the account
spec: per campaign a Hill curve of steady-state spend times its AOV; a platform's spend is split over its
campaigns in proportion to their budgets, as the simulator paces them), by multistart SLSQP since Hill curves
with a shape above 1 are not concave. Reported per client and platform: current share, fitted-optimum share,
true-optimum share; per client the largest share gap and the true revenue of the fitted split as a fraction of
the true optimum's (1.000 = no regret). Email is left out: its demo export has no known curve.

Run: .venv/bin/python bench/allocation_sanity.py [--today 2026-11-26] [--json out.json]
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
from scipy import optimize

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "shared"), str(ROOT / "bench")]

from strategy_backtest import TRAIN_DAYS, _platform_days  # noqa: E402

from infra.local.demo_platforms import demo_connections  # noqa: E402
from strategist.ml import allocate  # noqa: E402
from strategist.ml.curves import fit_platform_response  # noqa: E402
from strategist.services import response_models as rm  # noqa: E402

RECENT_DAYS = 28


def _true_curve(spec: Any) -> Any:
    """Expected daily revenue of one simulated account as a function of its total daily spend."""
    camps = list(spec.campaigns)
    budgets = np.array([float(c.budget) for c in camps])
    weights = budgets / budgets.sum()
    cv = [c.curve for c in camps]
    top = np.array([c.max_conversions * c.aov for c in cv])
    half = np.array([c.half_saturation for c in cv])
    shape = np.array([c.hill_shape for c in cv])

    def revenue(total: float) -> float:
        x = np.maximum(total, 0.0) * weights
        ratio = x**shape
        return float(np.sum(top * ratio / (ratio + half**shape)))

    return revenue


def _true_optimum(funcs: list[Any], total: float, rng: np.random.Generator) -> np.ndarray:
    n = len(funcs)

    def neg(x: np.ndarray) -> float:
        return -sum(f(v) for f, v in zip(funcs, x, strict=True)) / total

    best, best_val = None, np.inf
    starts = [np.full(n, total / n), *(total * rng.dirichlet(np.ones(n)) for _ in range(40))]
    starts += [total * np.eye(n)[i] * 0.98 + total * 0.02 / n for i in range(n)]
    for x0 in starts:
        res = optimize.minimize(
            neg,
            x0,
            method="SLSQP",
            bounds=[(0.0, total)] * n,
            constraints=[{"type": "eq", "fun": lambda x: x.sum() - total}],
            options={"ftol": 1e-12, "maxiter": 500},
        )
        if res.fun < best_val:
            best, best_val = res.x, res.fun
    assert best is not None
    return np.maximum(best, 0.0) / max(best.sum(), 1e-12) * total


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--today", type=dt.date.fromisoformat, default=dt.date(2026, 11, 26))
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    t0 = time.perf_counter()
    data = _platform_days(args.today)
    specs = {(c["client"].name, c["platform"]): c["spec"] for c in demo_connections()}
    by_client: dict[str, dict[str, Any]] = defaultdict(dict)
    for (name, plat), v in sorted(data.items()):
        if (name, plat) in specs:
            by_client[name][plat] = v
    rng = np.random.default_rng(0)
    rows, summary = [], []
    print(f"{'client':28} {'platform':13} {'elast':>5} {'current':>7} {'fitted':>7} {'true':>7}")
    for name, plats in by_client.items():
        curves, recent, funcs, elast = {}, {}, [], {}
        for plat, v in plats.items():
            train = v["frame"].iloc[:TRAIN_DAYS]
            if train["spend"].gt(0).sum() < 60:
                continue
            industry = rm.benchmark_industry(v["client"].industry)
            prior = rm.platform_prior(plat, "conversions", industry, 1.0)
            resp = fit_platform_response(train, plat, prior)
            curve = resp.curve("revenue")
            curves[plat] = curve
            elast[plat] = float(curve.exponent)
            recent[plat] = float(train["spend"].iloc[-RECENT_DAYS:].mean())
            funcs.append(_true_curve(specs[(name, plat)]))
        if len(curves) < 2:
            continue
        names = list(curves)
        total = sum(recent.values())
        fitted = allocate(curves, total)
        fit_split = np.array([fitted.spend[q] for q in names])
        true_split = _true_optimum(funcs, total, rng)
        true_rev = sum(f(v) for f, v in zip(funcs, true_split, strict=True))
        fit_rev = sum(f(v) for f, v in zip(funcs, fit_split, strict=True))
        cur_rev = sum(f(recent[q]) for f, q in zip(funcs, names, strict=True))
        gap = float(np.max(np.abs(fit_split - true_split)) / total)
        corner = bool(np.max(fit_split) / total > 0.99)
        for i, q in enumerate(names):
            row = {
                "client": name,
                "platform": q,
                "exponent": round(elast[q], 3),
                "current": round(recent[q] / total, 3),
                "fitted": round(float(fit_split[i] / total), 3),
                "true": round(float(true_split[i] / total), 3),
            }
            rows.append(row)
            print(
                f"{name:28} {q:13} {row['exponent']:5.2f} {row['current']:7.3f} {row['fitted']:7.3f} "
                f"{row['true']:7.3f}"
            )
        summary.append(
            {
                "client": name,
                "total_daily_spend": round(total, 2),
                "max_share_gap": round(gap, 3),
                "corner": corner,
                "fitted_vs_true_revenue": round(fit_rev / true_rev, 4),
                "current_vs_true_revenue": round(cur_rev / true_rev, 4),
            }
        )
        print(
            f"{'':28} max share gap {gap:.3f}, corner {corner}, true revenue of fitted split / optimum "
            f"{fit_rev / true_rev:.4f} (current split {cur_rev / true_rev:.4f})"
        )
    gaps = [s["max_share_gap"] for s in summary]
    ratios = [s["fitted_vs_true_revenue"] for s in summary]
    out = {
        "today": args.today.isoformat(),
        "clients": len(summary),
        "corners": sum(s["corner"] for s in summary),
        "mean_max_share_gap": round(float(np.mean(gaps)), 3),
        "mean_fitted_vs_true_revenue": round(float(np.mean(ratios)), 4),
        "min_fitted_vs_true_revenue": round(float(np.min(ratios)), 4),
        "summary": summary,
        "rows": rows,
        "seconds": round(time.perf_counter() - t0, 2),
        "machine": {"nproc": os.cpu_count(), "python": host.python_version()},
    }
    print(
        f"{out['clients']} clients: {out['corners']} corner solutions, mean max share gap "
        f"{out['mean_max_share_gap']:.3f}, true revenue of fitted split / optimum mean "
        f"{out['mean_fitted_vs_true_revenue']:.4f} (min {out['min_fitted_vs_true_revenue']:.4f}), "
        f"{out['seconds']} s"
    )
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
