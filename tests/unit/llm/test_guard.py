"""The figure check: figures from the facts pass in the many ways prose writes them; an invented one fails."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strategist.adapters.llm.facts import StrategyFacts
from strategist.adapters.llm.guard import allowed_from_facts, check_text, extract_figures
from tests.unit.llm.conftest import GOOD_STRATEGY_TEXT, INVENTED_STRATEGY_TEXT, STRATEGY

FACTS = StrategyFacts.model_validate(STRATEGY)


def _fmt_money(value: float, decimals: int) -> str:
    return f"{value:,.{decimals}f}"


# Every way a writer may print an amount of money (v) in USD.
MONEY_FORMATS = [
    lambda v: f"${_fmt_money(v, 0)}",
    lambda v: f"${_fmt_money(v, 2)}",
    lambda v: f"USD {_fmt_money(v, 0)}",
    lambda v: f"{_fmt_money(v, 2)} USD",
    lambda v: f"USD{v:.0f}",
    lambda v: f"{v:.0f}",
    lambda v: f"${v / 1000:.1f}k",
    lambda v: f"{v / 1000:.2f}K USD",
    lambda v: f"${v / 1e6:.3f} million",
]
SHARE_FORMATS = [
    lambda s: f"{s * 100:.0f}%",
    lambda s: f"{s * 100:.1f}%",
    lambda s: f"{s * 100:.1f} %",
    lambda s: f"{s * 100:.0f} percent",
    lambda s: f"{s:.2f}",
]
RATIO_FORMATS = [
    lambda r: f"{r:.1f}x",
    lambda r: f"{r:.2f}x",
    lambda r: f"{r:.2f}×",
    lambda r: f"{r:.1f}",
    lambda r: f"{r * 100:.0f}%",
]

money = st.floats(min_value=1, max_value=5e7, allow_nan=False).map(lambda v: round(v, 2))
share = st.floats(min_value=0.001, max_value=1)
ratio = st.floats(min_value=0.05, max_value=30).map(lambda v: round(v, 4))


def _facts(budget: float, sh: float, roas: float) -> dict:
    return {
        "currency": "USD",
        "budget": Decimal(str(budget)),
        "share": sh,
        "roas": {"p10": roas, "p50": roas, "p90": roas},
    }


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    budget=money,
    sh=share,
    roas=ratio,
    mf=st.sampled_from(MONEY_FORMATS),
    sf=st.sampled_from(SHARE_FORMATS),
    rf=st.sampled_from(RATIO_FORMATS),
)
def test_fact_figures_pass_in_any_format(budget, sh, roas, mf, sf, rf):
    text = f"Spend {mf(budget)} with {sf(sh)} on search, for a return of {rf(roas)} over the flight."
    result = check_text(text, _facts(budget, sh, roas))
    assert result.ok, (text, result.violations)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    budget=money,
    sh=share,
    roas=ratio,
    offset=st.floats(min_value=1.5, max_value=1e4),
    fmt=st.sampled_from([*MONEY_FORMATS[:5], lambda v: f"{v:,.2f}x", lambda v: f"{v:,.1f}%"]),
)
def test_an_invented_figure_fails(budget, sh, roas, offset, fmt):
    # Far above every fact, including every fact read as a percentage (x 100): no rounding can reach it.
    invented = round(max(budget, roas, sh) * 100 + 100 + offset, 2)
    text = f"Spend {MONEY_FORMATS[0](budget)} and expect {fmt(invented)} more."
    result = check_text(text, _facts(budget, sh, roas))
    assert not result.ok
    assert len(result.violations) == 1 and "not in the facts" in result.violations[0]


def test_model_prose_with_fact_figures_passes():
    assert check_text(GOOD_STRATEGY_TEXT, FACTS).ok


def test_one_invented_figure_is_named():
    result = check_text(INVENTED_STRATEGY_TEXT, FACTS)
    assert not result.ok
    assert result.reason == "figure '4.2x' is not in the facts"


@pytest.mark.parametrize(
    "text",
    [
        "Revenue between $98,000 and $170,500.",  # range, money on both ends
        "Revenue of $98k–$170.5k.",  # range with magnitudes
        "A ROAS of 1.96-3.41x.",  # unit written once, on the high end
        "Shares of 36-44%.",  # percent written once
        "A budget of 50k over 30 days across 3 platforms.",  # counts from the facts
        "The 2nd platform, the #1 platform and the 90th percentile.",  # ordinals
        "p10, p50 and p90 of the forecast; Q3 and GA4 are names, not figures.",
        "1. Google Ads first.\n2. Meta next.\n3. TikTok last.",  # list markers are layout
        "CPM benchmark of 9.80 USD from 2024.",  # figures inside an assumption string
        "Spend $22,000.00 (0.44 of the budget).",
        "$131,000 is the central revenue estimate; about $131k.",
    ],
)
def test_formats_of_fact_figures(text):
    result = check_text(text, FACTS)
    assert result.ok, result.violations


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        ("Revenue between $98,000 and $175,000.", "$175,000"),
        ("A ROAS of 3.9x.", "3.9x"),
        ("Expect 12% more conversions.", "12%"),
        ("Spend $51,000.", "$51,000"),  # rounding does not stretch: 50,000 at this precision is 50,000
        ("Run it for 45 days.", "45"),
        ("Expect 2.5 million in revenue.", "2.5 million"),
        ("Budget €50,000.", "€50,000"),  # the right amount in the wrong currency
        ("Budget 50,000 EUR.", "50,000 EUR"),
    ],
)
def test_figures_not_in_the_facts(text, bad):
    result = check_text(text, FACTS)
    assert not result.ok
    assert any(repr(bad) in v for v in result.violations), result.violations


def test_precision_shown_decides_the_tolerance():
    facts = {"roas": 3.456}
    assert check_text("3.5x", facts).ok and check_text("3.46x", facts).ok and check_text("3x", facts).ok
    assert not check_text("3.4x", facts).ok and not check_text("3.45x", facts).ok


def test_sign_is_prose_not_figure():
    assert check_text("a drop of 12%", {"change": -0.12}).ok
    assert check_text("down ¥20,000", {"uplift": -20000, "currency": "JPY"}).ok


def test_extracted_units():
    figs = extract_figures("$1.2k, 45%, 3.5x, 2bn, 1,000,000.50 JPY, 3rd")
    assert [(f.mantissa, f.scale, f.unit, f.currency) for f in figs] == [
        (Decimal("1.2"), Decimal(1000), "", "$"),
        (Decimal(45), Decimal(1), "%", None),
        (Decimal("3.5"), Decimal(1), "x", None),
        (Decimal(2), Decimal(1_000_000_000), "", None),
        (Decimal("1000000.50"), Decimal(1), "", "JPY"),
        (Decimal(3), Decimal(1), "ordinal", None),
    ]


def test_allowed_values_include_counts_keys_and_dates():
    allowed = allowed_from_facts({"platforms": ["a", "b", "c"], "p90": 1, "start": "2026-03-01"})
    assert {Decimal(3), Decimal(90), Decimal(2026), Decimal(1)} <= allowed.values
