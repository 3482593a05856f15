"""Strategy generation through the local gateway: the brief's example unchanged (plus Authorization), exact
allocations, bounds and locks, ordered intervals, monotone forecasts, history-based curves, validation naming
fields, isolation between tenants and clients, versions, and strategy -> campaigns."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

BRIEF = {
    "tenant_id": "your-tenant-id",
    "client_id": "your-client-id",
    "campaign_name": "Holiday Sale Campaign",
    "objective": "sales_conversion",
    "target_audience": {
        "demographics": {"age_range": "25-54", "gender": "mixed"},
        "interests": ["shopping", "fashion", "deals"],
        "behaviors": ["online_purchaser", "brand_conscious"],
    },
    "budget": 15000.00,
    "duration_days": 45,
    "platforms": ["google_ads", "meta_ads", "email"],
    "campaign_type": "search",
    "kpis": ["conversions", "roas", "revenue"],
}
URL = "/api/v1/strategy/generate"


def brief(world, client: int = 0, **changes):
    body = {**BRIEF, "tenant_id": str(world.tenant_id), "client_id": str(world.clients[client])}
    body.update(changes)
    return body


@pytest.fixture(scope="module")
def world(make_tenant_module):
    return make_tenant_module()


@pytest.fixture(scope="module")
def example(api, world):
    r = api.post(URL, json=brief(world), headers=world.analyst.headers)
    assert r.status_code == 201, r.text
    return r.json()


def test_brief_example_prints_roi(example):
    strategy = example["strategy"]
    line = f"Generated strategy with {strategy['estimated_roi']}x ROI estimate"
    assert isinstance(strategy["estimated_roi"], float)
    roi = f"{strategy['estimated_roi']}"
    whole, _, frac = roi.partition(".")
    assert whole.isdigit() and len(frac) == 1, line
    assert example["data"]["id"] == strategy["id"]
    lo, hi = strategy["estimated_roi_interval"]
    assert lo <= strategy["forecast"]["total"]["roas"]["p50"] <= hi


def test_example_plan_sections(example):
    s = example["strategy"]
    assert [a["platform"] for a in s["allocation"]] == ["google_ads", "meta_ads", "email"]
    assert sum(Decimal(a["budget"]) for a in s["allocation"]) == Decimal("15000.00")
    assert all(a["basis"] == "benchmark_priors" for a in s["allocation"])
    f = s["forecast"]
    assert set(f["by_platform"]) == {"google_ads", "meta_ads", "email"}
    assert len(f["by_week"]) == 7
    for block in [f["total"], *f["by_platform"].values(), *f["by_week"]]:
        for m in ("impressions", "clicks", "conversions", "revenue", "cpa", "roas"):
            q = block[m]
            assert q["p10"] <= q["p50"] <= q["p90"], (m, q)
    assert set(s["marginal_roas"]["by_platform"]) == {"google_ads", "meta_ads", "email"}
    assert s["marginal_roas"]["next_10_percent"]["feasible"] in {True, False}
    meta = s["audience"]["platforms"]["meta_ads"]
    assert meta["age_brackets"] == ["25-34", "35-44", "45-54"]
    assert "Online shopping" in meta["detailed_targeting"]["interests"]
    assert s["audience"]["platforms"]["google_ads"]["keyword_themes"]
    phases = s["timeline"]["phases"]
    assert [p["phase"] for p in phases] == ["learning", "scale", "optimize"]
    assert sum(p["days"] for p in phases) == 45
    for a in s["allocation"]:
        assert sum(Decimal(p["budget"][a["platform"]]) for p in phases) == Decimal(a["budget"])
    tests = s["timeline"]["tests"]
    assert all(t["sample_size_per_arm"] > 100 and t["alpha"] == 0.05 for t in tests)
    assert s["content_strategy"]["platforms"]["meta_ads"]["formats"][1]["aspect_ratio"] == "9:16"
    assert {k["kpi"] for k in s["kpi_targets"]} == {"conversions", "roas", "revenue"}
    roas = next(k for k in s["kpi_targets"] if k["kpi"] == "roas")
    assert roas["goal"] == 3 and isinstance(roas["forecast_meets_goal"], bool)
    sources = {src["source"] for b in s["assumptions"]["benchmarks"] for src in b["sources"]}
    assert any("WordStream" in x for x in sources)
    assert any("email cost model" in x for x in s["assumptions"]["stated"])
    assert s["narrative"]["text"]
    assert s["versions"] == [
        {
            "id": s["id"],
            "version": 1,
            "created_at": s["versions"][0]["created_at"],
            "estimated_roi": s["versions"][0]["estimated_roi"],
        }
    ]


def test_persisted_with_content_audit_and_event(example, stack, world):
    engine = create_engine(stack.owner_url())
    sid = example["strategy"]["id"]
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT version, embedding IS NOT NULL FROM marketing_strategies WHERE id = :i"), {"i": sid}
        ).one()
        content = conn.execute(
            text("SELECT count(*) FROM content_strategies WHERE strategy_id = :i"), {"i": sid}
        ).scalar()
        events = conn.execute(
            text(
                "SELECT count(*) FROM outbox WHERE event_type = 'strategy.generated' AND detail->>'strategy_id' = :i"
            ),
            {"i": sid},
        ).scalar()
    engine.dispose()
    assert row == (1, True) and content == 3 and events == 1


def test_bounds_and_locks_respected(api, world):
    body = brief(
        world,
        campaign_name="Bounded",
        platforms=["google_ads", "meta_ads", "tiktok_ads"],
        budget=10000.01,
        constraints={
            "platforms": {"google_ads": {"min": 6000}, "meta_ads": {"max": 1500}},
            "locked": {"tiktok_ads": 1234.56},
        },
    )
    r = api.post(URL, json=body, headers=world.analyst.headers)
    assert r.status_code == 201, r.text
    alloc = {a["platform"]: Decimal(a["budget"]) for a in r.json()["strategy"]["allocation"]}
    assert sum(alloc.values()) == Decimal("10000.01")
    assert (
        alloc["google_ads"] >= 6000
        and alloc["meta_ads"] <= 1500
        and alloc["tiktok_ads"] == Decimal("1234.56")
    )


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(budget=st.decimals(min_value=500, max_value=200000, places=2), factor=st.sampled_from([1.3, 2.0]))
def test_allocation_exact_and_p50_monotone(api, world, budget, factor):
    totals = []
    for b in (budget, (budget * Decimal(str(factor))).quantize(Decimal("0.01"))):
        body = brief(
            world,
            campaign_name=f"Prop {uuid.uuid4().hex[:6]}",
            budget=str(b),
            platforms=["google_ads", "meta_ads"],
        )
        r = api.post(URL, json=body, headers=world.analyst.headers)
        assert r.status_code == 201, r.text
        s = r.json()["strategy"]
        assert sum(Decimal(a["budget"]) for a in s["allocation"]) == b
        for q in s["forecast"]["total"].values():
            if isinstance(q, dict):
                assert q["p10"] <= q["p50"] <= q["p90"]
        totals.append(s["forecast"]["total"])
    for m in ("impressions", "clicks", "conversions", "revenue"):
        assert totals[1][m]["p50"] >= totals[0][m]["p50"], m


def _insert_history(stack, world, client_index: int, days: int = 120) -> None:
    from strategist.adapters.db.metrics_store import MetricRow, upsert_metrics
    from strategist.adapters.db.models import Campaign
    from strategist.bootstrap import system_unit_of_work

    rng = random.Random(7)
    today = dt.date.today()
    with system_unit_of_work("test") as uow:
        uow.set_tenant(world.tenant_id)
        rows = []
        for platform, cpm, ctr, cvr, aov in (
            ("google_ads", 30.0, 0.05, 0.04, 90.0),
            ("meta_ads", 12.0, 0.012, 0.03, 80.0),
        ):
            camp = Campaign(
                id=uuid.uuid4(),
                tenant_id=world.tenant_id,
                client_id=world.clients[client_index],
                platform=platform,
                external_id=f"hist-{platform}",
                name=f"History {platform}",
                status="active",
                currency="USD",
            )
            uow.session.add(camp)
            uow.session.flush()
            for d in range(days, 0, -1):
                spend = 200 * rng.uniform(0.6, 1.6)
                imp = int(spend / cpm * 1000 * (200 / spend) ** 0.1)
                clicks = int(imp * ctr * rng.uniform(0.9, 1.1))
                conv = round(clicks * cvr * rng.uniform(0.8, 1.2), 2)
                rows.append(
                    MetricRow(
                        campaign_id=camp.id,
                        date=today - dt.timedelta(days=d),
                        currency="USD",
                        cost=Decimal(str(round(spend, 2))),
                        impressions=imp,
                        clicks=clicks,
                        conversions=Decimal(str(conv)),
                        conversion_value=Decimal(str(round(conv * aov, 2))),
                        time_zone="UTC",
                        attribution_window="google_ads_default",
                        source="test",
                    )
                )
        upsert_metrics(uow.session, world.tenant_id, rows)


def test_client_with_history_gets_history_curves_and_cache(api, stack, make_tenant):
    world = make_tenant()
    _insert_history(stack, world, 0)
    body = brief(world, campaign_name="With history", platforms=["google_ads", "meta_ads", "linkedin_ads"])
    r = api.post(URL, json=body, headers=world.analyst.headers)
    assert r.status_code == 201, r.text
    s = r.json()["strategy"]
    basis = {a["platform"]: a["basis"] for a in s["allocation"]}
    assert basis == {"google_ads": "history", "meta_ads": "history", "linkedin_ads": "benchmark_priors"}
    used = {m["name"].split(":")[0]: m for m in s["assumptions"]["models"] if "funnel" in m["name"]}
    assert used["google_ads"]["history_days"] == 120 and used["google_ads"]["cached_fit"] is False
    assert abs(used["google_ads"]["cvr"] - 0.04) < 0.01
    again = api.post(URL, json=body, headers=world.analyst.headers).json()["strategy"]
    used2 = {m["name"].split(":")[0]: m for m in again["assumptions"]["models"] if "funnel" in m["name"]}
    assert used2["google_ads"]["cached_fit"] is True
    assert again["version"] == 2 and again["lineage_id"] == s["lineage_id"]
    assert [v["version"] for v in again["versions"]] == [1, 2]


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"platforms": ["google_ads", "myspace"]}, "body.platforms.1"),
        ({"budget": 0}, "body.budget"),
        ({"budget": 10.001}, "body.budget"),
        ({"duration_days": 0}, "body.duration_days"),
        ({"duration_days": 400}, "body.duration_days"),
        ({"kpis": ["video_views"], "platforms": ["google_ads", "email"]}, "body.kpis.0"),
        ({"start_date": "2020-01-01"}, "body.start_date"),
        ({"constraints": {"locked": {"tiktok_ads": 100}}}, "body.constraints.locked.tiktok_ads"),
        (
            {"constraints": {"platforms": {"meta_ads": {"min": 500, "max": 100}}}},
            "body.constraints.platforms.meta_ads.min",
        ),
        (
            {"constraints": {"platforms": {"meta_ads": {"min": 9000}, "google_ads": {"min": 9000}}}},
            "body.constraints",
        ),
        ({"objective": "world_domination"}, "body.objective"),
        ({"currency": "EUR"}, "body.currency"),
        (
            {"target_audience": {"demographics": {"age_range": "fifty"}}},
            "body.target_audience.demographics.age_range",
        ),
    ],
)
def test_validation_names_the_field(api, world, changes, field):
    r = api.post(URL, json=brief(world, **changes), headers=world.analyst.headers)
    assert r.status_code == 422, r.text
    assert field in [f["field"] for f in r.json()["error"]["fields"]], r.text


def test_email_only_beyond_list_capacity_is_422(api, world):
    body = brief(world, platforms=["email"], kpis=["revenue"], constraints={"email_list_size": 1000})
    r = api.post(URL, json=body, headers=world.analyst.headers)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["fields"][0]["field"] == "body.constraints.email_list_size"


def test_isolation(api, world, example, make_tenant_module):
    other = make_tenant_module()
    sid = example["strategy"]["id"]
    # another tenant's client and strategy do not exist for this caller
    r = api.post(URL, json=brief(world, tenant_id=str(other.tenant_id)), headers=other.owner.headers)
    assert r.status_code == 404, r.text
    assert api.get(f"/api/v1/strategies/{sid}", headers=other.owner.headers).status_code == 404
    assert api.post(f"/api/v1/strategies/{sid}/campaigns", headers=other.owner.headers).status_code == 404
    assert sid not in api.get("/api/v1/strategies", headers=other.owner.headers).text
    # the client viewer cannot generate, sees its own client's strategies only
    assert api.post(URL, json=brief(world), headers=world.viewer.headers).status_code == 403
    r1 = api.post(
        URL, json=brief(world, client=1, campaign_name="Client 1 plan"), headers=world.analyst.headers
    )
    sid1 = r1.json()["strategy"]["id"]
    listed = api.get("/api/v1/strategies", headers=world.viewer.headers)
    assert listed.status_code == 200
    ids = {i["id"] for i in listed.json()["data"]["items"]}
    assert sid in ids and sid1 not in ids
    assert api.get(f"/api/v1/strategies/{sid1}", headers=world.viewer.headers).status_code == 404
    assert api.get(f"/api/v1/strategies/{sid}", headers=world.viewer.headers).status_code == 200
    assert (
        api.get(
            "/api/v1/strategies", params={"client_id": str(world.clients[1])}, headers=world.viewer.headers
        ).status_code
        == 404
    )
    assert api.post(f"/api/v1/strategies/{sid}/campaigns", headers=world.viewer.headers).status_code == 403


def test_list_filters_and_paginates(api, world, example):
    r = api.get(
        "/api/v1/strategies",
        params={"client_id": str(world.clients[0]), "limit": 1},
        headers=world.analyst.headers,
    )
    assert r.status_code == 200, r.text
    page = r.json()["data"]
    assert len(page["items"]) == 1 and page["next_cursor"]
    r2 = api.get(
        "/api/v1/strategies",
        params={"client_id": str(world.clients[0]), "limit": 1, "cursor": page["next_cursor"]},
        headers=world.analyst.headers,
    )
    assert r2.json()["data"]["items"][0]["id"] != page["items"][0]["id"]


def test_strategy_to_campaigns_is_idempotent(api, world, example):
    sid = example["strategy"]["id"]
    r = api.post(f"/api/v1/strategies/{sid}/campaigns", headers=world.analyst.headers)
    assert r.status_code == 201, r.text
    out = r.json()["campaigns"]
    assert out["created"] == 3
    by_platform = {c["platform"]: c for c in out["campaigns"]}
    for a in example["strategy"]["allocation"]:
        c = by_platform[a["platform"]]
        assert Decimal(c["budget_amount"]) == Decimal(a["budget"]) and c["status"] == "draft"
        assert c["strategy_id"] == sid and c["currency"] == "USD"
    again = api.post(f"/api/v1/strategies/{sid}/campaigns", headers=world.analyst.headers)
    assert again.status_code == 200 and again.json()["campaigns"]["created"] == 0
    assert {c["id"] for c in again.json()["campaigns"]["campaigns"]} == {c["id"] for c in out["campaigns"]}


def _past_results(
    world, strategy_id: str, campaigns: dict[str, str], cvr_factor: float, days: int = 42
) -> None:
    """Daily metrics of a past strategy's campaigns at the benchmark CPM, CTR and AOV of a retail client and
    ``cvr_factor`` times its benchmark conversion rate (what a strong track record looks like)."""
    from strategist.adapters.db.metrics_store import MetricRow, upsert_metrics
    from strategist.bootstrap import system_unit_of_work
    from strategist.services import response_models as rm

    today = dt.date.today()
    rows = []
    for platform, cid in campaigns.items():
        prior, _ = rm.coherent_prior(platform, "conversions", "ecommerce")
        cpm, ctr, cvr, aov = (prior.get(m).median for m in ("cpm", "ctr", "cvr", "aov"))
        for d in range(days, 0, -1):
            spend = 300.0
            imp = int(spend / cpm * 1000)
            clicks = int(imp * ctr)
            conv = round(clicks * cvr * cvr_factor, 2)
            rows.append(
                MetricRow(
                    campaign_id=uuid.UUID(cid),
                    date=today - dt.timedelta(days=d),
                    currency="USD",
                    cost=Decimal("300.00"),
                    impressions=imp,
                    clicks=clicks,
                    conversions=Decimal(str(conv)),
                    conversion_value=Decimal(str(round(conv * aov, 2))),
                    time_zone="UTC",
                    attribution_window="google_ads_default",
                    source="test",
                )
            )
    with system_unit_of_work("test") as uow:
        uow.set_tenant(world.tenant_id)
        upsert_metrics(uow.session, world.tenant_id, rows)


def test_similar_past_campaigns_inform_the_priors(api, make_tenant):
    """A tenant whose past campaign for the same brief converted at 3x the benchmark gets a higher, narrower
    forecast than a tenant without one, says which campaign moved which figure, and no other tenant is moved."""
    a, b = make_tenant("Agency with a track record"), make_tenant("Agency without one")
    platforms = ["google_ads", "meta_ads"]
    past = api.post(
        URL, json=brief(a, campaign_name="Last holiday sale", platforms=platforms), headers=a.analyst.headers
    )
    assert past.status_code == 201, past.text
    sid = past.json()["strategy"]["id"]
    made = api.post(f"/api/v1/strategies/{sid}/campaigns", headers=a.analyst.headers).json()["campaigns"]
    _past_results(a, sid, {c["platform"]: c["id"] for c in made["campaigns"]}, cvr_factor=3.0)

    def plan(world):
        body = brief(world, client=1, campaign_name="This holiday sale", platforms=platforms)
        r = api.post(URL, json=body, headers=world.analyst.headers)
        assert r.status_code == 201, r.text
        return r.json()["strategy"]

    informed, plain = plan(a), plan(b)
    assert {x["basis"] for x in informed["allocation"]} == {"benchmark_priors+similar_campaigns"}
    assert {x["basis"] for x in plain["allocation"]} == {"benchmark_priors"}
    used = informed["assumptions"]["similar_strategies_used"]
    assert [u["strategy_id"] for u in used] == [sid] and used[0]["similarity"] > 0.99
    for p in platforms:
        metrics = {m["metric"]: m for m in used[0]["platforms"][p]["metrics"]}
        assert set(metrics) == {"cpm", "ctr", "cvr", "aov"}
        cvr = metrics["cvr"]
        assert cvr["observed"] == pytest.approx(3 * cvr["benchmark_median"], rel=0.02)
        assert 0.5 < cvr["weight"] < 1 and cvr["log_sd"] < cvr["benchmark_log_sd"]
        assert cvr["benchmark_median"] < cvr["median"] < cvr["observed"]
        # the fitted model's conversion rate is the blended one (no history of its own)
        fitted = next(m for m in informed["assumptions"]["models"] if m["name"].startswith(p))
        assert fitted["cvr"] == pytest.approx(cvr["median"], rel=1e-3)
    assert any("similar past campaigns" in x for x in informed["assumptions"]["stated"])

    def width(q):
        return q["p90"] / q["p10"]

    for p in ["total", *platforms]:
        f_i = informed["forecast"]["total" if p == "total" else "by_platform"]
        f_p = plain["forecast"]["total" if p == "total" else "by_platform"]
        qi, qp = (f["conversions"] if p == "total" else f[p]["conversions"] for f in (f_i, f_p))
        assert qi["p50"] > 1.5 * qp["p50"], (p, qi, qp)
        assert width(qi) < width(qp), (p, qi, qp)
    # the other tenant saw nothing of A's: no candidates at all, and the same plan as a tenant with no past
    assert plain["assumptions"]["similar_strategies_considered"] == []
    assert plain["assumptions"]["similar_strategies_used"] == []
    fresh = plan(make_tenant("Another agency"))
    assert fresh["forecast"]["total"] == plain["forecast"]["total"]


def test_platforms_on_priors_keep_an_exploration_floor(api, world, example):
    """With benchmark priors only, a small gap between benchmark tables must not starve a platform the brief asked
    for; an explicit min in the brief overrides the floor."""
    strategy = example["strategy"]
    budget = Decimal(str(BRIEF["budget"]))
    email_cap_bound = {a["platform"]: Decimal(a["budget"]) for a in strategy["allocation"]}
    for a in strategy["allocation"]:
        assert a["basis"].startswith("benchmark_priors")
        if a["platform"] != "email":  # e-mail is capped by its list size, which may be below the floor
            assert Decimal(a["budget"]) >= budget * Decimal("0.0999"), a
    assert sum(email_cap_bound.values()) == budget
    assert any("Exploration floor" in s for s in strategy["assumptions"]["stated"])
    r = api.post(
        URL,
        json=brief(world, constraints={"platforms": {"google_ads": {"min": 0}}}),
        headers=world.analyst.headers,
    )
    assert r.status_code == 201, r.text
    google = next(a for a in r.json()["strategy"]["allocation"] if a["platform"] == "google_ads")
    assert Decimal(google["budget"]) < budget * Decimal("0.1")
