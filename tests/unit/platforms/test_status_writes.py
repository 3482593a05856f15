"""Status writes (pause / enable, issue 6) through every connector against the in-process simulator: the exact
request each platform documents, validate-only sends nothing that changes state, a paused campaign stops spending
from the simulator's today, and enabling restores the previous spend rate."""

from __future__ import annotations

import warnings
from datetime import date, timedelta

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from infra.platform_sim import create_app, demo_spec
from strategist.adapters.platforms import ConnectorOptions, PermanentPlatformError, get_connector
from strategist.domain.metrics import CampaignStatus

TODAY = date(2026, 8, 3)
BASE = "http://sim"
CREDENTIALS = {
    "google_ads": {
        "customer_id": "1234567890",
        "developer_token": "dev",
        "client_id": "cid",
        "client_secret": "cs",
        "refresh_token": "1//rt",
        "access_token": "ya29.start",
    },
    "meta_ads": {"ad_account_id": "act_123456789012345", "access_token": "EAAstart"},
    "linkedin_ads": {
        "ad_account_id": "507404993",
        "access_token": "AQVstart",
        "client_id": "cid",
        "client_secret": "cs",
        "refresh_token": "AQXrt",
    },
    "tiktok_ads": {
        "advertiser_id": "7100000000000000001",
        "access_token": "act.start",
        "app_id": "app",
        "secret": "sec",
        "refresh_token": "rft.start",
    },
}
PLATFORMS = list(CREDENTIALS)


@pytest.fixture(scope="module")
def spec():
    return demo_spec(seed=11, campaigns_per_platform=2, history_days=30)


@pytest.fixture
def sim(spec):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client = TestClient(create_app(seed=11, spec=spec, today=TODAY), base_url=BASE)
    yield client
    client.close()


def connect(sim, platform):
    return get_connector(
        platform,
        CREDENTIALS[platform],
        http_client=sim,
        base_url=BASE,
        options=ConnectorOptions(sleep=lambda s: None),
    )


def status_of(conn, campaign_id: str) -> CampaignStatus:
    return next(c for c in conn.list_campaigns() if c.id == campaign_id).status


@pytest.mark.parametrize("platform", PLATFORMS)
def test_pause_then_enable_round_trips_and_stops_spend(sim, platform) -> None:
    conn = connect(sim, platform)
    campaign = next(c for c in conn.list_campaigns() if c.status is CampaignStatus.ACTIVE)
    change = conn.update_status(campaign.id, CampaignStatus.PAUSED)
    assert change.before is CampaignStatus.ACTIVE and change.after is CampaignStatus.PAUSED and change.sent
    assert status_of(conn, campaign.id) is CampaignStatus.PAUSED
    sim.post("/_sim/clock", json={"advance_days": 3})
    rows = [
        r
        for r in conn.fetch_daily_metrics(TODAY, TODAY + timedelta(days=2))
        if r.campaign_id == campaign.id and r.cost > 0
    ]
    assert rows == []  # paused from the simulator's today: nothing spent
    back = conn.update_status(campaign.id, CampaignStatus.ACTIVE)
    assert back.before is CampaignStatus.PAUSED and status_of(conn, campaign.id) is CampaignStatus.ACTIVE
    sim.post("/_sim/clock", json={"advance_days": 2})
    later = [
        r
        for r in conn.fetch_daily_metrics(TODAY + timedelta(days=3), TODAY + timedelta(days=4))
        if r.campaign_id == campaign.id
    ]
    assert later and all(r.cost > 0 for r in later)


def test_request_shapes_follow_the_platform_docs(sim) -> None:
    g = connect(sim, "google_ads")
    cid = next(c.id for c in g.list_campaigns() if c.status is CampaignStatus.ACTIVE)
    change = g.update_status(cid, CampaignStatus.PAUSED, validate_only=True)
    assert change.request == {
        "operations": [
            {
                "updateMask": "status",
                "update": {"resourceName": f"customers/1234567890/campaigns/{cid}", "status": "PAUSED"},
            }
        ],
        "partialFailure": False,
        "validateOnly": True,
    }
    assert change.sent and status_of(g, cid) is CampaignStatus.ACTIVE  # validateOnly changed nothing

    m = connect(sim, "meta_ads")
    mid = next(c.id for c in m.list_campaigns() if c.status is CampaignStatus.ACTIVE)
    change = m.update_status(mid, CampaignStatus.PAUSED, validate_only=True)
    assert change.request == {"status": "PAUSED", "execution_options": '["validate_only"]'}
    assert status_of(m, mid) is CampaignStatus.ACTIVE

    t = connect(sim, "tiktok_ads")
    tid = next(c.id for c in t.list_campaigns() if c.status is CampaignStatus.ACTIVE)
    change = t.update_status(tid, CampaignStatus.PAUSED, validate_only=True)
    assert change.request == {
        "advertiser_id": "7100000000000000001",
        "campaign_ids": [tid],
        "operation_status": "DISABLE",
    }
    assert not change.sent  # TikTok has no dry run: nothing was sent

    li = connect(sim, "linkedin_ads")
    lid = next(c.id for c in li.list_campaigns() if c.status is CampaignStatus.ACTIVE)
    change = li.update_status(lid, CampaignStatus.PAUSED, validate_only=True)
    assert change.request == {"patch": {"$set": {"status": "PAUSED"}}} and not change.sent


@pytest.mark.parametrize("platform", PLATFORMS)
def test_removal_is_never_automated(sim, platform) -> None:
    conn = connect(sim, platform)
    with pytest.raises(PermanentPlatformError, match="cannot be set by automation"):
        conn.update_status("1", CampaignStatus.REMOVED)


def test_google_target_cpa_write_round_trips_and_refuses_other_strategies(sim) -> None:
    from decimal import Decimal

    g = connect(sim, "google_ads")
    cid = next(c.id for c in g.list_campaigns() if c.status is CampaignStatus.ACTIVE)
    dry = g.update_target(cid, "target_cpa", Decimal("45.5"), validate_only=True)
    assert dry.request == {
        "operations": [
            {
                "updateMask": "maximize_conversions.target_cpa_micros",
                "update": {
                    "resourceName": f"customers/1234567890/campaigns/{cid}",
                    "maximizeConversions": {"targetCpaMicros": "45500000"},
                },
            }
        ],
        "partialFailure": False,
        "validateOnly": True,
    }
    assert dry.before is None and dry.strategy == "MAXIMIZE_CONVERSIONS"
    first = g.update_target(cid, "target_cpa", Decimal("45.5"))
    assert first.before is None and first.after == Decimal("45.5")
    second = g.update_target(cid, "target_cpa", Decimal(40))  # reads back what the first wrote
    assert second.before == Decimal("45.5")
    undo = g.update_target(cid, "target_cpa", second.before)
    assert undo.before == Decimal(40)
    with pytest.raises(PermanentPlatformError, match="bids with MAXIMIZE_CONVERSIONS"):
        g.update_target(cid, "target_roas", Decimal("3.5"))
    with pytest.raises(PermanentPlatformError, match="must be positive"):
        g.update_target(cid, "target_cpa", Decimal(0))
