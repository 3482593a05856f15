"""How much of the mmm_example.csv held-out figures is the 36-week noise draw? Replicas of its own generator.

    .venv/bin/python bench/ml/replicas.py [--n 200] [--jobs 2]

pymc-marketing generated mmm_example.csv with a published recipe (its MMM example notebook): geometric adstock
(normalised, l_max 8; alpha 0.4 / 0.2), logistic saturation (lam 4 / 3) on the raw spends, trend
(linspace(0, 50) + 10) ** 0.25 - 1, seasonality 0.5 (-sin(2 * 2 pi doy / 365.5) + cos(2 pi doy / 365.5)), events
+1.5 / +2.5, media betas 3 / 2, intercept 2, noise N(0, 0.25), all times an amplitude. We rebuild that mean from the
file's own x1, x2, events and day of year, fit amplitude and offset by least squares on the 143 training weeks only,
and redraw the noise (sd 0.25 x amplitude) with fresh seeds. Each replica is then scored exactly like the real file
(train first 143 weeks, test last 36) for our model and for the oracle (true mean, exact-noise Gaussian interval).
The real file is one such draw: where its figures fall in these distributions says what any honest model can reach.
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DATA = REPO / ".." / "shared" / "data" / "mmm" / "pymc_marketing" / "mmm_example.csv"
sys.path[:0] = [str(REPO / "shared")]

from strategist.ml import MediaMixModel  # noqa: E402

N_TRAIN = 143
WIDTH_FACTORS = (1.0, 1.05, 1.1, 1.15, 1.2, 1.25, 1.3)


def _adstock(x: np.ndarray, alpha: float, l_max: int = 8) -> np.ndarray:
    w = alpha ** np.arange(l_max)
    w = w / w.sum()
    out = np.zeros_like(x)
    for lag in range(l_max):
        out[lag:] += w[lag] * x[: len(x) - lag]
    return out


def _logistic(x: np.ndarray, lam: float) -> np.ndarray:
    return (1 - np.exp(-lam * x)) / (1 + np.exp(-lam * x))


def generator() -> tuple[pd.DataFrame, np.ndarray, float]:
    """The file, the recipe's noise-free mean (scaled on the training weeks) and the recipe's noise sd."""
    df = pd.read_csv(DATA)
    n = len(df)
    doy = df["dayofyear"].to_numpy(dtype=float)
    shape = (
        2.0
        + (np.linspace(0.0, 50.0, n) + 10) ** 0.25
        - 1
        + 0.5 * (-np.sin(2 * 2 * np.pi * doy / 365.5) + np.cos(2 * np.pi * doy / 365.5))
        + 1.5 * df["event_1"].to_numpy()
        + 2.5 * df["event_2"].to_numpy()
        + 3.0 * _logistic(_adstock(df["x1"].to_numpy(), 0.4), 4.0)
        + 2.0 * _logistic(_adstock(df["x2"].to_numpy(), 0.2), 3.0)
    )
    A = np.column_stack([np.ones(n), shape])
    offset, amplitude = np.linalg.lstsq(A[:N_TRAIN], df["y"].to_numpy()[:N_TRAIN], rcond=None)[0]
    return df, A @ np.array([offset, amplitude]), 0.25 * float(amplitude)


def score(y_test: np.ndarray, pred: np.ndarray, bands: dict[float, tuple[np.ndarray, np.ndarray]]) -> dict:
    """MAPE, coverage, and each week's |error| / interval half-width (covered iff <= 1; a band s times as wide
    covers it iff <= s), so that any width factor can be scored afterwards without refitting."""
    out: dict = {"mape_pct": float(np.mean(np.abs(pred - y_test) / y_test) * 100)}
    for c, (lo, hi) in bands.items():
        out[f"coverage_{round(c * 100)}_pct"] = float(np.mean((y_test >= lo) & (y_test <= hi)) * 100)
        centre, half = (lo + hi) / 2, (hi - lo) / 2
        out[f"ratio_{round(c * 100)}"] = (np.abs(y_test - centre) / half).tolist()
    return out


def one(args: tuple[int | None, dict]) -> dict:
    seed, model_kw = args
    df, mean, sd = generator()
    y = df["y"].to_numpy() if seed is None else mean + np.random.default_rng(seed).normal(0, sd, len(df))
    tr, te = df.iloc[:N_TRAIN], df.iloc[N_TRAIN:]
    yt = y[N_TRAIN:]
    m = MediaMixModel(
        media=["x1", "x2"], controls=["event_1", "event_2"], date="date_week", random_state=0, **model_kw
    )
    m.fit(tr, y[:N_TRAIN])
    ours = score(yt, m.predict(te), {c: m.predict_interval(te, coverage=c) for c in (0.8, 0.94)})
    mt = mean[N_TRAIN:]
    oracle = score(
        yt,
        mt,
        {
            c: (mt - stats.norm.ppf(0.5 + c / 2) * sd, mt + stats.norm.ppf(0.5 + c / 2) * sd)
            for c in (0.8, 0.94)
        },
    )
    return {
        "seed": seed,
        "ours": ours,
        "oracle": oracle,
        "test_noise_rms": float(np.sqrt(np.mean((yt - mt) ** 2))),
        "train_noise_rms": float(np.sqrt(np.mean((y[:N_TRAIN] - mean[:N_TRAIN]) ** 2))),
    }


def summarise(rows: list[dict], real: dict) -> dict:
    out: dict = {"replicas": len(rows)}
    for who in ("ours", "oracle"):
        for key in ("mape_pct", "coverage_80_pct", "coverage_94_pct"):
            v = np.array([r[who][key] for r in rows])
            out[f"{who}_{key}"] = {
                "mean": float(v.mean()),
                "p10": float(np.quantile(v, 0.1)),
                "median": float(np.median(v)),
                "p90": float(np.quantile(v, 0.9)),
                "real_file": real[who][key],
                "share_of_replicas_at_or_below_real": float(np.mean(v <= real[who][key] + 1e-9) * 100),
            }
        goals = np.array(
            [
                (r[who]["mape_pct"] <= 4.5)
                and (90 <= r[who]["coverage_94_pct"] <= 98)
                and (75 <= r[who]["coverage_80_pct"] <= 85)
                for r in rows
            ]
        )
        out[f"{who}_share_meeting_all_three_goals_pct"] = float(goals.mean() * 100)
        out[f"{who}_share_meeting_each_goal_pct"] = {
            "mape<=4.5": float(np.mean([r[who]["mape_pct"] <= 4.5 for r in rows]) * 100),
            "cov94 in 90-98": float(np.mean([90 <= r[who]["coverage_94_pct"] <= 98 for r in rows]) * 100),
            "cov80 in 75-85": float(np.mean([75 <= r[who]["coverage_80_pct"] <= 85 for r in rows]) * 100),
        }
        for c in (80, 94):
            ratios = np.array([r[who][f"ratio_{c}"] for r in rows])  # replicas x horizon
            out[f"{who}_coverage_{c}_by_horizon_pct"] = {
                f"h{a + 1}-{b}": float(np.mean(ratios[:, a:b] <= 1) * 100)
                for a, b in ((0, 9), (9, 18), (18, 27), (27, 36))
            }
            out[f"{who}_coverage_{c}_if_width_times_pct"] = {
                str(f): {
                    "replicas_mean": float(np.mean(ratios <= f) * 100),
                    "real_file": float(np.mean(np.array(real[who][f"ratio_{c}"]) <= f) * 100),
                }
                for f in WIDTH_FACTORS
            }
    out["real_file_noise_rms_train_test"] = [real["train_noise_rms"], real["test_noise_rms"]]
    out["recipe_noise_sd"] = generator()[2]
    return out


def _sim(seed: int) -> list[list[float]]:
    from simdata import simulate

    k = 2 + seed % 5
    weeks = 104 + 52 * ((seed // 5) % 3)
    df, y, truth = simulate(1000 + seed, k, weeks)
    cut = weeks - 26
    m = MediaMixModel(media=list(truth.roi), date="date", random_state=0).fit(df.iloc[:cut], y[:cut])
    return [
        score(y[cut:], m.predict(df.iloc[cut:]), {c: m.predict_interval(df.iloc[cut:], coverage=c)})[
            f"ratio_{round(c * 100)}"
        ]
        for c in (0.8, 0.94)
    ]


def simulations_width(n: int) -> dict:
    """The same width factors on bench_ml.py's simulations (same seeds, 26 held-out weeks each)."""
    sys.path.insert(0, str(HERE))
    with ProcessPoolExecutor(2) as pool:
        rows = list(pool.map(_sim, range(n)))
    out = {}
    for i, c in enumerate((80, 94)):
        ratios = np.concatenate([r[i] for r in rows])
        out[f"coverage_{c}_if_width_times_pct"] = {
            str(f): float(np.mean(ratios <= f) * 100) for f in WIDTH_FACTORS
        }
    return out


