from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import parse_qs

import pytest
from platform_testkit import NOW, respond, sample, sample_text

from strategist.adapters.platforms import ConnectionBrokenError, MetaCredentials
from strategist.adapters.platforms.meta import MetaAdsConnector
from strategist.adapters.platforms.meta_usage import pause_for, read_usage
from strategist.domain.metrics import BudgetType, CampaignStatus

CREDS = MetaCredentials(ad_account_id="act_123456789012345", access_token="EAAtoken")
ACCOUNT = {
    "id": "act_123456789012345",
    "name": "Shop",
    "currency": "USD",
    "timezone_name": "America/Los_Angeles",
}
INSIGHTS = "act_123456789012345/insights"


def usage_sample() -> dict[str, str]:
    lines = sample_text("meta_rate_limit_headers.txt").split("\n\n")[0].splitlines()
    return {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in lines)}


def last_page(body: dict) -> dict:
    body = json.loads(json.dumps(body))
    body["paging"].pop("next")
    return body


def connector(script, options, account=ACCOUNT, creds=CREDS, **kw):
    script.on(lambda r: r.url.path.endswith("/act_123456789012345"), respond(account))
    return MetaAdsConnector(creds, http_client=script.client(), options=options, **kw)


def test_insights_sample_conversions_use_one_action_type_and_the_requested_windows(script, options) -> None:
    script.on(INSIGHTS, respond(last_page(sample("meta_insights_response.json"))))
    first, second = connector(script, options).fetch_daily_metrics(date(2026, 8, 1), date(2026, 8, 2))

    assert (first.campaign_id, first.campaign_name, first.date) == (
        "120210000000000001",
        "ADV+ | Prospecting | Summer",
        date(2026, 8, 1),
    )
    assert first.cost == Decimal("412.37") and (first.impressions, first.clicks) == (58213, 1044)
    # purchase = 16 (7d_click) + 3 (1d_view); fb_pixel_purchase is contained in purchase and not added again.
    assert first.conversions == Decimal(19) and first.conversion_value == Decimal("1633.10")
    assert first.extra["conversions_by_window"] == {"7d_click": "16", "1d_view": "3"}
    assert first.attribution_window == "7d_click_1d_view"
    assert (first.currency, first.time_zone, first.source) == (
        "USD",
        "America/Los_Angeles",
        "meta_ads/v25.0/insights",
    )
    assert (
        second.conversions == Decimal(0)
        and second.conversion_value == Decimal(0)
        and second.cost == Decimal("96.02")
    )

    params = script.to(INSIGHTS)[0].url.params
    assert params["level"] == "campaign" and params["time_increment"] == "1"
    assert json.loads(params["time_range"]) == {"since": "2026-08-01", "until": "2026-08-02"}
    assert json.loads(params["action_attribution_windows"]) == ["7d_click", "1d_view"]
    assert script.requests[0].headers["authorization"] == "Bearer EAAtoken"


def test_other_window_and_action_type_choices(script, options) -> None:
    script.on(INSIGHTS, respond(last_page(sample("meta_insights_response.json"))))
    conn = connector(script, options, action_types=["add_to_cart"], attribution_windows=["7d_click"])
    first = conn.fetch_daily_metrics(date(2026, 8, 1), date(2026, 8, 1))[0]
    assert first.conversions == Decimal(66) and first.attribution_window == "7d_click"


def test_cursor_paging_stops_when_next_is_absent(script, options) -> None:
    page1 = sample("meta_insights_response.json")
    page2 = last_page(sample("meta_insights_response.json"))
    page2["data"] = page2["data"][:1]
    script.on(INSIGHTS, respond(page1), respond(page2))
    rows = connector(script, options).fetch_daily_metrics(date(2026, 8, 1), date(2026, 8, 2))
    assert len(rows) == 3
    calls = script.to(INSIGHTS)
    assert "after" not in calls[0].url.params and calls[1].url.params["after"] == "MQZDZD"
    assert calls[1].url.params["level"] == "campaign"  # same query, not the embedded next URL


