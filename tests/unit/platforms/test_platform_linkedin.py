from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from urllib.parse import parse_qs

import pytest
from platform_testkit import NOW, respond, sample, sample_text

from strategist.adapters.platforms import (
    ConnectionBrokenError,
    LinkedInCredentials,
    RateLimitedError,
    TransientPlatformError,
)
from strategist.adapters.platforms.linkedin import LinkedInAdsConnector
from strategist.domain.metrics import BudgetType, CampaignStatus

CREDS = LinkedInCredentials(
    ad_account_id="507404993",
    access_token="AQVcurrent",
    client_id="cid",
    client_secret="cs",
    refresh_token="AQXrefresh",
)
BUDGET = sample("linkedin_campaign_budget_update.json")
CAMPAIGNS = {"elements": [BUDGET["read_shape"] | {"name": "Lead gen"}], "metadata": {}}


def connector(script, options, creds=CREDS):
    script.on(
        lambda r: r.url.path == "/rest/adAccounts/507404993",
        respond({"id": 507404993, "currency": "USD", "name": "Acme"}),
    )
    script.on(lambda r: r.url.path.endswith("/adCampaigns"), respond(CAMPAIGNS))
    return LinkedInAdsConnector(creds, http_client=script.client(), options=options)


def test_adanalytics_request_uses_restli_syntax_and_headers(script, options) -> None:
    script.on("adAnalytics", respond(sample("linkedin_adanalytics_response.json")))
    connector(script, options).fetch_daily_metrics(date(2026, 8, 1), date(2026, 8, 2))
    request = script.to("adAnalytics")[0]
    query = request.url.query.decode()
    # The documented request, with the same Rest.li structure left literal and only the URN encoded.
    documented = [
        line.strip().lstrip("?&")
        for line in sample_text("linkedin_adanalytics_request.txt").splitlines()[1:6]
    ]
    for part in documented:
        assert part in query
    assert query.startswith("q=analytics&pivot=CAMPAIGN&timeGranularity=DAILY")
    assert request.headers["linkedin-version"] == "202608"
    assert request.headers["x-restli-protocol-version"] == "2.0.0"
    assert request.headers["authorization"] == "Bearer AQVcurrent"


def test_adanalytics_sample_is_normalized_in_utc(script, options) -> None:
    script.on("adAnalytics", respond(sample("linkedin_adanalytics_response.json")))
    first, second = connector(script, options).fetch_daily_metrics(date(2026, 8, 1), date(2026, 8, 2))
    assert (first.campaign_id, first.campaign_name, first.date) == ("1234567", "Lead gen", date(2026, 8, 1))
    assert first.cost == Decimal("118.40") and (first.impressions, first.clicks, first.conversions) == (
        12040,
        640,
        58,
    )
    assert (first.currency, first.time_zone, first.attribution_window) == ("USD", "UTC", "linkedin_default")
    assert first.source == "linkedin_ads/rest/adAnalytics@202608"
    # "107.5300000000000335346": binary-float tail dropped, raw text kept for audit.
    assert second.cost == Decimal("107.53") and second.extra["cost_raw"] == "107.5300000000000335346"
    assert second.conversions == Decimal(3)


def test_no_paging_so_long_ranges_are_split_by_date(script, options) -> None:
    script.on("adAnalytics", respond({"elements": []}))
    connector(script, options).fetch_daily_metrics(date(2026, 1, 1), date(2026, 3, 15))
    ranges = [r.url.query.decode().split("dateRange=")[1].split("&")[0] for r in script.to("adAnalytics")]
    assert ranges == [
        "(start:(year:2026,month:1,day:1),end:(year:2026,month:1,day:30))",
        "(start:(year:2026,month:1,day:31),end:(year:2026,month:3,day:1))",
        "(start:(year:2026,month:3,day:2),end:(year:2026,month:3,day:15))",
    ]


def test_a_window_at_the_element_cap_is_split_again(script, options) -> None:
    conn = connector(script, options)
    conn.element_cap = 2
    full = sample("linkedin_adanalytics_response.json")
    one = {"elements": full["elements"][:1]}
    script.on("adAnalytics", respond(full), respond(one), respond(one))
    rows = conn.fetch_daily_metrics(date(2026, 8, 1), date(2026, 8, 2))
    assert len(rows) == 2 and len(script.to("adAnalytics")) == 3


def test_day_limit_429_is_not_retried_and_says_when_to_come_back(script, options, sleep) -> None:
    script.on("adAnalytics", respond(sample("linkedin_error_429.json"), 429))
    with pytest.raises(RateLimitedError) as caught:
        connector(script, options).fetch_daily_metrics(date(2026, 8, 1), date(2026, 8, 2))
    assert caught.value.code == 101 and "DAY limit" in caught.value.message
    assert caught.value.retry_after == (24 - NOW.hour) * 3600  # the day limit resets at midnight UTC
    assert sleep.calls == [] and len(script.to("adAnalytics")) == 1


