"""Modelling-core benchmark, side by side with pymc-marketing, in one run.

    .venv/bin/python bench/ml/bench_ml.py [--sims 30] [--skip-pymc]

Parts: machine; ours on mmm_example.csv (fit time with intervals, held-out MAPE and coverage, peak memory in a
fresh process); pymc-marketing on the same split in bench/.venv-pymc (warm fit, same measures); Meridian's
national_all_channels.csv; simulations with known truth; allocator latency. Prints a markdown block for
bench/RESULTS.md and writes the raw figures to bench/ml/last_run.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DATA = REPO / ".." / "shared" / "data" / "mmm"
sys.path[:0] = [str(REPO / "shared"), str(HERE)]

from simdata import simulate  # noqa: E402

from strategist.ml import MediaMixModel, SaturationCurve, allocate, backtest  # noqa: E402


def machine() -> dict[str, str]:
    with open("/proc/cpuinfo") as fh:
        cpu = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), "?")
    mem = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.splitlines()[1].split()[1]
    return {
        "nproc": str(os.cpu_count()),
        "mem_total": mem,
        "cpu": cpu,
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def ours_mmm_example() -> dict[str, float]:
    """Runs in its own process so that the peak RSS is the model's, not the whole bench's."""
    df = pd.read_csv(DATA / "pymc_marketing" / "mmm_example.csv")
    tr, te = df.iloc[:143], df.iloc[143:]
    y = te["y"].to_numpy()

    def fit() -> MediaMixModel:
        m = MediaMixModel(
            media=["x1", "x2"], controls=["event_1", "event_2"], date="date_week", random_state=0
        )
        return m.fit(tr, tr["y"])

    start = time.perf_counter()
    m = fit()
    first = time.perf_counter() - start
    times = []
    for _ in range(5):
        start = time.perf_counter()
        m = fit()
        lo80, hi80 = m.predict_interval(te, coverage=0.8)
        lo94, hi94 = m.predict_interval(te, coverage=0.94)
        times.append(time.perf_counter() - start)
    pred = m.predict(te)
    cur = tr[["x1", "x2"]].iloc[-8:].mean()
    bounds = {c: (0.5 * v, 1.5 * v) for c, v in cur.items()}
    start = time.perf_counter()
    alloc = m.allocate(float(cur.sum()), bounds=bounds)
    alloc_ms = (time.perf_counter() - start) * 1000
    return {
        "fit_first_s": first,
        "fit_with_intervals_median_s": float(np.median(times)),
        "train_mape_pct": float(np.mean(np.abs(m.predict(tr) - tr["y"]) / tr["y"]) * 100),
        "test_mape_pct": float(np.mean(np.abs(pred - y) / y) * 100),
        "coverage_80_pct": float(np.mean((y >= lo80) & (y <= hi80)) * 100),
        "coverage_94_pct": float(np.mean((y >= lo94) & (y <= hi94)) * 100),
        "trend": str(m.trend_),
        "roi_x1": m.roi_["x1"],
        "roi_x2": m.roi_["x2"],
        "uplift_pct_0.5_1.5_bounds": float(alloc.uplift / alloc.current_outcome * 100),
        "allocate_ms": alloc_ms,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def meridian() -> dict[str, float]:
    """Meridian's own national specification: 5 paid channels (impressions) + the organic channel as media,
    competitor sales, sentiment and promo as controls, constant intercept (its default national knots)."""
    df = pd.read_csv(DATA / "meridian" / "national_all_channels.csv")
    tr, te = df.iloc[:-31], df.iloc[-31:]
    media = [f"Channel{i}_impression" for i in range(5)] + ["Organic_channel0_impression"]
    controls = ["competitor_sales_control", "sentiment_score_control", "Promo"]
    out = {}
    for label, kw in (
        ("constant_intercept", {"trend": None, "yearly_seasonality": 0}),
        ("default_auto_trend_seasonality", {}),
    ):
        m = MediaMixModel(media=media, controls=controls, date="time", random_state=0, **kw)
        start = time.perf_counter()
        m.fit(tr, tr["conversions"])
        out[f"{label}_fit_s"] = time.perf_counter() - start
        y = te["conversions"].to_numpy()
        out[f"{label}_test_mape_pct"] = float(np.mean(np.abs(m.predict(te) - y) / y) * 100)
        lo, hi = m.predict_interval(te, coverage=0.8)
        out[f"{label}_coverage_80_pct"] = float(np.mean((y >= lo) & (y <= hi)) * 100)
        lo, hi = m.predict_interval(te, coverage=0.94)
        out[f"{label}_coverage_94_pct"] = float(np.mean((y >= lo) & (y <= hi)) * 100)
    return out


def simulations(n: int) -> dict[str, float]:
    roi_err, gaps_b, gaps_u, gaps_b_total, gaps_u_total, hits80, hits94, fit_s = (
        [],
        [],
        [],
        [],
        [],
        [],
        [],
        [],
    )
    for seed in range(n):
        k = 2 + seed % 5
        weeks = 104 + 52 * ((seed // 5) % 3)
        df, y, truth = simulate(1000 + seed, k, weeks)
        h = 26
        cut = weeks - h
        media = list(truth.roi)
        start = time.perf_counter()
        m = MediaMixModel(media=media, date="date", random_state=0).fit(df.iloc[:cut], y[:cut])
        fit_s.append(time.perf_counter() - start)
        true_roi = truth.roi_over(df, slice(0, cut))
        roi_err += [abs(m.roi_[c] - true_roi[c]) / true_roi[c] for c in media]
        for cov, hits in ((0.8, hits80), (0.94, hits94)):
            lo, hi = m.predict_interval(df.iloc[cut:], coverage=cov)
            hits.extend(((y[cut:] >= lo) & (y[cut:] <= hi)).tolist())
        cur = df[media].iloc[cut - 8 : cut].mean()
        total = float(cur.sum())
        base = float(np.mean(y[cut - 8 : cut]) - sum(truth.contrib[c][cut - 8 : cut].mean() for c in media))

        def true_value(plan: dict[str, float], curves: dict[str, SaturationCurve] = truth.curves) -> float:
            return sum(float(curves[c].value(plan[c])) for c in plan)

        for bounds, gaps, gaps_total in (
            ({c: (0.5 * v, 1.5 * v) for c, v in cur.items()}, gaps_b, gaps_b_total),
            (None, gaps_u, gaps_u_total),
        ):
            ours = m.optimize_budget(total, bounds=bounds)
            best = allocate(truth.curves, total, bounds).total_outcome
            gaps.append((best - true_value(ours)) / best)
            gaps_total.append((best - true_value(ours)) / (best + base))
    return {
        "datasets": n,
        "channels": "2-6",
        "years": "2-4",
        "median_roi_error_pct": float(np.median(roi_err) * 100),
        "p90_roi_error_pct": float(np.quantile(roi_err, 0.9) * 100),
        "coverage_80_pct": float(np.mean(hits80) * 100),
        "coverage_94_pct": float(np.mean(hits94) * 100),
        "held_out_points": len(hits80),
        "alloc_gap_bounded_media_median_pct": float(np.median(gaps_b) * 100),
        "alloc_gap_bounded_media_max_pct": float(np.max(gaps_b) * 100),
        "alloc_gap_bounded_total_max_pct": float(np.max(gaps_b_total) * 100),
        "alloc_gap_unbounded_media_median_pct": float(np.median(gaps_u) * 100),
        "alloc_gap_unbounded_media_max_pct": float(np.max(gaps_u) * 100),
        "alloc_gap_unbounded_total_max_pct": float(np.max(gaps_u_total) * 100),
        "share_bounded_within_1pct_media": float(np.mean(np.asarray(gaps_b) <= 0.01) * 100),
        "share_unbounded_within_1pct_media": float(np.mean(np.asarray(gaps_u) <= 0.01) * 100),
        "median_fit_s": float(np.median(fit_s)),
    }


def allocator_latency() -> dict[str, float]:
    rng = np.random.default_rng(0)
    curves = {
        f"c{i}": SaturationCurve(
            "logistic", float(rng.uniform(100, 1000)), (float(rng.uniform(0.5, 3)),), 100.0
        )
        for i in range(6)
    }
    bounds = {c: (50.0, 250.0) for c in curves}
    ratio_curves = {
        f"c{i}": SaturationCurve(
            "hill", float(rng.uniform(100, 1000)), (float(rng.uniform(50, 200)), 0.8), 1.0
        )
        for i in range(6)
    }
    out = {}
    for label, cs, kw in (
        ("logistic_6ch_bounds", curves, {"bounds": bounds}),
        (
            "hill_6ch_bounds_ratio_lock",
            ratio_curves,
            {"bounds": bounds, "ratios": {("c0", "c1"): 2.0}, "locked": {"c5": 100.0}},
        ),
    ):
        allocate(cs, 800.0, **kw)
        times = []
        for _ in range(200):
            start = time.perf_counter()
            a = allocate(cs, 800.0, **kw)
            times.append(time.perf_counter() - start)
        out[f"{label}_median_ms"] = float(np.median(times) * 1000)
        out[f"{label}_p99_ms"] = float(np.quantile(times, 0.99) * 1000)
        out[f"{label}_kkt_residual"] = a.kkt_residual
    return out


def backtests() -> dict[str, float]:
    """Rolling-origin coverage with the library's own backtest(): 4 folds of 26 weeks over each whole data set."""
    out: dict[str, float] = {}
    df = pd.read_csv(DATA / "pymc_marketing" / "mmm_example.csv")
    m = MediaMixModel(media=["x1", "x2"], controls=["event_1", "event_2"], date="date_week", random_state=0)
    rep = backtest(m, df, df["y"], n_splits=4, horizon=26)
    out.update({"mmm_example_mape_pct": rep.mape * 100, "mmm_example_points": rep.n_points})
    out.update({f"mmm_example_coverage_{round(c * 100)}_pct": v * 100 for c, v in rep.coverage.items()})
    df = pd.read_csv(DATA / "meridian" / "national_all_channels.csv")
    media = [f"Channel{i}_impression" for i in range(5)] + ["Organic_channel0_impression"]
    controls = ["competitor_sales_control", "sentiment_score_control", "Promo"]
    m = MediaMixModel(
        media=media, controls=controls, date="time", trend=None, yearly_seasonality=0, random_state=0
    )
    rep = backtest(m, df, df["conversions"], n_splits=4, horizon=26)
    out.update({"meridian_mape_pct": rep.mape * 100, "meridian_points": rep.n_points})
    out.update({f"meridian_coverage_{round(c * 100)}_pct": v * 100 for c, v in rep.coverage.items()})
    return out