def test_long_ranges_run_as_polled_async_reports(script, options, sleep) -> None:
    steps = sample("meta_insights_async.json")
    run = steps["step_2_GET_/6100000000000001"]
    script.on(
        lambda r: r.method == "POST" and INSIGHTS in str(r.url),
        respond({"report_run_id": "6100000000000001"}),
    )
    script.on(
        lambda r: r.url.path.endswith("/6100000000000001"),
        respond({**run, "async_status": "Job Running", "async_percent_completion": 40}),
        respond(run),
    )
    script.on("6100000000000001/insights", respond(last_page(sample("meta_insights_response.json"))))
    rows = connector(script, options).fetch_daily_metrics(
        date(2026, 7, 1), date(2026, 7, 31) + timedelta(days=1)
    )
    assert len(rows) == 2 and rows[0].source == "meta_ads/v25.0/insights(async)"
    post = next(r for r in script.requests if r.method == "POST")
    assert parse_qs(post.content.decode())["level"] == ["campaign"]
    assert sleep.calls == [1.0]


def test_sync_timeout_falls_back_to_async(script, options) -> None:
    timeout = {
        "error": {
            "message": "Please reduce the amount of data",
            "type": "OAuthException",
            "code": 1,
            "error_subcode": 1504018,
            "is_transient": False,
            "fbtrace_id": "x",
        }
    }
    script.on(lambda r: r.method == "GET" and r.url.path.endswith(INSIGHTS), respond(timeout, 500))
    script.on(lambda r: r.method == "POST", respond({"report_run_id": "61"}))
    script.on(
        lambda r: r.url.path.endswith("/61"),
        respond({"id": "61", "async_status": "Job Completed", "async_percent_completion": 100}),
    )
    script.on("/61/insights", respond(last_page(sample("meta_insights_response.json"))))
    rows = connector(script, options).fetch_daily_metrics(date(2026, 8, 1), date(2026, 8, 2))
    assert [r.source for r in rows] == ["meta_ads/v25.0/insights(async)"] * 2


@pytest.mark.parametrize("name", ["meta_error_rate_limit.json", "meta_error_ad_account_throttle.json"])
def test_throttle_errors_are_retried(script, options, sleep, name) -> None:
    script.on(INSIGHTS, respond(sample(name), 400), respond(last_page(sample("meta_insights_response.json"))))
    assert len(connector(script, options).fetch_daily_metrics(date(2026, 8, 1), date(2026, 8, 2))) == 2
    assert sleep.calls == [1.0]


def test_blocked_bucket_waits_the_regain_estimate(script, options, sleep) -> None:
    blocked = {
        "x-business-use-case-usage": json.dumps(
            {
                "123456789012345": [
                    {
                        "type": "ads_insights",
                        "call_count": 100,
                        "total_cputime": 40,
                        "total_time": 40,
                        "estimated_time_to_regain_access": 2,
                    }
                ]
            }
        )
    }
    script.on(
        INSIGHTS,
        respond(sample("meta_error_rate_limit.json"), 400, blocked),
        respond(last_page(sample("meta_insights_response.json"))),
    )
    connector(script, options).fetch_daily_metrics(date(2026, 8, 1), date(2026, 8, 2))
    assert 120.0 in sleep.calls


def test_usage_headers_from_the_sample() -> None:
    usage = read_usage(usage_sample())
    assert usage.max_percent == 28 and usage.regain_seconds == 0 and usage.reset_seconds == 100
    assert pause_for(usage, threshold=75, max_pause=60) == 0


def test_high_usage_pauses_before_the_next_call(script, options, sleep) -> None:
    hot = usage_sample()
    hot["x-app-usage"] = json.dumps({"call_count": 90, "total_cputime": 12, "total_time": 8})
    script.on(INSIGHTS, respond(last_page(sample("meta_insights_response.json")), headers=hot))
    conn = connector(script, options)
    conn.fetch_daily_metrics(date(2026, 8, 1), date(2026, 8, 2))
    assert sleep.calls == []  # nothing paused yet: the pause is taken before the *next* call
    conn.fetch_daily_metrics(date(2026, 8, 1), date(2026, 8, 2))
    assert sleep.calls == [pytest.approx(36.0)]  # (90-75)/(100-75) * 60 s