def training_only_evidence() -> dict:
    """What the 143 training weeks of the real file say about the interval width, with no look at the test weeks:
    the tails of the standardised residuals, and rolling-origin forecasts at the test's own horizons (h = 1..36,
    10 origins every 4 weeks from week 71, so that every forecast week is still a training week)."""
    df = pd.read_csv(DATA)
    tr = df.iloc[:N_TRAIN]
    y = tr["y"].to_numpy()
    kw = {"media": ["x1", "x2"], "controls": ["event_1", "event_2"], "date": "date_week", "random_state": 0}
    m = MediaMixModel(**kw).fit(tr, y)
    resid = (y - m.predict(tr)) / m.y_scale_ / m.sigma_
    out: dict = {
        "train_residual_excess_kurtosis": float(stats.kurtosis(resid)),
        "train_residual_shapiro_p": float(stats.shapiro(resid).pvalue),
        "calibration_z_rms": float(np.sqrt(np.mean(m.interval_scale_**2))),
    }
    z = []
    origins = list(range(71, N_TRAIN - 36 + 1, 4))
    for o in origins:
        sub = MediaMixModel(**kw, trend=m.trend_, calibration_folds=0, n_draws=0)
        sub.fit(tr.iloc[:o], y[:o], _init_u=m.u_)
        mean, sd = sub._predictive_sd(sub._rows(tr.iloc[o : o + 36]))
        z.append((y[o : o + 36] / sub.y_scale_ - mean) / sd)
    zz = np.abs(np.array(z))
    out["rolling_origin_by_horizon"] = {
        f"h{a + 1}-{b}": {
            "z_rms": float(np.sqrt(np.mean(zz[:, a:b] ** 2))),
            "coverage_80_pct": float(np.mean(zz[:, a:b] <= stats.norm.ppf(0.9)) * 100),
            "coverage_94_pct": float(np.mean(zz[:, a:b] <= stats.norm.ppf(0.97)) * 100),
        }
        for a, b in ((0, 9), (9, 18), (18, 27), (27, 36))
    }
    out["rolling_origin_origins"] = origins
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--kw", default="{}", help="MediaMixModel keyword arguments as JSON")
    ap.add_argument(
        "--sims", type=int, default=30, help="bench simulations to score width factors on (0: none)"
    )
    args = ap.parse_args()
    kw = json.loads(args.kw)
    with ProcessPoolExecutor(args.jobs) as pool:
        rows = list(pool.map(one, [(s, kw) for s in range(args.n)]))
    real = one((None, kw))
    res = summarise(rows, real)
    res["training_only_evidence"] = training_only_evidence()
    if args.sims:
        res["bench_simulations"] = simulations_width(args.sims)
    (HERE / "last_replicas.json").write_text(json.dumps(res, indent=2))
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
