"""Simulated weekly media-mix data with known truth (for the bench and the unit tests).

The truth follows the model family (geometric adstock, logistic saturation, linear trend, yearly seasonality,
additive noise) so that ROI errors and allocation gaps measure estimation, not misspecification.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from strategist.ml.adstock import apply_weights, geometric_weights
from strategist.ml.response import SaturationCurve


@dataclass
class Truth:
    roi: dict[str, float]
    curves: dict[str, SaturationCurve]
    alpha: dict[str, float]
    lam: dict[str, float]
    contrib: dict[str, np.ndarray]

    def roi_over(self, spend: pd.DataFrame, rows: slice) -> dict[str, float]:
        return {c: float(v[rows].sum() / spend[c].to_numpy()[rows].sum()) for c, v in self.contrib.items()}


def simulate(
    seed: int, n_channels: int = 3, n_weeks: int = 156, noise: float = 0.04
) -> tuple[pd.DataFrame, np.ndarray, Truth]:
    rng = np.random.default_rng(seed)
    names = [f"ch{i}" for i in range(n_channels)]
    dates = pd.date_range("2021-01-04", periods=n_weeks, freq="W-MON")
    t = np.arange(n_weeks) / n_weeks
    doy = dates.day_of_year.to_numpy()
    base = 1000.0 * (1 + 0.15 * t + 0.08 * np.sin(2 * np.pi * doy / 365.25 + rng.uniform(0, 6)))
    y = base.copy()
    df = pd.DataFrame({"date": dates})
    roi, curves, alphas, lams, contribs = {}, {}, {}, {}, {}
    for name in names:
        level = rng.uniform(50, 200)
        on = rng.uniform(size=n_weeks) < rng.uniform(0.6, 0.95)
        spend = level * rng.lognormal(0, 0.5, n_weeks) * on
        alpha = rng.uniform(0.1, 0.7)
        lam = rng.uniform(0.5, 2.5)
        share = rng.uniform(0.05, 0.25) / n_channels * 3
        scale = float(np.mean(spend[spend > 0]))
        ad = apply_weights(spend, geometric_weights(alpha, 8)[:, 0])
        sat = np.tanh(0.5 * lam * ad / scale)
        beta = share * 1000.0 / max(sat.mean(), 1e-9)
        contrib = beta * sat
        y += contrib
        df[name] = spend
        roi[name] = float(contrib.sum() / spend.sum())
        curves[name] = SaturationCurve("logistic", beta, (lam,), scale)
        alphas[name], lams[name], contribs[name] = alpha, lam, contrib
    y = y + rng.normal(0, noise * 1000.0, n_weeks)
    return df, y, Truth(roi, curves, alphas, lams, contribs)
