import math

import numpy as np
import pandas as pd
import pytest

from strategist.domain.platforms import Platform
from strategist.ml import (
    allocate,
    benchmark_prior,
    fit_platform_response,
    forecast_plan,
    load_benchmarks,
    prior_response,
)


def test_every_benchmark_figure_has_a_source_url_and_date():
    table = load_benchmarks()
    assert len(table) > 20
    assert table[["source", "url", "published"]].notna().all().all()
    assert table["url"].str.startswith("https://").all()
    assert (table["value"] > 0).all()
    assert set(table["platform"]) - {"any"} <= {p.value for p in Platform}
    assert set(table["metric"]) <= {"cpm", "ctr", "cvr", "cpc", "aov"}


@pytest.mark.parametrize("platform", [p.value for p in Platform if p is not Platform.EMAIL])
def test_paid_platforms_get_a_full_funnel_prior(platform):
    prior = benchmark_prior(platform, "conversions", "ecommerce")
    for metric in ("cpm", "ctr", "cvr", "cpc", "aov"):
        m = prior.get(metric)
        assert m is not None and m.median > 0 and m.log_sd >= 0.5
        assert m.sources


def test_email_without_a_cost_benchmark_asks_for_one():
    with pytest.raises(ValueError, match="overrides"):
        prior_response("email")
    r = prior_response("email", overrides={"cpm": (0.5, 0.5)})
    assert r.expected(100.0, "clicks")[0] > 0


def daily(n, seed=0, ctr=0.012, cvr=0.03, aov=80.0, cpm=18.0):
    rng = np.random.default_rng(seed)
    spend = rng.uniform(50, 150, n)
    imp = spend * 1000 / cpm * (spend / 100) ** -0.2 * np.exp(rng.normal(0, 0.1, n))
    clicks = rng.binomial(imp.astype(int), ctr)
    conv = rng.binomial(clicks, cvr)
    return pd.DataFrame(
        {
            "date": pd.date_range("2025-01-01", periods=n),
            "spend": spend,
            "impressions": imp,
            "clicks": clicks,
            "conversions": conv,
            "revenue": conv * aov,
        }
    )


def test_history_overrides_the_prior_and_short_history_is_shrunk():
    prior = benchmark_prior("meta_ads", "conversions", "ecommerce")
    long = fit_platform_response(daily(200), "meta_ads", prior)
    short = fit_platform_response(daily(3), "meta_ads", prior)
    assert math.exp(long.ctr.mean) == pytest.approx(0.012, rel=0.1)
    assert math.exp(long.aov.mean) == pytest.approx(80.0, rel=0.05)
    assert long.elasticity == pytest.approx(0.8, abs=0.05)
    # three days: between the prior and the data, and less certain than a long history
    assert short.cvr.sd > long.cvr.sd
    lo, hi = sorted((prior.get("cvr").log_median, math.log(0.03)))
    assert lo - 1e-9 <= short.cvr.mean <= hi + 1e-9


def test_response_curve_is_concave_and_allocatable():
    r = fit_platform_response(daily(60), "meta_ads")
    curve = r.curve("revenue")
    s = np.linspace(1, 1000, 40)
    v = curve.value(s)
    assert np.all(np.diff(v) > 0) and np.all(np.diff(v, 2) <= 1e-9)
    a = allocate(
        {"meta_ads": curve, "google_ads": prior_response("google_ads").curve()},
        500.0,
        current={"meta_ads": 250.0, "google_ads": 250.0},
    )
    assert sum(a.spend.values()) == pytest.approx(500.0)
    assert a.uplift_interval is not None


def test_forecast_quantiles_ordered_deterministic_and_wider_without_history():
    fitted = fit_platform_response(daily(120), "meta_ads")
    blind = prior_response("meta_ads", "conversions", "ecommerce")
    plan = pd.DataFrame({"date": pd.date_range("2025-06-01", periods=7), "meta_ads": [100.0] * 7})
    a = forecast_plan(plan, {"meta_ads": fitted}, random_state=1, n_draws=500)
    b = forecast_plan(plan, {"meta_ads": fitted}, random_state=1, n_draws=500)
    pd.testing.assert_frame_equal(a, b)
    assert (a["p10"] <= a["p50"]).all() and (a["p50"] <= a["p90"]).all()
    assert set(a["metric"]) == {"impressions", "clicks", "conversions", "revenue", "roas"}
    c = forecast_plan(plan, {"meta_ads": blind}, random_state=1, n_draws=500)

    def width(f):
        row = f[(f["date"] == "total") & (f["platform"] == "total") & (f["metric"] == "revenue")].iloc[0]
        return row["p90"] / row["p10"]

    assert width(c) > 2 * width(a)
    with pytest.raises(KeyError):
        forecast_plan(plan.rename(columns={"meta_ads": "tiktok_ads"}), {"meta_ads": fitted})


def test_forecast_covers_simulated_truth():
    """The 80 % band of total revenue holds the realised value about 80 % of the time."""
    r = fit_platform_response(daily(90, seed=5), "meta_ads")
    plan = pd.DataFrame({"date": pd.date_range("2025-06-01", periods=1), "meta_ads": [100.0]})
    f = forecast_plan(plan, {"meta_ads": r}, random_state=0, n_draws=4000)
    row = f[(f["date"] == "total") & (f["platform"] == "meta_ads") & (f["metric"] == "clicks")].iloc[0]
    hits = 0
    for seed in range(200):
        d = daily(1, seed=1000 + seed)
        d["spend"] = 100.0
        rng = np.random.default_rng(seed)
        imp = 100 * 1000 / 18 * np.exp(rng.normal(0, 0.1))
        clicks = rng.binomial(int(imp), 0.012)
        hits += row["p10"] <= clicks <= row["p90"]
    assert 0.65 <= hits / 200 <= 0.97
