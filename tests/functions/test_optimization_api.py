"""POST /api/v1/campaign/optimize and the optimization / recommendation reads, through the local gateway, on
campaigns with exact synthetic history: no action without data (property), a campaign burning spend with no
conversions gets a pause with a Poisson confidence computed by hand, the brief's response shape, validation naming
the field, persistence, viewer and cross-tenant isolation."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

URL = "/api/v1/campaign/optimize"
TODAY = dt.date.today()


def make_campaign(
    world,
    *,
    days: int,
    spend: float,
    conversions: float,
    client: int = 0,
    value: float = 0.0,
    platform: str = "google_ads",
):
    """A synced-looking campaign (with a platform connection row) and `days` days of identical history ending
    yesterday (UTC): spend, 1000 impressions, 50 clicks and `conversions` per day."""
    from strategist.adapters.db.metrics_store import MetricRow, upsert_metrics
    from strategist.adapters.db.models import Campaign, PlatformConnection
    from strategist.bootstrap import system_unit_of_work

    with system_unit_of_work("test") as uow:
        uow.set_tenant(world.tenant_id)
        conn = PlatformConnection(
            id=uuid.uuid4(),
            tenant_id=world.tenant_id,
            client_id=world.clients[client],
            platform=platform,
            account_id=str(uuid.uuid4().int % 10**10),
            name="test account",
            credentials={"note": "never decrypted in these tests"},
            currency="USD",
            time_zone="UTC",
        )
        uow.session.add(conn)
        uow.session.flush()
        camp = Campaign(
            id=uuid.uuid4(),
            tenant_id=world.tenant_id,
            client_id=world.clients[client],
            connection_id=conn.id,
            platform=platform,
            external_id=str(uuid.uuid4().int % 10**11),
            name=f"Campaign {uuid.uuid4().hex[:6]}",
            status="active",
            currency="USD",
            time_zone="UTC",
            budget_amount=Decimal(str(spend)),
            budget_type="daily",
        )
        uow.session.add(camp)
        uow.session.flush()
        rows = [
            MetricRow(
                campaign_id=camp.id,
                date=TODAY - dt.timedelta(days=d),
                currency="USD",
                cost=Decimal(str(spend)),
                impressions=1000,
                clicks=50,
                conversions=Decimal(str(conversions)),
                conversion_value=Decimal(str(value)),
                time_zone="UTC",
                attribution_window="test",
                source="test",
            )
            for d in range(1, days + 1)
        ]
        if rows:
            upsert_metrics(uow.session, world.tenant_id, rows)
        return camp.id


def set_goals(stack, world, goals: dict, client: int = 0) -> None:
    import json

    engine = create_engine(stack.owner_url())
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE clients SET goals = CAST(:g AS jsonb) WHERE id = :c"),
            {"g": json.dumps(goals), "c": world.clients[client]},
        )
    engine.dispose()


@pytest.fixture(scope="module")
def world(make_tenant_module, stack):
    w = make_tenant_module()
    set_goals(stack, w, {"cpa": 50})
    set_goals(stack, w, {"cpa": 50}, client=1)
    return w


@pytest.fixture(scope="module")
def other(make_tenant_module):
    return make_tenant_module()


def test_burning_spend_without_conversions_gets_a_pause_with_its_numbers(api, world):
    cid = make_campaign(world, days=20, spend=40, conversions=0)
    r = api.post(
        URL,
        json={"campaign_id": str(cid), "optimization_type": "performance", "implementation_priority": "high"},
        headers=world.analyst.headers,
    )
    assert r.status_code == 201, r.text
    opt = r.json()["optimization"]  # the brief's key
    assert opt == r.json()["data"]
    assert opt["optimization_type"] == "performance" and opt["implementation_priority"] == "high"
    pauses = [x for x in opt["recommendations"] if x["kind"] == "pause"]
    assert len(pauses) == 1
    p = pauses[0]
    # 14-day window: 560 spend, 0 conversions; at the target CPA 50 that spend buys 11.2 conversions
    ev = p["evidence"]
    assert (
        ev["window"]["days_with_data"] == 14
        and Decimal(ev["spend"]) == 560
        and Decimal(ev["conversions"]) == 0
    )
    assert ev["expected_conversions_at_target"] == pytest.approx(11.2)
    assert float(p["confidence"]) == pytest.approx(1 - math.exp(-11.2), abs=1e-4)
    assert p["priority"] == "high" and p["status"] == "proposed" and not p["dry_run"]
    assert p["changes"] == [
        {
            "campaign_id": str(cid),
            "campaign_name": p["changes"][0]["campaign_name"],
            "platform": "google_ads",
            "external_id": p["changes"][0]["external_id"],
            "connection_id": p["changes"][0]["connection_id"],
            "action": "set_status",
            "field": "status",
            "before": "active",
            "after": "paused",
            "connector_call": p["changes"][0]["connector_call"],
        }
    ]
    assert p["expected_impact"]["spend"]["p50"] == pytest.approx(-40 * 28)
    assert p["requires_approval"] == []  # a pause lowers spend
    # the scale check lacks conversions and says so
    missing = {m["check"]: m["missing"] for m in opt["missing_data"]}
    assert any("15 conversions" in m for m in missing["scale_budget"])

    # persisted: readable as an optimization and as recommendations
    got = api.get(f"/api/v1/optimizations/{opt['id']}", headers=world.owner.headers)
    assert got.status_code == 200 and got.json()["optimization"]["recommendations"][0]["id"] == p["id"]
    one = api.get(f"/api/v1/recommendations/{p['id']}", headers=world.viewer.headers)  # the viewer's client
    assert one.status_code == 200 and one.json()["recommendation"]["kind"] == "pause"
    listed = api.get(
        "/api/v1/recommendations", params={"campaign_id": str(cid)}, headers=world.viewer.headers
    )
    assert [x["id"] for x in listed.json()["data"]["items"]] == [p["id"]]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    days=st.integers(0, 6),
    spend=st.floats(1, 500),
    conversions=st.floats(0, 50),
    kind=st.sampled_from(["performance", "budget", "bidding", "creative", "audience"]),
)
def test_no_action_without_data(api, world, days, spend, conversions, kind):
    """Fewer than 7 days of data: no recommendation at all, and missing_data says what is lacking."""
    cid = make_campaign(world, days=days, spend=round(spend, 2), conversions=round(conversions, 2))
    r = api.post(
        URL, json={"campaign_id": str(cid), "optimization_type": kind}, headers=world.analyst.headers
    )
    assert r.status_code == 201, r.text
    opt = r.json()["optimization"]
    assert opt["recommendations"] == []
    assert opt["missing_data"] and all(m["missing"] for m in opt["missing_data"] if m["check"] != "note")


def test_few_conversions_gate_every_model_based_check(api, world):
    cid = make_campaign(world, days=30, spend=100, conversions=0.5, value=20)
    r = api.post(
        URL, json={"campaign_id": str(cid), "optimization_type": "budget"}, headers=world.analyst.headers
    )
    opt = r.json()["optimization"]
    assert [x for x in opt["recommendations"] if x["kind"] in ("scale_budget", "budget_shift")] == []
    checks = {m["check"] for m in opt["missing_data"]}
    assert {"scale_budget", "budget_shift"} <= checks
    assert "at least 15 conversions in the window (have 7)" in str(opt["missing_data"])


def test_creative_and_audience_say_which_breakdowns_are_missing(api, world):
    cid = make_campaign(world, days=30, spend=100, conversions=5)
    for kind, words in (
        ("creative", "ad- or creative-level breakdown"),
        ("audience", "audience-level breakdown"),
    ):
        opt = api.post(
            URL, json={"campaign_id": str(cid), "optimization_type": kind}, headers=world.analyst.headers
        )
        body = opt.json()["optimization"]
        assert body["recommendations"] == [] and words in str(body["missing_data"])


def test_a_new_run_supersedes_the_previous_proposals(api, world):
    cid = make_campaign(world, days=20, spend=40, conversions=0)
    body = {"campaign_id": str(cid), "optimization_type": "performance"}
    first = api.post(URL, json=body, headers=world.analyst.headers).json()["optimization"]
    second = api.post(URL, json=body, headers=world.analyst.headers).json()["optimization"]
    old = api.get(f"/api/v1/recommendations/{first['recommendations'][0]['id']}", headers=world.owner.headers)
    assert old.json()["recommendation"]["status"] == "superseded"
    assert second["recommendations"][0]["status"] == "proposed"


def test_validation_names_the_field(api, world):
    cid = make_campaign(world, days=1, spend=10, conversions=0)
    r = api.post(
        URL, json={"campaign_id": str(cid), "optimization_type": "magic"}, headers=world.analyst.headers
    )
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "body.optimization_type"
    r = api.post(
        URL,
        json={"campaign_id": str(cid), "implementation_priority": "urgent"},
        headers=world.analyst.headers,
    )
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "body.implementation_priority"
    r = api.post(URL, json={"optimization_type": "budget"}, headers=world.analyst.headers)
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "body.campaign_id"
    r = api.post(URL, json={"campaign_id": str(uuid.uuid4())}, headers=world.analyst.headers)
    assert r.status_code == 404


def test_viewer_reads_own_client_only_and_never_optimizes(api, world):
    mine = make_campaign(world, days=20, spend=40, conversions=0, client=0)
    theirs = make_campaign(world, days=20, spend=40, conversions=0, client=1)
    r = api.post(URL, json={"campaign_id": str(mine)}, headers=world.viewer.headers)
    assert r.status_code == 403
    r = api.post(URL, json={"campaign_id": str(mine)}, headers=world.viewer_key.headers)
    assert r.status_code == 403
    o1 = api.post(URL, json={"campaign_id": str(mine)}, headers=world.analyst.headers).json()["optimization"]
    o2 = api.post(URL, json={"campaign_id": str(theirs)}, headers=world.analyst.headers).json()[
        "optimization"
    ]
    assert api.get(f"/api/v1/optimizations/{o2['id']}", headers=world.viewer.headers).status_code == 404
    rec2 = o2["recommendations"][0]["id"]
    assert api.get(f"/api/v1/recommendations/{rec2}", headers=world.viewer.headers).status_code == 404
    for path in (
        f"/api/v1/recommendations/{rec2}/apply",
        f"/api/v1/recommendations/{o1['recommendations'][0]['id']}/apply",
    ):
        assert api.post(path, json={"dry_run": True}, headers=world.viewer.headers).status_code in (403, 404)
    seen = api.get("/api/v1/optimizations", params={"limit": 200}, headers=world.viewer.headers).json()[
        "data"
    ]
    assert {o["client_id"] for o in seen["items"]} == {str(world.clients[0])}
    assert (
        api.get(
            "/api/v1/optimizations", params={"client_id": str(world.clients[1])}, headers=world.viewer.headers
        ).status_code
        == 404
    )


def test_other_tenant_sees_nothing(api, world, other):
    cid = make_campaign(world, days=20, spend=40, conversions=0)
    opt = api.post(URL, json={"campaign_id": str(cid)}, headers=world.analyst.headers).json()["optimization"]
    rec = opt["recommendations"][0]["id"]
    assert api.post(URL, json={"campaign_id": str(cid)}, headers=other.owner.headers).status_code == 404
    assert api.get(f"/api/v1/optimizations/{opt['id']}", headers=other.owner.headers).status_code == 404
    assert api.get(f"/api/v1/recommendations/{rec}", headers=other.owner.headers).status_code == 404
    for action in ("apply", "approve", "undo"):
        r = api.post(f"/api/v1/recommendations/{rec}/{action}", json={}, headers=other.owner.headers)
        assert r.status_code == 404, (action, r.text)
    listed = api.get("/api/v1/recommendations", headers=other.owner.headers).json()["data"]["items"]
    assert rec not in {x["id"] for x in listed}
    # a tenant_id in the body must be the caller's own
    r = api.post(
        URL, json={"campaign_id": str(cid), "tenant_id": str(world.tenant_id)}, headers=other.owner.headers
    )
    assert r.status_code == 403


def test_manual_recommendations_cannot_be_applied(api, world):
    cid = make_campaign(
        world, days=20, spend=100, conversions=1.5, client=1, platform="meta_ads"
    )  # CPA 66.67 > 50
    opt = api.post(
        URL,
        json={"campaign_id": str(cid), "optimization_type": "bidding", "implementation_priority": "high"},
        headers=world.analyst.headers,
    ).json()["optimization"]
    bid = next(x for x in opt["recommendations"] if x["kind"] == "bid_target")
    assert bid["changes"] == [] and "in the platform" in bid["rationale"]
    from scipy.stats import poisson

    # 14 days: 1400 spend, 21 conversions; at target CPA 50 that spend buys 28: P(N <= 21 | 28) is the p-value
    assert float(bid["confidence"]) == pytest.approx(1 - poisson.cdf(21, 28), abs=1e-4)
    r = api.post(
        f"/api/v1/recommendations/{bid['id']}/apply", json={"dry_run": False}, headers=world.analyst.headers
    )
    assert r.status_code == 422 and "manual change" in r.text
    # on Google Ads the same advice is a target CPA write, read live and applied through the connector
    g = make_campaign(world, days=20, spend=100, conversions=1.5, client=1)
    opt = api.post(
        URL,
        json={"campaign_id": str(g), "optimization_type": "bidding", "implementation_priority": "high"},
        headers=world.analyst.headers,
    ).json()["optimization"]
    change = next(x for x in opt["recommendations"] if x["kind"] == "bid_target")["changes"][0]
    assert (change["action"], change["field"], change["before"], change["after"]) == (
        "set_target",
        "target_cpa",
        None,
        "50",
    )
    rec = next(x for x in opt["recommendations"] if x["kind"] == "bid_target")["id"]
    r = api.post(f"/api/v1/recommendations/{rec}/apply", json={}, headers=world.analyst.headers)
    assert (
        r.status_code == 409 and "cannot be decrypted" in r.text
    )  # these test connections hold no credentials


def test_a_proposed_budget_plan_becomes_one_recommendation_with_capped_changes(api, world, other):
    from strategist.adapters.db.models import BudgetOptimization
    from strategist.bootstrap import system_unit_of_work

    a = make_campaign(world, days=5, spend=100, conversions=1)
    b = make_campaign(world, days=5, spend=50, conversions=1)
    with system_unit_of_work("test") as uow:
        uow.set_tenant(world.tenant_id)
        bo = BudgetOptimization(
            tenant_id=world.tenant_id,
            client_id=world.clients[0],
            mode="max_revenue",
            currency="USD",
            status="proposed",
            request={"level": "campaign"},
            result={
                "level": "campaign",
                "period_days": 30,
                "changes": [
                    {"item": str(a), "current": "3000", "proposed": "3600"},  # +20 %
                    {"item": str(b), "current": "1500", "proposed": "3000"},  # +100 %: capped at +30 %
                ],
                "uplift": {"metric": "revenue", "absolute": {"p50": 1234}},
            },
        )
        uow.session.add(bo)
        uow.session.flush()
        bo_id = str(bo.id)
    path = f"/api/v1/budget/optimizations/{bo_id}/recommendations"
    assert api.post(path, json={}, headers=world.viewer.headers).status_code == 403
    assert api.post(path, json={}, headers=other.owner.headers).status_code == 404
    r = api.post(path, json={"implementation_priority": "high"}, headers=world.analyst.headers)
    assert r.status_code == 201, r.text
    opt = r.json()["optimization"]
    assert opt["source"] == "budget_optimization" and opt["source_id"] == bo_id
    (rec,) = opt["recommendations"]
    assert rec["kind"] == "budget_plan"
    after = {c["campaign_id"]: (c["before"], c["after"]) for c in rec["changes"]}
    assert after == {str(a): ("100.00", "120.00"), str(b): ("50.00", "65.00")}
    assert "capped at 65.00" in rec["rationale"]
    # both are raises above the default 20 % approval threshold (the +20 % one is not above it)
    assert len(rec["requires_approval"]) == 1 and "50.0 %" not in rec["requires_approval"][0]
    again = api.post(path, json={}, headers=world.analyst.headers)
    assert again.status_code == 409 and opt["id"] in again.text
