import numpy as np
import pandas as pd
import pytest

from strategist.ml import (
    MediaMixModel,
    always_valid_pvalues,
    backtest,
    detect_anomalies,
    difference_in_means,
    difference_in_proportions,
    sequential_proportions,
)

from .conftest import make_weekly


def series(n=120, seed=0):
    rng = np.random.default_rng(seed)
    days = pd.date_range("2025-01-01", periods=n)
    weekly = 1 + 0.4 * (days.day_of_week >= 5)
    return pd.Series(rng.poisson(1000 * weekly).astype(float), index=days)


def test_spike_and_drop_detected_weekly_pattern_and_holidays_not():
    s = series()
    s.iloc[60] *= 3
    s.iloc[80] *= 0.2
    s.iloc[100] *= 3
    out = detect_anomalies(s, holidays=[s.index[100].date()])
    flagged = set(out.index[out["is_anomaly"]])
    assert s.index[60] in flagged and s.index[80] in flagged
    assert s.index[100] not in flagged and out.loc[s.index[100], "holiday"]
    assert out.loc[s.index[60], "direction"] == "up" and out.loc[s.index[80], "direction"] == "down"
    assert len(flagged) <= 4


def test_anomaly_baseline_is_causal():
    s = series()
    a = detect_anomalies(s.iloc[:90])
    b = detect_anomalies(s)
    pd.testing.assert_frame_equal(a, b.iloc[:90])


def test_proportion_difference_interval_covers():
    rng = np.random.default_rng(0)
    hits = 0
    for _ in range(400):
        ca, cb = rng.binomial(2000, 0.05), rng.binomial(2000, 0.06)
        r = difference_in_proportions(ca, 2000, cb, 2000)
        hits += r.ci[0] <= 0.01 <= r.ci[1]
    assert 0.92 <= hits / 400 <= 0.98


def test_welch_difference():
    rng = np.random.default_rng(1)
    r = difference_in_means(rng.normal(10, 1, 500), rng.normal(10.5, 3, 500))
    assert r.ci[0] < 0.5 < r.ci[1] and r.p_value < 0.05


def test_peeking_does_not_inflate_false_positives_with_the_sequential_test():
    """Null true, 20 looks: the naive test rejects far more than 5 %, the mixture SPRT at most about 5 %."""
    rng = np.random.default_rng(42)
    sims, looks, per_look, p = 2000, 20, 250, 0.05
    ca = rng.binomial(per_look, p, (sims, looks)).cumsum(axis=1)
    cb = rng.binomial(per_look, p, (sims, looks)).cumsum(axis=1)
    n = per_look * np.arange(1, looks + 1)
    pa, pb = ca / n, cb / n
    pooled = (ca + cb) / (2 * n)
    var = np.maximum(pooled * (1 - pooled) * 2 / n, 1e-12)
    naive = (np.abs(pb - pa) / np.sqrt(var) > 1.96).any(axis=1).mean()
    sequential = (always_valid_pvalues(pb - pa, var, tau=0.01)[:, -1] <= 0.05).mean()
    assert naive > 0.15
    assert sequential <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / sims)


def test_sequential_test_detects_a_real_lift():
    rng = np.random.default_rng(7)
    n = 4000 * np.arange(1, 11)
    ca = rng.binomial(4000, 0.05, 10).cumsum()
    cb = rng.binomial(4000, 0.065, 10).cumsum()
    r = sequential_proportions(ca, n, cb, n)
    assert r.reject and r.confidence_sequence[0] > 0


def test_backtest_reports_coverage():
    df, y, _ = make_weekly(seed=2, n_weeks=100)
    m = MediaMixModel(
        media=["x1", "x2"], controls=["event_1"], date="date", random_state=0, calibration_folds=3
    )
    rep = backtest(m, df, y, n_splits=2, horizon=13)
    assert set(rep.coverage) == {0.8, 0.94}
    assert rep.n_points == 26 and 0 <= rep.mape < 0.1
    with pytest.raises(ValueError):
        backtest(m, df.iloc[:10], y[:10], n_splits=5, horizon=13)
