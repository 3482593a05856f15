import math

import numpy as np
import pandas as pd

from strategist.ml import allocate, fit_platform_response
from strategist.ml.curves import CONVERSION_ELASTICITY_PRIOR


def _days(n=420, elasticity=0.5, spend_sd=0.3, seed=3, level=200.0, weekly=0.2):
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2025-01-06", periods=n, freq="D")
    cycle = 1 + weekly * np.cos(2 * np.pi * np.arange(n) / 7)
    spend = level * cycle * np.exp(spend_sd * rng.standard_normal(n))
    impressions = np.round(spend / 10 * 1000 * np.exp(0.05 * rng.standard_normal(n)))
    clicks = np.round(impressions * 0.02 * np.exp(0.05 * rng.standard_normal(n)))
    # the weekly cycle moves conversions on its own too: a plain log-log fit would read it as elasticity
    conversions = np.round(40 * (spend / level) ** elasticity * cycle * np.exp(0.1 * rng.standard_normal(n)))
    revenue = conversions * 80 * np.exp(0.05 * rng.standard_normal(n))
    return pd.DataFrame(
        {
            "date": dates.date,
            "spend": spend,
            "impressions": impressions,
            "clicks": clicks,
            "conversions": conversions,
            "revenue": revenue,
        }
    )


def test_conversion_elasticity_is_recovered_despite_a_shared_weekly_cycle():
    r = fit_platform_response(_days(elasticity=0.5), "meta_ads")
    mean, sd = r.conversion_elasticity
    assert abs(mean - 0.5) < 3 * sd and sd < 0.05
    assert abs(r.elasticity - 1.0) < 0.1  # impressions stay near-linear in spend
    curve = r.curve("revenue")
    assert curve.concave and abs(curve.exponent - mean) < 1e-9
    marginal = curve.derivative(np.array([100.0, 200.0, 400.0]))
    assert np.all(np.diff(marginal) < 0)  # marginal ROAS falls with spend
    assert r.outcome_elasticity("clicks") == r.curve("clicks").exponent


def test_flat_spend_keeps_the_prior_elasticity():
    r = fit_platform_response(_days(spend_sd=0.0, weekly=0.0), "meta_ads")
    mean, sd = r.conversion_elasticity
    e0, sd0 = CONVERSION_ELASTICITY_PRIOR
    assert abs(mean - e0) < 0.05 and sd > 0.9 * sd0


def test_saturating_curve_reproduces_training_totals():
    days = _days(elasticity=0.4, spend_sd=0.5)
    r = fit_platform_response(days, "google_ads")
    spend = days["spend"].to_numpy()
    expected = float(r.expected(spend, "conversions").sum())
    assert math.isclose(expected, days["conversions"].sum(), rel_tol=0.05)
    sims = r.simulate(spend, 400, np.random.default_rng(0))
    assert math.isclose(
        float(np.median(sims["conversions"].sum(axis=1))), days["conversions"].sum(), rel_tol=0.05
    )


def test_two_equal_saturating_platforms_split_the_budget_instead_of_a_corner():
    a = fit_platform_response(_days(elasticity=0.5, seed=1), "meta_ads")
    b = fit_platform_response(_days(elasticity=0.5, seed=2), "google_ads")
    out = allocate({"meta": a.curve("revenue"), "google": b.curve("revenue")}, 400.0)
    assert 0.3 < out.spend["meta"] / 400.0 < 0.7


def test_cache_round_trip_keeps_the_conversion_elasticity():
    from strategist.services import response_models as rm

    r = fit_platform_response(_days(), "meta_ads")
    back = rm._from_params(rm._to_params(r))
    assert back.conversion_elasticity == r.conversion_elasticity
    assert np.allclose(back.expected(300.0), r.expected(300.0))
