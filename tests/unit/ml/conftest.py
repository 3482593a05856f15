"""Small synthetic weekly media-mix data with known truth, shared by the ML unit tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from strategist.ml.adstock import apply_weights, geometric_weights

DATA_DIR = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "mmm"


def make_weekly(seed: int = 0, n_weeks: int = 104, n_channels: int = 2, noise: float = 20.0):
    """Weekly rows with geometric adstock + logistic saturation; returns (frame, y, true ROI per channel)."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2022-01-03", periods=n_weeks, freq="W-MON")
    t = np.arange(n_weeks) / n_weeks
    y = 1000.0 * (1 + 0.1 * t + 0.05 * np.sin(2 * np.pi * dates.day_of_year.to_numpy() / 365.25))
    df = pd.DataFrame({"date": dates})
    roi = {}
    for i in range(n_channels):
        spend = rng.uniform(50, 150, n_weeks) * (rng.uniform(size=n_weeks) < 0.85)
        ad = apply_weights(spend, geometric_weights(0.3 + 0.2 * i, 8)[:, 0])
        contrib = 150.0 * np.tanh(0.5 * 1.5 * ad / spend[spend > 0].mean())
        y = y + contrib
        df[f"x{i + 1}"] = spend
        roi[f"x{i + 1}"] = float(contrib.sum() / spend.sum())
    df["event_1"] = 0.0
    df.loc[n_weeks // 3, "event_1"] = 1.0
    y = y + 200.0 * df["event_1"].to_numpy() + rng.normal(0, noise, n_weeks)
    return df, y, roi


@pytest.fixture(scope="module")
def weekly():
    return make_weekly()


@pytest.fixture(scope="module")
def data_dir() -> Path:
    if not DATA_DIR.is_dir():
        pytest.skip(f"shared data sets not found at {DATA_DIR}")
    return DATA_DIR
