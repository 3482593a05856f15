from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from platform_testkit import respond, sample, sample_text

from strategist.adapters.platforms import (
    ConnectionBrokenError,
    PermanentPlatformError,
    RateLimitedError,
    TikTokCredentials,
)
from strategist.adapters.platforms.tiktok import TikTokAdsConnector
from strategist.domain.metrics import BudgetType, CampaignStatus

CREDS = TikTokCredentials(advertiser_id="7100000000000000001", access_token="act.long-lived")
REPORT = "report/integrated/get"
ADVERTISER = {
    "code": 0,
    "message": "OK",
    "request_id": "r",
    "data": {
        "list": [
            {
                "advertiser_id": "7100000000000000001",
                "currency": "JPY",
                "timezone": "Etc/GMT-9",
                "display_timezone": "Asia/Tokyo",
                "name": "Tokyo shop",
            }
        ]
    },
}


def connector(script, options, creds=CREDS, currency="JPY"):
    advertiser = json.loads(json.dumps(ADVERTISER))
    advertiser["data"]["list"][0]["currency"] = currency
    script.on("advertiser/info", respond(advertiser))
    return TikTokAdsConnector(creds, http_client=script.client(), options=options)


def test_report_request_follows_the_documented_query(script, options) -> None:
    script.on(REPORT, respond(sample("tiktok_report_response.json")))
    connector(script, options).fetch_daily_metrics(date(2026, 8, 1), date(2026, 8, 2))
    request = script.to(REPORT)[0]
    assert request.url.path == "/open_api/v1.3/report/integrated/get/"
    assert request.headers["access-token"] == "act.long-lived" and "authorization" not in request.headers
    params = request.url.params
    documented = dict(
        line.strip().lstrip("?&").split("=", 1)
        for line in sample_text("tiktok_report_request.txt").splitlines()[1:11]
    )
    for key in (
        "advertiser_id",
        "report_type",
        "service_type",
        "data_level",
        "start_date",
        "end_date",
        "page",
        "page_size",
    ):
        assert params[key] == documented[key]
    assert json.loads(params["dimensions"]) == json.loads(documented["dimensions"])
    assert set(json.loads(documented["metrics"])) <= set(json.loads(params["metrics"]))


def test_report_sample_is_normalized_in_jpy(script, options) -> None:
    script.on(REPORT, respond(sample("tiktok_report_response.json")))
    first, second = connector(script, options, currency="USD").fetch_daily_metrics(
        date(2026, 8, 1), date(2026, 8, 2)
    )
    assert (first.campaign_id, first.date, first.cost) == (
        "1790000000000000001",
        date(2026, 8, 1),
        Decimal("45.67"),
    )
    assert (first.impressions, first.clicks, first.conversions) == (10234, 210, Decimal(7))
    assert (first.currency, first.time_zone, first.attribution_window) == (
        "USD",
        "Asia/Tokyo",
        "tiktok_default",
    )
    assert second.cost == Decimal("51.20") and second.source == "tiktok_ads/v1.3/report/integrated/get"


def test_pages_until_total_page_and_chunks_by_30_days(script, options) -> None:
    page1 = sample("tiktok_report_response.json")
    page1["data"]["page_info"] = {"page": 1, "page_size": 1000, "total_number": 3, "total_page": 2}
    page2 = json.loads(json.dumps(page1))
    page2["data"]["page_info"]["page"] = 2
    page2["data"]["list"] = page2["data"]["list"][:1]
    empty = {"code": 0, "message": "OK", "data": {"page_info": {"page": 1, "total_page": 0}, "list": []}}
    script.on(REPORT, respond(page1), respond(page2), respond(empty))
    rows = connector(script, options).fetch_daily_metrics(date(2026, 7, 1), date(2026, 8, 2))
    assert len(rows) == 3
    calls = [r.url.params for r in script.to(REPORT)]
    assert [(c["start_date"], c["end_date"], c["page"]) for c in calls] == [
        ("2026-07-01", "2026-07-30", "1"),
        ("2026-07-01", "2026-07-30", "2"),
        ("2026-07-31", "2026-08-02", "1"),
    ]


def test_rate_limit_in_a_200_body_is_retried(script, options, sleep) -> None:
    script.on(
        REPORT,
        respond(sample("tiktok_error_rate_limit.json")),
        respond(sample("tiktok_report_response.json")),
    )
    assert len(connector(script, options).fetch_daily_metrics(date(2026, 8, 1), date(2026, 8, 2))) == 2
    assert sleep.calls == [1.0]


def test_persistent_rate_limit_surfaces_as_typed_error(script, options, sleep) -> None:
    script.on(REPORT, respond(sample("tiktok_error_rate_limit.json")))
    with pytest.raises(RateLimitedError) as caught:
        connector(script, options).fetch_daily_metrics(date(2026, 8, 1), date(2026, 8, 2))
    assert (
        caught.value.code == 40100
        and caught.value.details["request_id"] == "2026080309123401011515319112AAAA"
    )
    assert len(sleep.calls) == 4


