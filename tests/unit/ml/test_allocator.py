import math
import time

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import optimize

from strategist.ml import (
    InfeasibleBudgetError,
    PowerCurve,
    SaturationCurve,
    allocate,
    allocate_for_target,
    min_budget_for_outcome,
)

curve_st = st.builds(
    lambda scale, lam, inp: SaturationCurve("logistic", scale, (lam,), inp),
    st.floats(10, 1000),
    st.floats(0.2, 5),
    st.floats(10, 500),
)


def curves_of(cs):
    return {f"c{i}": c for i, c in enumerate(cs)}


@settings(max_examples=60, deadline=None)
@given(cs=st.lists(curve_st, min_size=1, max_size=6), total=st.floats(1, 5000))
def test_spends_the_whole_total_and_reaches_kkt(cs, total):
    a = allocate(curves_of(cs), total)
    assert sum(a.spend.values()) == pytest.approx(total, rel=1e-9)
    assert all(v >= 0 for v in a.spend.values())
    assert a.kkt_residual < 1e-6
    assert a.exact


@settings(max_examples=60, deadline=None)
@given(
    cs=st.lists(curve_st, min_size=2, max_size=6),
    lows=st.lists(st.floats(0, 100), min_size=6, max_size=6),
    widths=st.lists(st.floats(0, 300), min_size=6, max_size=6),
    frac=st.floats(0, 1),
)
def test_bounds_are_respected_or_the_request_is_refused(cs, lows, widths, frac):
    curves = curves_of(cs)
    bounds = {n: (lows[i], lows[i] + widths[i]) for i, n in enumerate(curves)}
    lo = sum(b[0] for b in bounds.values())
    hi = sum(b[1] for b in bounds.values())
    total = lo + frac * (hi - lo)
    a = allocate(curves, total, bounds)
    for n, (b_lo, b_hi) in bounds.items():
        assert b_lo - 1e-9 <= a.spend[n] <= b_hi + 1e-9
    assert sum(a.spend.values()) == pytest.approx(total, rel=1e-9, abs=1e-9)
    with pytest.raises(InfeasibleBudgetError, match="upper bounds"):
        allocate(curves, hi * 1.01 + 1, bounds)
    if lo > 1e-3:
        with pytest.raises(InfeasibleBudgetError, match="lower bound"):
            allocate(curves, lo * 0.99, bounds)


@settings(max_examples=30, deadline=None)
@given(cs=st.lists(curve_st, min_size=2, max_size=5), total=st.floats(10, 2000))
def test_matches_a_generic_solver(cs, total):
    curves = curves_of(cs)
    a = allocate(curves, total)
    names = list(curves)

    def neg(x):
        return -sum(float(curves[n].value(v)) for n, v in zip(names, x, strict=True))

    res = optimize.minimize(
        neg,
        np.full(len(names), total / len(names)),
        bounds=[(0, total)] * len(names),
        constraints=[{"type": "eq", "fun": lambda x: x.sum() - total}],
        method="SLSQP",
    )
    assert a.total_outcome >= -res.fun - 1e-6 * max(1.0, abs(res.fun))


@settings(max_examples=30, deadline=None)
@given(cs=st.lists(curve_st, min_size=2, max_size=6), total=st.floats(10, 2000))
def test_deterministic(cs, total):
    curves = curves_of(cs)
    assert allocate(curves, total).spend == allocate(curves, total).spend


def test_locked_channels_and_ratios():
    curves = {
        n: SaturationCurve("logistic", s, (1.0,), 100.0)
        for n, s in zip("abcd", (100, 200, 300, 400), strict=True)
    }
    a = allocate(curves, 1000, locked={"a": 50}, ratios={("b", "c"): 0.5})
    assert a.spend["a"] == 50
    assert a.spend["b"] == pytest.approx(0.5 * a.spend["c"])
    assert sum(a.spend.values()) == pytest.approx(1000)
    with pytest.raises(InfeasibleBudgetError, match="contradicts"):
        allocate(curves, 1000, ratios={("b", "c"): 0.5, ("c", "d"): 2.0, ("b", "d"): 3.0})
    with pytest.raises(InfeasibleBudgetError, match="'a' is locked"):
        allocate(curves, 1000, bounds={"a": (0, 10)}, locked={"a": 50})
    with pytest.raises(InfeasibleBudgetError, match="'a': lower bound"):
        allocate(curves, 1000, bounds={"a": (20, 10)})


