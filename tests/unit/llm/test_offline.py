"""The offline writer: deterministic, several paragraphs, money in its currency, and every figure a fact."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from strategist.adapters.llm import BudgetFacts, OfflineWriter, StrategyFacts, get_writer
from strategist.adapters.llm.guard import check_text


def test_default_writer_is_offline(monkeypatch):
    monkeypatch.delenv("LLM_PROVIDER", raising=False)
    assert isinstance(get_writer(None), OfflineWriter)


def test_strategy_narrative(strategy_facts):
    result = OfflineWriter().write(kind="strategy", facts=strategy_facts)
    assert (result.writer, result.model, result.fell_back, result.reason) == ("offline", None, False, None)
    assert result.prompt_version == "strategy.offline.v1"
    paragraphs = result.text.split("\n\n")
    assert len(paragraphs) == 5
    assert "$50,000 over 30 days" in paragraphs[0] and "Google Ads $22,000 (44%)" in paragraphs[0]
    assert "2.31x on Google Ads" in paragraphs[1] and "Another 10% of budget ($5,000)" in paragraphs[1]
    assert "between 1,210 and 1,901" in paragraphs[2] and "between $26.30 and $41.31" in paragraphs[2]
    assert "benchmark" in paragraphs[3] and "TikTok CPM benchmark 9.80 USD" in paragraphs[3]
    assert paragraphs[4].startswith("Test first on TikTok Ads")
    assert check_text(result.text, StrategyFacts.model_validate(strategy_facts)).ok


def test_deterministic_and_model_or_dict(strategy_facts):
    writer = OfflineWriter()
    a = writer.write(kind="strategy", facts=strategy_facts)
    b = writer.write(kind="strategy", facts=StrategyFacts.model_validate(strategy_facts))
    assert a == b


def test_budget_narrative_in_yen_has_no_decimals(budget_facts):
    result = OfflineWriter().write(kind="budget_optimization", facts=budget_facts)
    assert "Google Ads falls from ¥600,000 to ¥450,000 (down ¥150,000)" in result.text
    assert "between -¥20,000 and ¥320,000" in result.text and "not assured" in result.text
    assert "¥2,650,000" in result.text and "2,650,000." not in result.text  # 2,650,000.4 yen prints whole
    assert "approved" in result.text
    assert check_text(result.text, BudgetFacts.model_validate(budget_facts)).ok


def test_small_amounts_keep_the_currency_decimals(strategy_facts):
    strategy_facts["currency"] = "EUR"
    text = OfflineWriter().write(kind="strategy", facts=strategy_facts).text
    assert "€32.68" in text and "€50,000" in text


def test_bad_facts_are_refused(strategy_facts):
    strategy_facts["forecast"]["roas"] = {"p10": 3, "p50": 2, "p90": 4}
    with pytest.raises(ValidationError):
        OfflineWriter().write(kind="strategy", facts=strategy_facts)
    with pytest.raises(ValueError, match="unknown narrative kind"):
        OfflineWriter().write(kind="haiku", facts={})


# -- property: whatever the facts, the offline text states only facts --------------------------------------------
def interval(lo: float, hi: float) -> st.SearchStrategy[dict[str, float]]:
    return st.lists(st.floats(lo, hi), min_size=3, max_size=3).map(
        lambda v: dict(zip(("p10", "p50", "p90"), sorted(v), strict=True))
    )


amount = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999999"), places=2)


@st.composite
def strategy_facts_st(draw: st.DrawFn) -> dict:
    platforms = draw(
        st.lists(
            st.sampled_from(["google_ads", "meta_ads", "linkedin_ads", "tiktok_ads"]), min_size=1, unique=True
        )
    )
    shares = [draw(st.floats(0.01, 1)) for _ in platforms]
    total = sum(shares)
    budget = draw(amount)
    return {
        "client_name": draw(st.sampled_from(["Acme", "Studio 54", "Nord AB"])),
        "campaign_name": draw(st.none() | st.sampled_from(["Q3 push", "Launch"])),
        "objective": draw(st.sampled_from(["conversions", "awareness", "leads"])),
        "budget": budget,
        "currency": draw(st.sampled_from(["USD", "JPY", "EUR", "SEK", "KWD"])),
        "duration_days": draw(st.integers(1, 365)),
        "allocation": [
            {
                "platform": p,
                "budget": (budget * Decimal(s / total)).quantize(Decimal("0.01")),
                "share": s / total,
                "basis": draw(st.sampled_from(["history", "benchmark"])),
                "marginal_roas": draw(st.none() | st.floats(0, 20)),
            }
            for p, s in zip(platforms, shares, strict=True)
        ],
        "forecast": {
            "conversions": draw(interval(0, 1e6)),
            "revenue": draw(interval(0, 1e8)),
            "roas": draw(interval(0, 30)),
            "cpa": draw(interval(0.01, 5000)),
            "clicks": draw(st.none() | interval(0, 1e7)),
        },
        "basis": draw(st.sampled_from(["history", "benchmark", "mixed"])),
        "assumptions": draw(
            st.lists(st.sampled_from(["CTR 1.9% (WordStream 2024)", "CVR 3.75%"]), max_size=7)
        ),
        "first_test": draw(
            st.none()
            | st.fixed_dictionaries(
                {"name": st.just("Creative A/B"), "sample_size_per_arm": st.integers(1, 10**6)},
                optional={"duration_days": st.integers(1, 90), "platform": st.just("meta_ads")},
            )
        ),
        "similar_campaigns": draw(
            st.lists(
                st.fixed_dictionaries(
                    {"name": st.just("Autumn sale"), "similarity": st.floats(0, 1), "roas": st.floats(0, 20)}
                ),
                max_size=2,
            )
        ),
    }


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(facts=strategy_facts_st())
def test_offline_strategy_text_passes_the_figure_check(facts):
    result = OfflineWriter().write(kind="strategy", facts=facts)
    check = check_text(result.text, StrategyFacts.model_validate(facts))
    assert check.ok, (check.violations, result.text)


@st.composite
def budget_facts_st(draw: st.DrawFn) -> dict:
    names = draw(
        st.lists(st.sampled_from(["google_ads", "meta_ads", "Brand search 2"]), min_size=1, unique=True)
    )
    return {
        "client_name": "Acme",
        "currency": draw(st.sampled_from(["USD", "JPY", "GBP", "CHF"])),
        "mode": draw(st.sampled_from(["max_outcome", "target_roas", "target_cpa", "min_budget_for_target"])),
        "outcome_metric": draw(st.sampled_from(["revenue", "conversions"])),
        "target": draw(st.none() | st.floats(0.1, 50)),
        "current_total": draw(amount),
        "proposed_total": draw(amount),
        "period_days": draw(st.none() | st.integers(1, 90)),
        "items": [
            {
                "name": n,
                "current_budget": draw(amount),
                "proposed_budget": draw(amount),
                "marginal_roas": draw(st.none() | st.floats(0, 20)),
                "locked": draw(st.booleans()),
            }
            for n in names
        ],
        "current_outcome": draw(interval(0, 1e7)),
        "proposed_outcome": draw(interval(0, 1e7)),
        "uplift": draw(interval(-1e6, 1e6)),
        "uplift_pct": draw(st.none() | interval(-1, 2)),
        "basis": draw(st.sampled_from(["history", "benchmark", "mixed"])),
    }


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(facts=budget_facts_st())
def test_offline_budget_text_passes_the_figure_check(facts):
    result = OfflineWriter().write(kind="budget_optimization", facts=facts)
    check = check_text(result.text, BudgetFacts.model_validate(facts))
    assert check.ok, (check.violations, result.text)