def test_expired_token_breaks_the_connection_with_metas_reason(script, options, sleep) -> None:
    expired = {
        "error": {
            "message": "Error validating access token: Session has expired on Monday, 03-Aug-26.",
            "type": "OAuthException",
            "code": 190,
            "error_subcode": 463,
            "fbtrace_id": "x",
        }
    }
    script.on(INSIGHTS, respond(expired, 400))
    with pytest.raises(ConnectionBrokenError) as caught:
        connector(script, options).fetch_daily_metrics(date(2026, 8, 1), date(2026, 8, 2))
    assert caught.value.reason.startswith("Error validating access token") and caught.value.code == 190
    assert sleep.calls == []


def test_user_token_is_exchanged_before_it_expires(script, options) -> None:
    saved = []
    creds = MetaCredentials(
        ad_account_id="123456789012345",
        access_token="EAAold",
        app_id="42",
        app_secret="s3cret",
        expires_at=NOW + timedelta(days=3),
    )
    script.on(
        "oauth/access_token",
        respond({"access_token": "EAAnew", "token_type": "bearer", "expires_in": 5183944}),
    )
    conn = connector(script, options, creds=creds, on_credentials_refreshed=saved.append)
    conn.test_connection()
    exchange = script.to("oauth/access_token")[0]
    assert (
        exchange.url.params["grant_type"] == "fb_exchange_token"
        and exchange.url.params["fb_exchange_token"] == "EAAold"
    )
    assert saved[0].access_token.get_secret_value() == "EAAnew"
    account_call = script.requests[-1]
    assert account_call.headers["authorization"] == "Bearer EAAnew"
    assert "appsecret_proof" in account_call.url.params


@pytest.mark.parametrize(
    ("currency", "amount", "minor"), [("USD", Decimal("75"), "7500"), ("JPY", Decimal("7500"), "7500")]
)
def test_budget_update_uses_metas_offset(script, options, currency, amount, minor) -> None:
    campaign = {"id": "120210000000000001", "name": "ADV+", "status": "ACTIVE", "daily_budget": "5000"}
    script.on(lambda r: r.method == "GET" and r.url.path.endswith("/120210000000000001"), respond(campaign))
    script.on(lambda r: r.method == "POST", respond(sample("meta_campaign_budget_update.json")["response"]))
    conn = connector(script, options, account={**ACCOUNT, "currency": currency})
    change = conn.update_budget("120210000000000001", amount, BudgetType.DAILY)
    post = next(r for r in script.requests if r.method == "POST")
    assert post.url.path == "/v25.0/120210000000000001"
    assert parse_qs(post.content.decode()) == {"daily_budget": [minor]}
    assert change.before == (Decimal(50) if currency == "USD" else Decimal(5000)) and change.after == amount


def test_budget_validate_only_and_adset_budgets(script, options) -> None:
    cbo = {"id": "1", "name": "CBO", "status": "ACTIVE", "daily_budget": "5000"}
    abo = {"id": "2", "name": "ABO", "status": "PAUSED"}
    script.on(lambda r: r.method == "GET" and r.url.path.endswith("/1"), respond(cbo))
    script.on(lambda r: r.method == "GET" and r.url.path.endswith("/2"), respond(abo))
    script.on(lambda r: r.method == "POST", respond({"success": True}))
    conn = connector(script, options)
    conn.update_budget("1", Decimal("60"), BudgetType.DAILY, validate_only=True)
    post = next(r for r in script.requests if r.method == "POST")
    assert json.loads(parse_qs(post.content.decode())["execution_options"][0]) == ["validate_only"]
    with pytest.raises(Exception, match="ad sets"):
        conn.update_budget("2", Decimal("60"), BudgetType.DAILY)


def test_list_campaigns(script, options) -> None:
    rows = {
        "data": [
            {
                "id": "1",
                "name": "A",
                "status": "ACTIVE",
                "effective_status": "ACTIVE",
                "objective": "OUTCOME_SALES",
                "lifetime_budget": "300000",
            },
            {"id": "2", "name": "B", "status": "ARCHIVED"},
        ],
        "paging": {"cursors": {"after": "x"}},
    }
    script.on("/campaigns", respond(rows))
    first, second = connector(script, options).list_campaigns()
    assert first.budget.amount == Decimal(3000) and first.budget.budget_type is BudgetType.LIFETIME
    assert (
        first.status is CampaignStatus.ACTIVE
        and second.status is CampaignStatus.ENDED
        and second.budget is None
    )
