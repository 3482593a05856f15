"""Similar past campaigns over pgvector: ranking, one hit per lineage, results from campaign_metrics, and isolation
between tenants."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text

from strategist.adapters.db.metrics_store import MetricRow, upsert_metrics
from strategist.adapters.db.models import Campaign, MarketingStrategy
from strategist.bootstrap import system_unit_of_work
from strategist.services.similarity import (
    SimilarStrategy,
    brief_text,
    embed_text,
    similar_strategies,
)

SHOES = {
    "objective": "conversions",
    "campaign_type": "product_launch",
    "target_audience": {
        "demographics": {"age": "25-45", "gender": "all"},
        "interests": ["running", "fitness", "outdoor"],
        "behaviors": ["online shoppers"],
    },
    "platforms": ["google_ads", "meta_ads"],
    "industry": "retail",
    "kpis": ["roas", "conversions"],
}
B2B = {
    "objective": "leads",
    "campaign_type": "lead_generation",
    "target_audience": {
        "demographics": {"job_titles": ["CTO", "IT director"]},
        "interests": ["cloud security"],
    },
    "platforms": ["linkedin_ads"],
    "industry": "software",
    "kpis": ["cpa", "leads"],
}
AWARENESS = {
    "objective": "awareness",
    "campaign_type": "brand",
    "target_audience": {"demographics": {"age": "18-24"}, "interests": ["gaming", "music"]},
    "platforms": ["tiktok_ads", "youtube_ads"],
    "industry": "entertainment",
    "kpis": ["reach", "video_views"],
}


def add_strategy(
    tenant_id: uuid.UUID, client_id: uuid.UUID, brief: dict[str, Any], name: str, **kw: Any
) -> uuid.UUID:
    sid = uuid.uuid4()
    with system_unit_of_work("test") as uow:
        uow.set_tenant(tenant_id)
        uow.session.add(
            MarketingStrategy(
                id=sid,
                tenant_id=tenant_id,
                client_id=client_id,
                lineage_id=kw.get("lineage_id", sid),
                version=kw.get("version", 1),
                name=name,
                objective=brief["objective"],
                campaign_type=brief["campaign_type"],
                currency=kw.get("currency", "USD"),
                total_budget=Decimal("10000"),
                duration_days=30,
                platforms=brief["platforms"],
                brief=brief,
                result={},
                embedding=embed_text(brief_text(brief)),
            )
        )
    return sid


def add_results(
    tenant_id, client_id, strategy_id, rows: list[tuple[str, dt.date, str, str, str, str]]
) -> None:
    """rows: (currency, date, breakdown, cost, conversions, value), one campaign per currency."""
    with system_unit_of_work("test") as uow:
        uow.set_tenant(tenant_id)
        campaigns: dict[str, uuid.UUID] = {}
        metric_rows = []
        for currency, day, breakdown, cost, conv, value in rows:
            if currency not in campaigns:
                campaigns[currency] = uuid.uuid4()
                uow.session.add(
                    Campaign(
                        id=campaigns[currency],
                        tenant_id=tenant_id,
                        client_id=client_id,
                        platform="google_ads",
                        external_id=f"ext-{campaigns[currency].hex[:8]}",
                        name=f"From strategy ({currency})",
                        currency=currency,
                        strategy_id=strategy_id,
                    )
                )
                uow.session.flush()
            metric_rows.append(
                MetricRow(
                    campaign_id=campaigns[currency],
                    date=day,
                    breakdown=breakdown,
                    currency=currency,
                    cost=Decimal(cost),
                    impressions=1000,
                    clicks=50,
                    conversions=Decimal(conv),
                    conversion_value=Decimal(value),
                    time_zone="UTC",
                    attribution_window="default",
                    source="test",
                )
            )
        upsert_metrics(uow.session, tenant_id, metric_rows)


def search(tenant_id: uuid.UUID, brief: dict[str, Any], **kw: Any) -> list[SimilarStrategy]:
    with system_unit_of_work("test") as uow:
        uow.set_tenant(tenant_id)
        return similar_strategies(uow, brief_text(brief), **kw)


def test_embedding_is_deterministic_normalised_and_offline():
    a, b = embed_text(brief_text(SHOES)), embed_text(brief_text(dict(reversed(list(SHOES.items())))))
    assert a == b and len(a) == 256
    assert abs(sum(v * v for v in a) - 1) < 1e-9
    # Field and list order do not matter; what the campaign is does.
    shuffled = {**SHOES, "platforms": ["meta_ads", "google_ads"], "kpis": ["conversions", "roas"]}
    assert embed_text(brief_text(shuffled)) == a
    assert brief_text(SHOES).splitlines() == [
        "conversions",
        "product launch",
        "age 25 45; fitness; gender all; online shoppers; outdoor; running",
        "google ads; meta ads",
        "retail",
        "conversions; roas",
    ]
    assert embed_text("") == [0.0] * 256


@pytest.fixture(scope="module")
def world(make_tenant_module):
    """Tenant A with three kinds of strategy (and a second version of the shoe plan), tenant B with a copy of
    the shoe brief: the closest match anywhere, which A must never see."""
    a, b = make_tenant_module("Similar A"), make_tenant_module("Similar B")
    ca, ca2 = a.clients
    shoes = add_strategy(a.tenant_id, ca, SHOES, "Trail shoes launch")
    shoes_v2 = add_strategy(a.tenant_id, ca, SHOES, "Trail shoes launch v2", lineage_id=shoes, version=2)
    b2b = add_strategy(a.tenant_id, ca2, B2B, "Cloud security leads")
    fun = add_strategy(a.tenant_id, ca, AWARENESS, "Gaming brand push")
    other = add_strategy(b.tenant_id, b.clients[0], SHOES, "B's trail shoes")
    day = dt.date(2025, 3, 3)  # a Monday: ECB rates are published for it
    add_results(
        a.tenant_id,
        ca,
        shoes_v2,
        [
            ("USD", day, "", "1000", "40", "3500"),
            ("USD", day + dt.timedelta(days=1), "", "500.50", "10.5", "1200.25"),
            ("USD", day, "device:mobile", "999", "99", "9999"),  # a breakdown row: not counted again
            ("EUR", day, "", "100", "2", "300"),
        ],
    )
    return {
        "a": a,
        "b": b,
        "shoes": shoes,
        "shoes_v2": shoes_v2,
        "b2b": b2b,
        "fun": fun,
        "other": other,
    }


def test_near_identical_brief_ranks_first(world):
    query = {**SHOES, "target_audience": {**SHOES["target_audience"], "interests": ["running", "fitness"]}}
    hits = search(world["a"].tenant_id, query, min_similarity=0.0)
    assert hits[0].strategy_id in {world["shoes"], world["shoes_v2"]}
    assert hits[0].similarity > 0.9
    assert [h.similarity for h in hits] == sorted((h.similarity for h in hits), reverse=True)
    # One hit per lineage: the two versions of the shoe plan are one past campaign.
    assert len({world["shoes"], world["shoes_v2"]} & {h.strategy_id for h in hits}) == 1
    assert {h.strategy_id for h in hits[1:]} == {world["b2b"], world["fun"]}
    assert hits[0].platforms == ["google_ads", "meta_ads"] and hits[0].objective == "conversions"


def test_min_similarity_client_and_exclusion(world):
    a = world["a"]
    hits = search(a.tenant_id, SHOES, min_similarity=0.6)
    assert [h.name for h in hits] == ["Trail shoes launch v2"]  # equal distance: the newer version
    assert (
        search(a.tenant_id, SHOES, client_id=a.clients[1], min_similarity=0.0)[0].strategy_id == world["b2b"]
    )
    excluded = search(a.tenant_id, SHOES, exclude_id=world["shoes"], min_similarity=0.0)
    assert world["shoes"] not in {h.strategy_id for h in excluded}
    assert world["shoes_v2"] not in {h.strategy_id for h in excluded}  # the whole lineage
    assert len(search(a.tenant_id, SHOES, k=1, min_similarity=0.0)) == 1


def test_results_sum_campaign_metrics_in_the_strategy_currency(world):
    hit = search(world["a"].tenant_id, SHOES, k=1)[0]
    r = hit.results
    assert r is not None and r["currency"] == "USD" and r["campaigns"] == 2
    assert r["conversions"] == Decimal("52.5")  # 40 + 10.5 + 2; the breakdown row is not counted
    # 100 EUR spent and 300 EUR earned on 2025-03-03, at that day's ECB rate.
    with system_unit_of_work("test") as uow:
        usd_per_eur = uow.session.execute(
            text("SELECT per_eur FROM fx_rates WHERE currency = 'USD' AND date = '2025-03-03'")
        ).scalar_one()
    assert r["spend"] == (Decimal("1500.50") + 100 * usd_per_eur).quantize(Decimal("0.01"))
    assert r["revenue"] == (Decimal("4700.25") + 300 * usd_per_eur).quantize(Decimal("0.01"))
    assert r["roas"] == pytest.approx(float(r["revenue"] / r["spend"]))
    assert (r["first_date"], r["last_date"]) == (dt.date(2025, 3, 3), dt.date(2025, 3, 4))
    assert r["unconverted"] == {}
    others = search(world["a"].tenant_id, SHOES, min_similarity=0.0)[1:]
    assert all(h.results is None for h in others)  # no campaigns yet


def test_another_tenants_strategies_never_come_back(world):
    a, b = world["a"], world["b"]
    a_ids = {h.strategy_id for h in search(a.tenant_id, SHOES, k=50, min_similarity=0.0)}
    b_ids = {h.strategy_id for h in search(b.tenant_id, SHOES, k=50, min_similarity=0.0)}
    assert world["other"] not in a_ids and b_ids == {world["other"]}
    # Even asked for B's client by id, A gets nothing of B's.
    assert search(a.tenant_id, SHOES, client_id=b.clients[0], min_similarity=0.0) == []


def test_needs_a_tenant():
    with system_unit_of_work("test") as uow, pytest.raises(ValueError, match="tenant"):
        similar_strategies(uow, brief_text(SHOES))
