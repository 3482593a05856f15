"""The driver decomposition (strategist.domain.drivers): contributions always add up to the KPI's change, a pure
CPM change is 100 % CPM, and spend shares that do not move leave no mix effect."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from strategist.domain.drivers import MIX, FunnelSums, decompose, log_mean, summary_sentence

pos = st.floats(min_value=0.01, max_value=1e6, allow_nan=False, allow_infinity=False)


@st.composite
def funnels(draw: st.DrawFn) -> FunnelSums:
    spend = draw(pos)
    impressions = draw(st.floats(min_value=1.0, max_value=1e8))
    clicks = impressions * draw(st.floats(min_value=1e-4, max_value=0.5))
    conversions = clicks * draw(st.floats(min_value=1e-3, max_value=0.5))
    revenue = conversions * draw(st.floats(min_value=0.1, max_value=1e3))
    return FunnelSums(spend, impressions, clicks, conversions, revenue)


rows = st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), funnels(), min_size=1, max_size=4)


def _by_name(d):
    return {c.name: c for c in d.components}


@settings(max_examples=200, deadline=None)
@given(before=rows, after=rows, kpi=st.sampled_from(["cpa", "cpc", "roas"]))
def test_contributions_sum_to_the_total_change(before, after, kpi):
    d = decompose(kpi, before, after)
    assert d.ok
    assert math.isclose(d.log_points, 100 * math.log(d.current / d.previous), abs_tol=1e-9)
    total_log = sum(c.log_points for c in d.components)
    assert math.isclose(total_log, d.log_points, rel_tol=1e-6, abs_tol=1e-6)
    total_pct = sum(c.pct_points for c in d.components)
    assert math.isclose(total_pct, d.change_pct, rel_tol=1e-6, abs_tol=1e-6)
    if abs(d.log_points) > 1e-6:
        assert math.isclose(sum(c.share_pct for c in d.components), 100.0, rel_tol=1e-6)


@settings(max_examples=100, deadline=None)
@given(
    base=funnels(),
    factor=st.floats(min_value=0.2, max_value=5.0),
    kpi=st.sampled_from(["cpa", "cpc", "roas"]),
)
def test_a_pure_cpm_change_is_all_cpm(base, factor, kpi):
    """Same spend, impressions scaled by 1/factor with CTR, CVR and AOV held: only CPM moved."""
    assume(abs(factor - 1) > 1e-3)
    k = 1 / factor
    after = FunnelSums(
        base.spend, base.impressions * k, base.clicks * k, base.conversions * k, base.revenue * k
    )
    d = decompose(kpi, {"t": base}, {"t": after})
    parts = _by_name(d)
    assert math.isclose(parts["cpm"].share_pct, 100.0, rel_tol=1e-6)
    assert math.isclose(parts["cpm"].log_points, d.log_points, rel_tol=1e-6)
    for name, c in parts.items():
        if name != "cpm":
            assert abs(c.log_points) < 1e-6
    assert parts["cpm"].factor_went == ("up" if factor > 1 else "down")


@settings(max_examples=150, deadline=None)
@given(before=rows, growth=st.floats(min_value=0.1, max_value=10), data=st.data())
def test_mix_is_zero_when_spend_shares_do_not_move(before, growth, data):
    """Every row's spend scales by the same factor (shares fixed) while its funnel changes freely."""
    after = {}
    for k, s in before.items():
        new = data.draw(funnels())
        after[k] = FunnelSums(
            s.spend * growth,
            new.impressions,
            new.clicks,
            new.conversions,
            new.revenue,
        )
    for kpi in ("cpa", "cpc", "roas"):
        d = decompose(kpi, before, after)
        mix = _by_name(d).get(MIX)
        assert mix is None or abs(mix.log_points) < 1e-6 * max(1.0, abs(d.log_points))


def test_hand_computed_cpa_and_sentence():
    """CPM +18 %, CTR +2 %, CVR -9 %: dlog CPA = ln 1.18 - ln 1.02 - ln 0.91."""
    before = FunnelSums(1000, 100_000, 2_000, 100, 5_000)
    imps = 1180 / 1.18 / 1000 * 1000 * 100  # CPM 10 -> 11.8 at spend 1180
    after = FunnelSums(1180, imps, imps * 0.0204, imps * 0.0204 * 0.0455, 5_000)
    d = decompose("cpa", {"t": before}, {"t": after})
    parts = _by_name(d)
    assert math.isclose(parts["cpm"].log_points, 100 * math.log(1.18), rel_tol=1e-9)
    assert math.isclose(parts["ctr"].log_points, -100 * math.log(1.02), rel_tol=1e-9)
    assert math.isclose(parts["cvr"].log_points, -100 * math.log(0.91), rel_tol=1e-9)
    expected_pct = (1.18 / 1.02 / 0.91 - 1) * 100
    assert math.isclose(d.change_pct, expected_pct, rel_tol=1e-9)
    assert MIX not in parts  # one row: no mix component
    sentence = summary_sentence(d)
    assert sentence.startswith(f"CPA rose {expected_pct:.1f} %: ")
    assert "from higher CPM" in sentence and "from lower CVR" in sentence and "from CTR" in sentence
    assert "higher CTR" not in sentence  # CTR rose, which pulled CPA down: no adjective that reads wrong


def test_shift_of_spend_toward_a_worse_ad_set_is_mix():
    """Two ad sets with unchanged funnels; spend moves 50/50 -> 20/80 toward the one with half the CVR."""
    good = lambda s: FunnelSums(s, s * 100, s * 2, s * 0.1, s * 5)  # noqa: E731
    bad = lambda s: FunnelSums(s, s * 100, s * 2, s * 0.05, s * 2.5)  # noqa: E731
    d = decompose("cpa", {"g": good(500), "b": bad(500)}, {"g": good(200), "b": bad(800)})
    parts = _by_name(d)
    # CPA 1000/75 = 13.33 -> 1000/60 = 16.67: +25 %, all of it mix
    assert math.isclose(d.change_pct, 25.0, rel_tol=1e-9)
    assert math.isclose(parts[MIX].share_pct, 100.0, rel_tol=1e-9)
    assert all(abs(parts[f].log_points) < 1e-9 for f in ("cpm", "ctr", "cvr"))
    assert summary_sentence(d).startswith("CPA rose 25.0 %: 25.0 points from mix across ad sets")


def test_new_ad_set_and_zero_conversion_rows_still_sum():
    before = {"a": FunnelSums(100, 10_000, 100, 5, 50)}
    after = {"a": FunnelSums(100, 10_000, 100, 0, 0), "new": FunnelSums(50, 5_000, 60, 6, 90)}
    d = decompose("cpa", before, after)
    assert d.ok
    assert math.isclose(sum(c.log_points for c in d.components), d.log_points, rel_tol=1e-9)
    assert {"mix", "rate_unsplit"} <= set(_by_name(d))


def test_undefined_kpi_says_why():
    d = decompose("cpa", {"t": FunnelSums(100, 1000, 10, 0, 0)}, {"t": FunnelSums(100, 1000, 10, 2, 0)})
    assert not d.ok and d.previous is None and d.current == 50 and "conversions" in d.reason
    assert "no decomposition" in summary_sentence(d)


def test_log_mean():
    assert log_mean(2, 2) == 2
    assert math.isclose(log_mean(1, math.e), (math.e - 1) / 1)
    with pytest.raises(ValueError):
        log_mean(0, 1)
