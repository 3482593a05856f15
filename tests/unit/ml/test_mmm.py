import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from strategist.ml import InfeasibleBudgetError, MediaMixModel

from .conftest import make_weekly


def model(**kw):
    return MediaMixModel(media=["x1", "x2"], controls=["event_1"], date="date", random_state=0, **kw)


@pytest.fixture(scope="module")
def fitted(weekly):
    df, y, _ = weekly
    return model().fit(df.iloc[:90], y[:90])


def test_sklearn_conventions():
    m = model(n_starts=3)
    params = m.get_params()
    assert params["media"] == ["x1", "x2"] and params["n_starts"] == 3
    m.set_params(n_starts=2)
    assert clone(m).get_params()["n_starts"] == 2
    assert not [k for k in vars(m) if k.endswith("_") and not k.startswith("_")]


def test_same_data_same_seed_same_bits(weekly):
    df, y, _ = weekly
    a = model().fit(df.iloc[:80], y[:80])
    b = model().fit(df.iloc[:80], y[:80])
    nxt = df.iloc[80:90]
    assert np.array_equal(a.predict(nxt), b.predict(nxt))
    assert np.array_equal(a.predict_interval(nxt)[0], b.predict_interval(nxt)[0])
    assert a.roi_ == b.roi_
    assert a.optimize_budget(200.0) == b.optimize_budget(200.0)
    assert np.array_equal(a.draws_, b.draws_)


def test_recovers_roi_and_predicts(fitted, weekly):
    df, y, roi = weekly
    for c, true in roi.items():
        assert fitted.roi_[c] == pytest.approx(true, rel=0.3)
    pred = fitted.predict(df.iloc[90:])
    assert np.mean(np.abs(pred - y[90:]) / y[90:]) < 0.05


def test_contributions_sum_to_prediction_and_baseline_is_non_negative(fitted, weekly):
    df, _, _ = weekly
    for rows in (df.iloc[:90], df.iloc[90:]):
        c = fitted.contributions(rows)
        assert list(c.columns) == ["x1", "x2", "baseline"]
        assert np.allclose(c.sum(axis=1).to_numpy(), fitted.predict(rows))
        assert (c[["x1", "x2"]].to_numpy() >= 0).all()
    assert (fitted.contributions(df.iloc[:90])["baseline"] >= 0).all()


def test_adstock_carries_over_into_the_next_rows(fitted, weekly):
    df, _, _ = weekly
    whole = fitted.predict(df)
    assert np.allclose(fitted.predict(df.iloc[90:]), whole[90:])
    # with the history forgotten the first new week would lose carry-over
    fresh = fitted.contributions(df.iloc[90:])
    assert fresh["x1"].iloc[0] > 0


def test_intervals_widen_with_coverage_and_contain_the_mean(fitted, weekly):
    df, _, _ = weekly
    nxt = df.iloc[90:]
    mean = fitted.predict(nxt)
    lo8, hi8 = fitted.predict_interval(nxt, coverage=0.8)
    lo9, hi9 = fitted.predict_interval(nxt, coverage=0.94)
    assert np.all(lo9 <= lo8) and np.all(lo8 <= mean) and np.all(mean <= hi8) and np.all(hi8 <= hi9)
    with pytest.raises(ValueError):
        fitted.predict_interval(nxt, coverage=1.0)


def test_budget_is_spent_and_bounds_hold(fitted):
    plan = fitted.optimize_budget(250.0)
    assert sum(plan.values()) == pytest.approx(250.0)
    bounded = fitted.optimize_budget(250.0, bounds={"x1": (100.0, 120.0), "x2": (0.0, 200.0)})
    assert 100.0 - 1e-9 <= bounded["x1"] <= 120.0 + 1e-9
    with pytest.raises(InfeasibleBudgetError, match="upper bounds"):
        fitted.optimize_budget(250.0, bounds={"x1": (0.0, 100.0), "x2": (0.0, 100.0)})
    report = fitted.allocate(250.0)
    assert report.uplift_interval is not None and report.kkt_residual < 1e-6


def test_short_history_keeps_roi_sane():
    df, y, roi = make_weekly(seed=3, n_weeks=20)
    m = model(calibration_folds=0).fit(df, y)
    for c in roi:
        assert 0 <= m.roi_[c] < 10 * max(roi.values())


def test_channel_curves_are_monotone_and_concave(fitted):
    s = np.linspace(0, 500, 50)
    for curve in fitted.channel_curves().values():
        v = curve.value(s)
        assert np.all(np.diff(v) >= 0)
        assert np.all(np.diff(v, 2) <= 1e-9)


def test_hill_and_weibull_variants_fit(weekly):
    df, y, _ = weekly
    for kw in ({"saturation": "hill"}, {"adstock": "weibull"}, {"adstock": "delayed"}):
        m = model(calibration_folds=0, n_starts=2, **kw).fit(df.iloc[:90], y[:90])
        assert np.all(np.isfinite(m.predict(df.iloc[90:])))


def test_rejects_bad_input(weekly):
    df, y, _ = weekly
    with pytest.raises(ValueError, match="one value per row"):
        model().fit(df, y[:-1])
    bad = df.copy()
    bad.loc[3, "x1"] = -1
    with pytest.raises(ValueError, match="non-negative"):
        model().fit(bad, y)
    with pytest.raises(ValueError, match="trend"):
        model(trend="cubic").fit(df, y)


def test_daily_rows_get_weekly_seasonality():
    rng = np.random.default_rng(1)
    days = pd.date_range("2024-01-01", periods=120, freq="D")
    spend = rng.uniform(10, 30, 120)
    y = 500 + 50 * (days.day_of_week >= 5) + 10 * np.tanh(spend / 20) * 5 + rng.normal(0, 5, 120)
    df = pd.DataFrame({"date": days, "x1": spend})
    m = MediaMixModel(media=["x1"], date="date", random_state=0, calibration_folds=0).fit(df, y)
    assert m.weekly_order_ == 3 and m.l_max_ == 28
    assert np.mean(np.abs(m.predict(df) - y) / y) < 0.02


def test_mmm_example_held_out(data_dir):
    df = pd.read_csv(data_dir / "pymc_marketing" / "mmm_example.csv")
    tr, te = df.iloc[:143], df.iloc[143:]
    m = MediaMixModel(media=["x1", "x2"], controls=["event_1", "event_2"], date="date_week", random_state=0)
    m.fit(tr, tr["y"])
    y = te["y"].to_numpy()
    assert np.mean(np.abs(m.predict(te) - y) / y) < 0.05
    lo, hi = m.predict_interval(te, coverage=0.94)
    assert np.mean((y >= lo) & (y <= hi)) >= 0.8


def test_baseline_is_kept_non_negative_when_media_explain_almost_everything():
    rng = np.random.default_rng(4)
    dates = pd.date_range("2022-01-03", periods=104, freq="W-MON")
    spend = rng.uniform(50, 150, 104)
    season = 20 * np.sin(2 * np.pi * dates.day_of_year.to_numpy() / 365.25)
    y = 1000 * np.tanh(spend / 100) + season + 5 + rng.normal(0, 10, 104)
    df = pd.DataFrame({"date": dates, "x1": spend})
    m = MediaMixModel(media=["x1"], date="date", random_state=0, calibration_folds=0).fit(df, y)
    assert m.contributions(df)["baseline"].min() >= -1e-6 * np.abs(y).mean()
