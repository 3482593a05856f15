"""Search impression share (issue 7, competitor analysis): the Google Ads connector selects and reads it, the
simulator reports it the way Google does (Search campaigns only, "< 10%" as 0.0999), and the sync stores it."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st
from platform_testkit import respond, sample
from test_platform_google_ads import STREAM, connector

from infra.platform_sim.google import impression_shares
from strategist.adapters.platforms.google_ads import IMPRESSION_SHARE_METRICS
from strategist.adapters.platforms.google_ads import impression_shares as read_shares


def test_connector_selects_and_reads_impression_share(script, options) -> None:
    body = sample(
        "google_ads_searchstream_response.json"
    )  # the recorded sample, plus what Google adds for Search
    body[0]["results"][0]["metrics"].update(
        {
            "searchImpressionShare": 0.6421,
            "searchRankLostImpressionShare": 0.2103,
            "searchBudgetLostImpressionShare": 0.1476,
        }
    )
    script.on(STREAM, respond(body))
    search, video = connector(script, options).fetch_daily_metrics(date(2026, 8, 1), date(2026, 8, 1))
    query = json.loads(script.requests[0].content)["query"]
    assert all(f"metrics.{m}" in query for m in IMPRESSION_SHARE_METRICS)
    assert search.extra["search_impression_share"] == Decimal("0.6421")
    assert search.extra["search_rank_lost_impression_share"] == Decimal("0.2103")
    assert search.extra["search_budget_lost_impression_share"] == Decimal("0.1476")
    assert "search_impression_share" not in video.extra  # Google leaves them unset outside Search


def test_reader_ignores_missing_metrics() -> None:
    assert read_shares({}) == {}
    assert read_shares({"searchImpressionShare": 0.0999}) == {"search_impression_share": Decimal("0.0999")}


def _campaign(objective: str | None, half: float = 150.0, h: int = 123456789) -> SimpleNamespace:
    return SimpleNamespace(
        spec=SimpleNamespace(objective=objective, curve=SimpleNamespace(half_saturation=half)), hash=h
    )


@given(
    spend=st.floats(min_value=0, max_value=1e6, allow_nan=False),
    half=st.floats(min_value=1, max_value=1e4),
    h=st.integers(min_value=0, max_value=2**62),
)
def test_simulated_shares_behave_like_googles(spend, half, h) -> None:
    got = impression_shares(_campaign("SEARCH", half, h), spend)
    share, rank, budget = (
        got[f"search_{k}"]
        for k in ("impression_share", "rank_lost_impression_share", "budget_lost_impression_share")
    )
    assert 0.0999 <= share <= 1 and 0.1 <= rank <= 0.35 and 0 <= budget <= 0.9001
    if share > 0.0999 and budget < 0.9001:  # inside the reporting bounds the three add up to 100 %
        assert abs(share + rank + budget - 1) <= 2e-4
    more = impression_shares(_campaign("SEARCH", half, h), spend * 2 + 1)
    assert more["search_impression_share"] >= share  # more budget never loses share


def test_simulator_reports_nothing_outside_search() -> None:
    assert impression_shares(_campaign("VIDEO"), 100.0) == {}
    assert impression_shares(_campaign(None), 100.0)  # the simulator's default channel is SEARCH