def test_server_errors_are_retried(script, options, sleep) -> None:
    script.on(
        "adAnalytics",
        respond({"status": 500, "message": "Internal Server Error"}, 500),
        respond(sample("linkedin_adanalytics_response.json")),
    )
    assert len(connector(script, options).fetch_daily_metrics(date(2026, 8, 1), date(2026, 8, 2))) == 2
    assert sleep.calls == [1.0]


def test_expired_token_is_refreshed(script, options) -> None:
    saved = []
    script.on(
        "oauth/v2/accessToken",
        respond(
            {
                "access_token": "AQVnew",
                "expires_in": 5184000,
                "refresh_token": "AQXrefresh2",
                "refresh_token_expires_in": 31536000,
            }
        ),
    )
    expired = {
        "status": 401,
        "serviceErrorCode": 65601,
        "code": "EXPIRED_ACCESS_TOKEN",
        "message": "The token used in the request has expired",
    }
    script.on("adAnalytics", respond(expired, 401), respond(sample("linkedin_adanalytics_response.json")))
    conn = connector(script, options)
    conn._on_refreshed = saved.append
    assert len(conn.fetch_daily_metrics(date(2026, 8, 1), date(2026, 8, 2))) == 2
    token_call = script.to("oauth/v2/accessToken")[0]
    assert token_call.url.host == "www.linkedin.com"
    assert parse_qs(token_call.content.decode())["grant_type"] == ["refresh_token"]
    assert saved[0].refresh_token.get_secret_value() == "AQXrefresh2"
    assert script.to("adAnalytics")[-1].headers["authorization"] == "Bearer AQVnew"


def test_without_a_refresh_token_an_expired_token_breaks_the_connection(script, options) -> None:
    creds = LinkedInCredentials(ad_account_id="507404993", access_token="AQVcurrent")
    script.on(
        "/rest/adAccounts/507404993",
        respond({"status": 401, "serviceErrorCode": 65600, "message": "Invalid access token"}, 401),
    )
    with pytest.raises(ConnectionBrokenError, match="Invalid access token"):
        connector(script, options, creds=creds).test_connection()


def test_budget_update_matches_the_documented_partial_update(script, options) -> None:
    script.on(
        lambda r: r.method == "GET" and r.url.path.endswith("/adCampaigns/1234567"),
        respond(BUDGET["read_shape"] | {"dailyBudget": {"amount": "120", "currencyCode": "USD"}}),
    )
    script.on(lambda r: r.method == "POST", respond(raw=b"", status=204))
    change = connector(script, options).update_budget("1234567", Decimal("150"), BudgetType.DAILY)
    post = next(r for r in script.requests if r.method == "POST")
    documented = BUDGET["request"]
    assert str(post.url) == documented["url"]
    assert json.loads(post.content) == documented["body"]
    for header in ("LinkedIn-Version", "X-Restli-Protocol-Version", "X-RestLi-Method"):
        assert post.headers[header] == documented["headers"][header]
    assert (change.before, change.after, change.sent) == (Decimal(120), Decimal(150), True)


def test_validate_only_sends_nothing(script, options) -> None:
    script.on(
        lambda r: r.method == "GET" and r.url.path.endswith("/adCampaigns/1234567"),
        respond(BUDGET["read_shape"]),
    )
    change = connector(script, options).update_budget(
        "1234567", Decimal("99.5"), BudgetType.DAILY, validate_only=True
    )
    assert not any(r.method == "POST" for r in script.requests)
    assert change.sent is False and change.request["patch"]["$set"]["dailyBudget"]["amount"] == "99.5"
    with pytest.raises(ValueError):
        connector(script, options).update_budget(
            "1234567", Decimal("99.555"), BudgetType.DAILY, validate_only=True
        )


def test_list_campaigns_pages_with_tokens(script, options) -> None:
    page1 = {
        "elements": [
            {
                "id": 1,
                "name": "A",
                "status": "ACTIVE",
                "totalBudget": {"amount": "5000", "currencyCode": "USD"},
            }
        ],
        "metadata": {"nextPageToken": "tok"},
    }
    page2 = {"elements": [{"id": 2, "name": "B", "status": "COMPLETED"}], "metadata": {}}
    script.on(lambda r: r.url.path.endswith("/adCampaigns"), respond(page1), respond(page2))
    conn = LinkedInAdsConnector(CREDS, http_client=script.client(), options=options)
    first, second = conn.list_campaigns()
    assert first.budget.budget_type is BudgetType.LIFETIME and first.budget.amount == Decimal(5000)
    assert second.status is CampaignStatus.ENDED
    assert script.requests[1].url.params["pageToken"] == "tok"


def test_timeouts_are_transient(script, options, sleep) -> None:
    import httpx

    def boom(request):
        raise httpx.ReadTimeout("slow", request=request)

    script.on("adAnalytics", boom)
    with pytest.raises(TransientPlatformError, match="timeout"):
        connector(script, options).fetch_daily_metrics(date(2026, 8, 1), date(2026, 8, 2))
    assert len(sleep.calls) == 4