def test_narrow_bounds_never_return_the_input_silently():
    curves = {n: SaturationCurve("logistic", 100, (1.0,), 100.0) for n in "ab"}
    with pytest.raises(InfeasibleBudgetError):
        allocate(curves, 100, bounds={"a": (10, 20), "b": (10, 20)})


def test_marginal_returns_are_equal_at_an_interior_optimum():
    curves = {
        n: SaturationCurve("logistic", s, (1.5,), 100.0) for n, s in zip("abc", (300, 400, 500), strict=True)
    }
    a = allocate(curves, 600, current={"a": 200, "b": 200, "c": 200})
    assert min(a.spend.values()) > 0
    m = list(a.marginal_roas.values())
    assert max(m) - min(m) < 1e-8 * max(m)
    assert a.uplift is not None and a.uplift >= 0


def test_uplift_interval_from_joint_draws():
    rng = np.random.default_rng(0)
    draws = np.column_stack([rng.normal(100, 10, 200), rng.normal(1.0, 0.1, 200)])
    curves = {n: SaturationCurve("logistic", 100, (1.0,), 100.0, draws=draws) for n in "ab"}
    a = allocate(curves, 200, current={"a": 180, "b": 20})
    lo, hi = a.uplift_interval
    assert lo <= a.uplift <= hi


def test_target_modes_and_minimum_budget():
    curves = {n: PowerCurve(c, 0.7) for n, c in zip("abc", (5.0, 3.0, 2.0), strict=True)}
    a = allocate_for_target(curves, target_roas=2.0)
    assert a.total_outcome / a.total == pytest.approx(2.0, rel=1e-6)
    marginal = allocate_for_target(curves, target_roas=2.0, mode="marginal")
    assert all(v == pytest.approx(2.0, rel=1e-6) for v in marginal.marginal_roas.values())
    cpa = allocate_for_target(curves, target_cpa=0.5)
    assert cpa.total / cpa.total_outcome == pytest.approx(0.5, rel=1e-6)
    m = min_budget_for_outcome(curves, 500.0)
    assert m.total_outcome == pytest.approx(500.0, rel=1e-6)
    smaller = allocate(curves, m.total * 0.99)
    assert smaller.total_outcome < 500.0
    with pytest.raises(InfeasibleBudgetError, match="above"):
        min_budget_for_outcome(curves, 1e9, bounds={n: (0, 100) for n in curves})
    with pytest.raises(InfeasibleBudgetError):
        allocate_for_target({"a": SaturationCurve("logistic", 10, (1.0,), 100.0)}, target_roas=100.0)


def test_non_concave_curves_are_reported_as_inexact():
    curves = {n: SaturationCurve("hill", 100, (50.0, 2.5), 1.0) for n in "ab"}
    a = allocate(curves, 150)
    assert not a.exact
    assert sum(a.spend.values()) == pytest.approx(150)


def test_six_channels_with_bounds_is_fast():
    curves = {f"c{i}": SaturationCurve("logistic", 100 * (i + 1), (1 + 0.2 * i,), 50.0) for i in range(6)}
    bounds = {k: (20.0, 200.0) for k in curves}
    allocate(curves, 600, bounds)
    start = time.perf_counter()
    for _ in range(20):
        allocate(curves, 600, bounds)
    assert (time.perf_counter() - start) / 20 < 0.02
    assert math.isfinite(allocate(curves, 600, bounds).kkt_residual)


@settings(max_examples=20, deadline=None)
@given(cs=st.lists(curve_st, min_size=2, max_size=4), t1=st.floats(10, 1000), t2=st.floats(10, 1000))
def test_optimal_outcome_grows_with_budget(cs, t1, t2):
    assume(abs(t1 - t2) > 1e-6)
    curves = curves_of(cs)
    lo, hi = sorted((t1, t2))
    assert allocate(curves, hi).total_outcome >= allocate(curves, lo).total_outcome - 1e-9


def test_power_curve_near_linear_does_not_overflow():
    """An elasticity a hair below 1 made (m / (c e)) ** (1 / (e - 1)) overflow a float (seen on real history)."""
    import math

    from strategist.ml import PowerCurve, allocate

    nearly_linear = PowerCurve(coef=3.0, exponent=0.9995)
    assert nearly_linear.spend_for_marginal(0.5) == math.inf
    assert nearly_linear.spend_for_marginal(10.0) == 0.0
    alloc = allocate({"a": nearly_linear, "b": PowerCurve(coef=2.0, exponent=0.6)}, 300.0)
    assert abs(sum(alloc.spend.values()) - 300.0) < 1e-6