def pymc_anchor() -> dict[str, float] | None:
    python = REPO / "bench" / ".venv-pymc" / "bin" / "python"
    if not python.exists():
        return None
    res = subprocess.run(
        [str(python), str(HERE / "pymc_anchor.py"), str(DATA / "pymc_marketing" / "mmm_example.csv")],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sims", type=int, default=30)
    ap.add_argument("--skip-pymc", action="store_true")
    ap.add_argument("--part", default="")
    args = ap.parse_args()
    if args.part == "ours":
        print(json.dumps(ours_mmm_example()))
        return
    if args.part == "backtest":
        print(json.dumps(backtests(), indent=2))
        return
    if not DATA.is_dir():
        sys.exit(f"data sets not found at {DATA}")
    results: dict[str, object] = {"machine": machine()}
    res = subprocess.run(
        [sys.executable, __file__, "--part", "ours"], capture_output=True, text=True, check=True
    )
    results["ours_mmm_example"] = json.loads(res.stdout.strip().splitlines()[-1])
    if not args.skip_pymc:
        results["pymc_marketing_mmm_example"] = pymc_anchor()
    results["ours_meridian_national"] = meridian()
    results["simulations"] = simulations(args.sims)
    results["allocator"] = allocator_latency()
    results["backtests"] = backtests()
    ours, anchor = results["ours_mmm_example"], results.get("pymc_marketing_mmm_example")
    if anchor:
        results["speedup_vs_pymc_warm"] = anchor["fit_warm_s"] / ours["fit_with_intervals_median_s"]  # type: ignore[index]
    (HERE / "last_run.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