def test_invalid_param_is_permanent(script, options, sleep) -> None:
    script.on(
        REPORT,
        respond(
            {"code": 40002, "message": "metrics: foo is not a valid metric.", "request_id": "r", "data": {}}
        ),
    )
    with pytest.raises(PermanentPlatformError, match="not a valid metric"):
        connector(script, options).fetch_daily_metrics(date(2026, 8, 1), date(2026, 8, 2))
    assert sleep.calls == []


def test_expired_long_lived_token_breaks_the_connection(script, options) -> None:
    script.on(
        REPORT, respond({"code": 40105, "message": "The access token is invalid or has expired.", "data": {}})
    )
    with pytest.raises(ConnectionBrokenError, match="invalid or has expired"):
        connector(script, options).fetch_daily_metrics(date(2026, 8, 1), date(2026, 8, 2))


def test_refresh_token_apps_refresh_and_rotate(script, options) -> None:
    saved = []
    creds = TikTokCredentials(
        advertiser_id=CREDS.advertiser_id,
        access_token="act.long-lived",
        app_id="app",
        secret="sec",
        refresh_token="rft.old",
    )
    script.on(
        "oauth2/refresh_token",
        respond(
            {
                "code": 0,
                "message": "OK",
                "data": {
                    "access_token": "act.new",
                    "access_token_expire_in": 86400,
                    "refresh_token": "rft.new",
                },
            }
        ),
    )
    script.on(
        REPORT,
        respond({"code": 40105, "message": "expired", "data": {}}),
        respond(sample("tiktok_report_response.json")),
    )
    conn = connector(script, options, creds=creds)
    conn._on_refreshed = saved.append
    assert len(conn.fetch_daily_metrics(date(2026, 8, 1), date(2026, 8, 2))) == 2
    body = json.loads(script.to("oauth2/refresh_token")[0].content)
    assert body == {
        "app_id": "app",
        "secret": "sec",
        "grant_type": "refresh_token",
        "refresh_token": "rft.old",
    }
    assert saved[0].refresh_token.get_secret_value() == "rft.new"
    assert script.to(REPORT)[-1].headers["access-token"] == "act.new"


def _campaigns(*rows):
    return {
        "code": 0,
        "message": "OK",
        "data": {"list": list(rows), "page_info": {"page": 1, "total_page": 1}},
    }


def test_budget_update_in_major_units(script, options) -> None:
    documented = sample("tiktok_campaign_budget_update.json")
    script.on(
        "campaign/get",
        respond(
            _campaigns(
                {
                    "campaign_id": "1790000000000000001",
                    "campaign_name": "A",
                    "budget": 100.0,
                    "budget_mode": "BUDGET_MODE_DAY",
                    "operation_status": "ENABLE",
                }
            )
        ),
    )
    script.on("campaign/update", respond(documented["response"]))
    change = connector(script, options, currency="USD").update_budget(
        "1790000000000000001", Decimal("150"), BudgetType.DAILY
    )
    post = script.to("campaign/update")[0]
    assert str(post.url) == documented["request"]["url"]
    assert json.loads(post.content) == documented["request"]["body"]
    assert (change.before, change.after, change.currency) == (Decimal("100.00"), Decimal(150), "USD")


def test_budget_refusals_and_dry_run(script, options) -> None:
    script.on(
        "campaign/get",
        respond(
            _campaigns(
                {
                    "campaign_id": "9",
                    "budget": 15000.0,
                    "budget_mode": "BUDGET_MODE_DAY",
                    "operation_status": "DISABLE",
                }
            )
        ),
    )
    conn = connector(script, options)
    with pytest.raises(PermanentPlatformError, match="budget mode"):
        conn.update_budget("9", Decimal(20000), BudgetType.LIFETIME)
    with pytest.raises(ValueError):
        conn.update_budget("9", Decimal("20000.5"), BudgetType.DAILY)  # JPY
    change = conn.update_budget("9", Decimal(20000), BudgetType.DAILY, validate_only=True)
    assert change.sent is False and not script.to("campaign/update") and change.before == Decimal(15000)


def test_list_campaigns_statuses(script, options) -> None:
    script.on(
        "campaign/get",
        respond(
            _campaigns(
                {
                    "campaign_id": "1",
                    "campaign_name": "A",
                    "budget": 0,
                    "budget_mode": "BUDGET_MODE_INFINITE",
                    "operation_status": "ENABLE",
                },
                {
                    "campaign_id": "2",
                    "campaign_name": "B",
                    "budget": 5e4,
                    "budget_mode": "BUDGET_MODE_TOTAL",
                    "operation_status": "DISABLE",
                    "secondary_status": "CAMPAIGN_STATUS_DELETE",
                },
            )
        ),
    )
    first, second = connector(script, options).list_campaigns()
    assert first.status is CampaignStatus.ACTIVE and first.budget is None
    assert second.status is CampaignStatus.REMOVED and second.budget.amount == Decimal(50000)
    assert second.budget.budget_type is BudgetType.LIFETIME
