"""Every connector against the simulated platforms, in-process (TestClient is a sync httpx.Client)."""

from __future__ import annotations

import time
import warnings
from datetime import date, timedelta
from decimal import Decimal

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from infra.platform_sim import create_app, demo_spec
from strategist.adapters.platforms import (
    ConnectionBrokenError,
    ConnectorOptions,
    RateLimitedError,
    get_connector,
)
from strategist.domain.metrics import BudgetType

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
    "youtube_ads": {
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
FAULT_PLATFORMS = ["google_ads", "meta_ads", "linkedin_ads", "tiktok_ads"]


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture(scope="module")
def spec():
    return demo_spec(seed=11, campaigns_per_platform=3, history_days=120)


@pytest.fixture
def sim(spec):
    app = create_app(seed=11, spec=spec, today=TODAY, meta_polls_until_complete=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client = TestClient(app, base_url=BASE)
    yield client
    client.close()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def connect(sim, platform, sleeps, saved=None, **kw):
    return get_connector(
        platform,
        CREDENTIALS[platform],
        http_client=sim,
        base_url=BASE,
        options=ConnectorOptions(sleep=sleeps),
        on_credentials_refreshed=None if saved is None else saved.append,
        **kw,
    )


def truth(sim, platform, account_id, campaign_id, start, end):
    response = sim.get(
        "/_sim/truth",
        params={
            "platform": platform,
            "account_id": account_id,
            "campaign_id": campaign_id,
            "start": start.isoformat(),
            "end": end.isoformat(),
        },
    )
    assert response.status_code == 200, response.text
    return response.json()


def money(value: str) -> Decimal:
    return Decimal(value)


@pytest.mark.parametrize("platform", sorted(CREDENTIALS))
def test_connector_reads_exactly_what_the_simulator_knows(sim, sleeps, platform) -> None:
    conn = connect(sim, platform, sleeps)
    account = conn.test_connection()
    campaigns = conn.list_campaigns()
    start, end = TODAY - timedelta(days=20), TODAY - timedelta(days=1)
    rows = conn.fetch_daily_metrics(start, end)

    assert campaigns and rows and sleeps == []
    assert {r.currency for r in rows} == {account.currency}
    assert {r.time_zone for r in rows} == {"UTC" if platform == "linkedin_ads" else account.time_zone}
    assert max(r.date for r in rows) == TODAY - timedelta(days=1)
    assert len({r.key for r in rows}) == len(rows)
    campaign = next(c for c in campaigns if c.status.value == "active")
    mine = sorted((r for r in rows if r.campaign_id == campaign.id), key=lambda r: r.date)
    expected = [
        d for d in truth(sim, platform, conn.account_id, campaign.id, start, end)["days"] if d["served"]
    ]
    assert [r.date.isoformat() for r in mine] == [d["date"] for d in expected]
    assert [r.cost for r in mine] == [money(d["spend"]) for d in expected]
    assert [r.impressions for r in mine] == [d["impressions"] for d in expected]
    assert [r.clicks for r in mine] == [d["clicks"] for d in expected]
    assert [r.conversions for r in mine] == [Decimal(str(d["conversions_reported"])) for d in expected]
    assert [r.conversion_value for r in mine] == [money(d["conversion_value_reported"]) for d in expected]
    if platform in ("youtube_ads", "tiktok_ads"):
        assert [r.video_views for r in mine] == [d["video_views"] for d in expected]


def test_google_and_youtube_split_one_customer_without_overlap(sim, sleeps) -> None:
    start, end = TODAY - timedelta(days=5), TODAY - timedelta(days=1)
    google = connect(sim, "google_ads", sleeps).fetch_daily_metrics(start, end)
    youtube = connect(sim, "youtube_ads", sleeps).fetch_daily_metrics(start, end)
    assert {r.extra["advertising_channel_type"] for r in youtube} == {"VIDEO"}
    assert "VIDEO" not in {r.extra["advertising_channel_type"] for r in google}
    assert not {r.campaign_id for r in google} & {r.campaign_id for r in youtube}


def test_jpy_account_has_whole_yen(sim, sleeps) -> None:
    rows = connect(sim, "tiktok_ads", sleeps).fetch_daily_metrics(
        TODAY - timedelta(days=3), TODAY - timedelta(days=1)
    )
    assert rows and all(r.currency == "JPY" and r.cost == r.cost.to_integral_value() for r in rows)
    assert max(r.cost for r in rows) > 1000  # yen, not "cents"


@pytest.mark.parametrize("platform", FAULT_PLATFORMS)
def test_budget_change_moves_later_metrics(sim, sleeps, platform) -> None:
    conn = connect(sim, platform, sleeps)
    campaign = next(c for c in conn.list_campaigns() if c.status.value == "active")
    doubled = campaign.budget.amount * 2
    change = conn.update_budget(campaign.id, doubled, BudgetType.DAILY)
    assert change.before == campaign.budget.amount and change.after == doubled
    assert next(c for c in conn.list_campaigns() if c.id == campaign.id).budget.amount == doubled
    sim.post("/_sim/clock", json={"advance_days": 15})

    rows = [
        r
        for r in conn.fetch_daily_metrics(TODAY - timedelta(days=14), TODAY + timedelta(days=14))
        if r.campaign_id == campaign.id
    ]
    before = [r.cost for r in rows if r.date < TODAY]
    after = [r.cost for r in rows if r.date >= TODAY]
    assert len(before) == 14 and len(after) == 15
    assert sum(after) / sum(before) > Decimal("1.6")
    days = truth(sim, platform, conn.account_id, campaign.id, TODAY, TODAY)["days"]
    assert money(days[0]["daily_budget"]) == doubled
    log = sim.get("/_sim/budget_log").json()["changes"]
    assert log[-1]["campaign_id"] == campaign.id and log[-1]["effective_from"] == TODAY.isoformat()


@pytest.mark.parametrize("platform", ["google_ads", "meta_ads"])
def test_validate_only_changes_nothing(sim, sleeps, platform) -> None:
    conn = connect(sim, platform, sleeps)
    campaign = next(c for c in conn.list_campaigns() if c.status.value == "active")
    change = conn.update_budget(campaign.id, campaign.budget.amount + 1, BudgetType.DAILY, validate_only=True)
    assert change.validate_only and change.sent
    assert sim.get("/_sim/budget_log").json()["changes"] == []


def test_late_conversions_grow_toward_final(sim, sleeps) -> None:
    conn = connect(sim, "google_ads", sleeps)
    yesterday = TODAY - timedelta(days=1)
    first = {r.campaign_id: r.conversions for r in conn.fetch_daily_metrics(yesterday, yesterday)}
    sim.post("/_sim/clock", json={"advance_days": 7})
    final = {r.campaign_id: r.conversions for r in conn.fetch_daily_metrics(yesterday, yesterday)}
    assert first.keys() == final.keys()
    assert all(first[c] <= final[c] for c in first) and sum(first.values()) < sum(final.values())
    cid = max(final, key=final.get)
    day = truth(sim, "google_ads", "1234567890", cid, yesterday, yesterday)["days"][0]
    assert final[cid] == Decimal(str(day["conversions_final"])) and day["reported_share"] == 1.0


@pytest.mark.parametrize("platform", FAULT_PLATFORMS)
@pytest.mark.parametrize("kind", ["5xx", "malformed_page"])
def test_transient_faults_are_retried_then_succeed(sim, sleeps, platform, kind) -> None:
    conn = connect(sim, platform, sleeps)
    conn.test_connection()
    sim.post("/_sim/faults", json={"platform": platform, "kind": kind, "count": 2})
    rows = conn.fetch_daily_metrics(TODAY - timedelta(days=3), TODAY - timedelta(days=1))
    assert rows and sleeps == [1.0, 2.0]
    assert sim.get("/_sim/faults").json()["faults"] == []


@pytest.mark.parametrize(
    ("platform", "waits"),
    [("google_ads", [30.0, 30.0]), ("meta_ads", [60.0, 60.0]), ("tiktok_ads", [1.0, 2.0])],
)
def test_rate_limits_wait_what_the_platform_says(sim, sleeps, platform, waits) -> None:
    conn = connect(sim, platform, sleeps)
    conn.test_connection()
    sim.post("/_sim/faults", json={"platform": platform, "kind": "429", "count": 2})
    assert conn.fetch_daily_metrics(TODAY - timedelta(days=3), TODAY - timedelta(days=1))
    assert sleeps == waits


def test_linkedin_day_limit_is_handed_back_for_rescheduling(sim, sleeps) -> None:
    conn = connect(sim, "linkedin_ads", sleeps)
    conn.test_connection()
    sim.post(
        "/_sim/faults",
        json={"platform": "linkedin_ads", "kind": "429", "count": 1, "path_contains": "adAnalytics"},
    )
    with pytest.raises(RateLimitedError) as caught:
        conn.fetch_daily_metrics(TODAY - timedelta(days=3), TODAY - timedelta(days=1))
    assert caught.value.retry_after > 0 and sleeps == []
    assert conn.fetch_daily_metrics(TODAY - timedelta(days=3), TODAY - timedelta(days=1))


def test_meta_high_usage_backs_off_before_the_limit(sim, sleeps) -> None:
    conn = connect(sim, "meta_ads", sleeps)
    conn.test_connection()
    sim.post("/_sim/faults", json={"platform": "meta_ads", "kind": "usage_high", "count": 1})
    conn.fetch_daily_metrics(TODAY - timedelta(days=3), TODAY - timedelta(days=1))
    assert sleeps == []  # the response said 90 %: the pause is taken before the next call, not after the fact
    conn.fetch_daily_metrics(TODAY - timedelta(days=3), TODAY - timedelta(days=1))
    assert sleeps == [pytest.approx(36.0)]


def test_meta_sync_timeout_switches_to_an_async_report(sim, sleeps) -> None:
    conn = connect(sim, "meta_ads", sleeps)
    conn.test_connection()
    sim.post(
        "/_sim/faults",
        json={"platform": "meta_ads", "kind": "timeout", "count": 1, "path_contains": "insights"},
    )
    rows = conn.fetch_daily_metrics(TODAY - timedelta(days=3), TODAY - timedelta(days=1))
    assert rows and {r.source for r in rows} == {"meta_ads/v25.0/insights(async)"}


@pytest.mark.parametrize("platform", ["google_ads", "linkedin_ads", "tiktok_ads"])
def test_expired_token_is_refreshed_and_persisted(sim, sleeps, platform) -> None:
    saved = []
    conn = connect(sim, platform, sleeps, saved)
    conn.test_connection()
    sim.post("/_sim/faults", json={"platform": platform, "kind": "expired_token", "count": 1})
    assert conn.fetch_daily_metrics(TODAY - timedelta(days=2), TODAY - timedelta(days=1))
    (new,) = saved
    assert new.access_token.get_secret_value() != CREDENTIALS[platform]["access_token"]
    assert conn.credentials == new and new.expires_at is not None


@pytest.mark.parametrize("platform", ["google_ads", "linkedin_ads", "tiktok_ads"])
def test_refused_refresh_breaks_the_connection(sim, sleeps, platform) -> None:
    conn = connect(sim, platform, sleeps)
    conn.test_connection()
    sim.post("/_sim/faults", json={"platform": platform, "kind": "expired_token", "count": 1})
    sim.post("/_sim/faults", json={"platform": platform, "kind": "invalid_grant", "count": 1})
    with pytest.raises(ConnectionBrokenError) as caught:
        conn.fetch_daily_metrics(TODAY - timedelta(days=2), TODAY - timedelta(days=1))
    assert caught.value.reason


def test_meta_expired_token_breaks_the_connection(sim, sleeps) -> None:
    conn = connect(sim, "meta_ads", sleeps)
    sim.post("/_sim/faults", json={"platform": "meta_ads", "kind": "expired_token", "count": 1})
    with pytest.raises(ConnectionBrokenError, match="Session has expired"):
        conn.test_connection()


def test_admin_endpoints_validate_input(sim) -> None:
    assert sim.post("/_sim/faults", json={"platform": "myspace", "kind": "429"}).status_code == 400
    assert sim.post("/_sim/faults", json={"platform": "meta_ads", "kind": "meteor"}).status_code == 400
    assert sim.post("/_sim/accounts", json={"platform": "meta_ads"}).status_code == 422
    assert (
        sim.get(
            "/_sim/truth", params={"platform": "meta_ads", "account_id": "1", "campaign_id": "2"}
        ).status_code
        == 404
    )


def test_accounts_can_be_added_at_runtime_and_numbers_are_deterministic(sim, sleeps) -> None:
    account = {
        "platform": "meta_ads",
        "account_id": "act_555",
        "currency": "EUR",
        "time_zone": "Europe/Berlin",
        "history_days": 60,
        "campaigns": [{"id": "9001", "name": "Runtime", "budget": "80"}],
    }
    assert sim.post("/_sim/accounts", json=account).status_code == 201
    creds = {"ad_account_id": "555", "access_token": "EAAx"}
    conn = get_connector(
        "meta_ads", creds, http_client=sim, base_url=BASE, options=ConnectorOptions(sleep=sleeps)
    )
    rows = conn.fetch_daily_metrics(TODAY - timedelta(days=10), TODAY - timedelta(days=1))
    assert {(r.currency, r.time_zone) for r in rows} == {("EUR", "Europe/Berlin")}
    other = create_app(seed=11, spec={"accounts": [account]}, today=TODAY)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        second = TestClient(other, base_url=BASE)
    again = get_connector(
        "meta_ads", creds, http_client=second, base_url=BASE, options=ConnectorOptions(sleep=sleeps)
    ).fetch_daily_metrics(TODAY - timedelta(days=4), TODAY - timedelta(days=1))
    assert [(r.date, r.cost, r.conversions) for r in again] == [
        (r.date, r.cost, r.conversions) for r in rows[-4:]
    ]


def test_two_years_of_a_thousand_campaigns_are_served_quickly(sleeps) -> None:
    spec = {
        "accounts": [
            {
                "platform": "google_ads",
                "account_id": "1000000001",
                "history_days": 730,
                "campaigns": [{"id": str(50_000 + i), "name": f"C{i}", "budget": "100"} for i in range(1000)],
            }
        ]
    }
    app = create_app(seed=3, spec=spec, today=TODAY)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client = TestClient(app, base_url=BASE)
    creds = {**CREDENTIALS["google_ads"], "customer_id": "1000000001"}
    conn = get_connector(
        "google_ads", creds, http_client=client, base_url=BASE, options=ConnectorOptions(sleep=sleeps)
    )
    started = time.perf_counter()
    state = app.state.sim
    window = state.window(state.account("google", "1000000001"), TODAY)
    assert window.series.spend.shape[0] == 1000 and window.series.spend.shape[1] >= 730
    rows = conn.fetch_daily_metrics(TODAY - timedelta(days=30), TODAY - timedelta(days=1))
    elapsed = time.perf_counter() - started
    assert len(rows) == 30_000
    assert elapsed < 15, elapsed
