from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from urllib.parse import parse_qs

import pytest
from platform_testkit import respond, sample

from strategist.adapters.platforms import (
    ConnectionBrokenError,
    GoogleAdsCredentials,
    PermanentPlatformError,
    RateLimitedError,
    TransientPlatformError,
)
from strategist.adapters.platforms.google_ads import GoogleAdsConnector, YouTubeAdsConnector, parse_duration
from strategist.domain.metrics import BudgetType, CampaignStatus
from strategist.domain.platforms import Platform

CREDS = GoogleAdsCredentials(
    customer_id="123-456-7890",
    login_customer_id="999-888-7777",
    developer_token="dev-token",
    client_id="client.apps.googleusercontent.com",
    client_secret="shh",
    refresh_token="1//refresh",
    access_token="ya29.current",
)
STREAM = "googleAds:searchStream"


def connector(script, options, cls=GoogleAdsConnector, creds=CREDS, **kw):
    return cls(creds, http_client=script.client(), options=options, **kw)


def test_search_stream_sample_is_normalized(script, options) -> None:
    script.on(STREAM, respond(sample("google_ads_searchstream_response.json")))
    rows = connector(script, options).fetch_daily_metrics(date(2026, 8, 1), date(2026, 8, 2))

    first, second = rows
    assert first.platform is Platform.GOOGLE_ADS
    assert (first.account_id, first.campaign_id, first.campaign_name) == (
        "1234567890",
        "20123456789",
        "Brand | Search | US",
    )
    assert first.date == date(2026, 8, 1)
    assert first.cost == Decimal("152.73")  # costMicros "152730000"
    assert (first.impressions, first.clicks) == (4810, 214)
    assert first.conversions == Decimal("18.0") and first.conversion_value == Decimal("3120.5")
    assert (first.currency, first.time_zone) == ("USD", "America/New_York")
    assert first.attribution_window == "google_ads_default"
    assert first.source == "google_ads/v25/googleAds:searchStream"
    assert first.video_views is None and first.reach is None
    assert second.cost == Decimal("48.1") and second.conversions == Decimal("0.0")

    request = script.requests[0]
    assert request.url.path == "/v25/customers/1234567890/googleAds:searchStream"
    assert request.headers["developer-token"] == "dev-token"
    assert request.headers["login-customer-id"] == "9998887777"
    assert request.headers["authorization"] == "Bearer ya29.current"
    query = json.loads(request.content)["query"]
    assert "segments.date BETWEEN '2026-08-01' AND '2026-08-02'" in query
    assert "campaign.advertising_channel_type != 'VIDEO'" in query
    assert "campaign.status" not in query.split("WHERE")[1]  # removed campaigns still spent in the past


def test_sample_request_fields_are_selected(script, options) -> None:
    script.on(STREAM, respond([{"results": []}]))
    conn = connector(script, options)
    conn.fetch_daily_metrics(date(2026, 8, 1), date(2026, 8, 2))
    sent = json.loads(script.requests[0].content)["query"]
    wanted = sample("google_ads_searchstream_request.json")["query"]
    select = wanted.split(" FROM ")[0].removeprefix("SELECT ").split(", ")
    # issue 7 adds the search impression share metrics after the recorded sample's fields
    from strategist.adapters.platforms.google_ads import IMPRESSION_SHARE_METRICS

    extra = [f"metrics.{m}" for m in IMPRESSION_SHARE_METRICS]
    assert sent.split(" FROM ")[0].removeprefix("SELECT ").split(", ") == select + extra


def test_youtube_is_the_video_slice_with_trueview_views(script, options) -> None:
    body = sample("google_ads_searchstream_response.json")
    video_row = body[0]["results"][1]
    video_row["metrics"]["videoTrueviewViews"] = "9120"
    script.on(STREAM, respond([{"results": [video_row]}]))
    (row,) = connector(script, options, cls=YouTubeAdsConnector).fetch_daily_metrics(
        date(2026, 8, 1), date(2026, 8, 1)
    )
    assert row.platform is Platform.YOUTUBE_ADS and row.video_views == 9120
    query = json.loads(script.requests[0].content)["query"]
    assert "metrics.video_trueview_views" in query and "advertising_channel_type = 'VIDEO'" in query


def test_proto3_omitted_zero_metrics_read_as_zero(script, options) -> None:
    row = sample("google_ads_searchstream_response.json")[0]["results"][0]
    row["metrics"] = {"impressions": "3"}
    script.on(STREAM, respond([{"results": [row]}]))
    (metric,) = connector(script, options).fetch_daily_metrics(date(2026, 8, 1), date(2026, 8, 1))
    assert (metric.cost, metric.clicks, metric.conversions, metric.impressions) == (
        Decimal(0),
        0,
        Decimal(0),
        3,
    )


def _campaign_row(cid: str, budget: dict) -> dict:
    return {
        "customer": {"resourceName": "customers/1234567890", "currencyCode": "JPY"},
        "campaign": {
            "resourceName": f"customers/1234567890/campaigns/{cid}",
            "id": cid,
            "name": f"C{cid}",
            "status": "PAUSED",
            "advertisingChannelType": "SEARCH",
        },
        "campaignBudget": budget,
    }


def test_list_campaigns_follows_page_tokens(script, options) -> None:
    page1 = sample("google_ads_search_paged_response.json")
    page1["results"] = [
        _campaign_row(
            "1",
            {
                "resourceName": "customers/1234567890/campaignBudgets/11",
                "amountMicros": "7500000000",
                "period": "DAILY",
            },
        )
    ]
    page2 = {
        "results": [
            _campaign_row(
                "2",
                {
                    "resourceName": "customers/1234567890/campaignBudgets/22",
                    "totalAmountMicros": "90000000000",
                    "period": "CUSTOM_PERIOD",
                },
            )
        ]
    }
    script.on("googleAds:search", respond(page1), respond(page2))
    campaigns = connector(script, options).list_campaigns()

    assert [c.id for c in campaigns] == ["1", "2"]
    assert campaigns[0].status is CampaignStatus.PAUSED and campaigns[0].raw_status == "PAUSED"
    assert campaigns[0].budget.amount == Decimal("7500") and campaigns[0].budget.currency == "JPY"
    assert campaigns[0].budget.budget_type is BudgetType.DAILY
    assert campaigns[1].budget.budget_type is BudgetType.LIFETIME and campaigns[1].budget.amount == Decimal(
        "90000"
    )
    bodies = [json.loads(r.content) for r in script.requests]
    assert "pageToken" not in bodies[0] and bodies[1]["pageToken"] == "CN3x...opaque..."
    assert bodies[0]["query"] == bodies[1]["query"]  # byte-identical query keeps the server-side page cache


def test_budget_update_sends_the_documented_mutate(script, options) -> None:
    current = _campaign_row(
        "20123456789",
        {
            "resourceName": "customers/1234567890/campaignBudgets/13000111222",
            "amountMicros": "50000000",
            "period": "DAILY",
        },
    )
    current["customer"]["currencyCode"] = "USD"
    script.on("googleAds:search", respond({"results": [current]}))
    script.on("campaignBudgets:mutate", respond(sample("google_ads_budget_mutate_response.json")))
    change = connector(script, options).update_budget("20123456789", Decimal("75"), BudgetType.DAILY)

    sent = json.loads(script.to("campaignBudgets:mutate")[0].content)
    assert sent == sample("google_ads_budget_mutate_request.json")
    assert (change.before, change.after, change.currency, change.sent) == (
        Decimal("50"),
        Decimal("75"),
        "USD",
        True,
    )
    assert change.response == sample("google_ads_budget_mutate_response.json")


def test_budget_validate_only_and_refusals(script, options) -> None:
    shared = _campaign_row(
        "5",
        {
            "resourceName": "customers/1234567890/campaignBudgets/5",
            "amountMicros": "5000000000",
            "period": "DAILY",
            "explicitlyShared": True,
        },
    )
    own = _campaign_row(
        "6",
        {
            "resourceName": "customers/1234567890/campaignBudgets/6",
            "amountMicros": "5000000000",
            "period": "DAILY",
        },
    )
    script.on(lambda r: "campaign.id = 5" in r.content.decode(), respond({"results": [shared]}))
    script.on(lambda r: "campaign.id = 6" in r.content.decode(), respond({"results": [own]}))
    script.on("campaignBudgets:mutate", respond({}))
    conn = connector(script, options)
    with pytest.raises(PermanentPlatformError, match="shared budget"):
        conn.update_budget("5", Decimal("6000"), BudgetType.DAILY)
    with pytest.raises(PermanentPlatformError, match="daily budget, not lifetime"):
        conn.update_budget("6", Decimal("6000"), BudgetType.LIFETIME)
    with pytest.raises(ValueError, match="billable unit"):
        conn.update_budget("6", Decimal("6000.5"), BudgetType.DAILY)  # JPY has no fractions
    change = conn.update_budget("6", Decimal("6000"), BudgetType.DAILY, validate_only=True)
    sent = json.loads(script.to("campaignBudgets:mutate")[0].content)
    assert sent["validateOnly"] is True and sent["operations"][0]["update"]["amountMicros"] == "6000000000"
    assert change.validate_only and change.after == Decimal("6000")


def test_429_waits_the_retry_delay_then_succeeds(script, options, sleep) -> None:
    script.on(
        STREAM,
        respond(sample("google_ads_error_resource_exhausted.json"), 429),
        respond(sample("google_ads_searchstream_response.json")),
    )
    rows = connector(script, options).fetch_daily_metrics(date(2026, 8, 1), date(2026, 8, 2))
    assert len(rows) == 2 and sleep.calls == [30.0]


def test_429_longer_than_allowed_is_raised_for_rescheduling(script, options, sleep) -> None:
    body = sample("google_ads_error_resource_exhausted.json")
    body["error"]["details"][0]["errors"][0]["details"]["quotaErrorDetails"]["retryDelay"] = "86400s"
    script.on(STREAM, respond(body, 429))
    with pytest.raises(RateLimitedError) as caught:
        connector(script, options).fetch_daily_metrics(date(2026, 8, 1), date(2026, 8, 2))
    assert caught.value.retry_after == 86400.0
    assert caught.value.code == "quotaError.RESOURCE_TEMPORARILY_EXHAUSTED"
    assert sleep.calls == [] and len(script.requests) == 1


def test_5xx_retries_with_exponential_backoff_then_gives_up(script, options, sleep) -> None:
    unavailable = {
        "error": {"code": 503, "message": "The service is currently unavailable.", "status": "UNAVAILABLE"}
    }
    script.on(STREAM, respond(unavailable, 503))
    with pytest.raises(TransientPlatformError):
        connector(script, options).fetch_daily_metrics(date(2026, 8, 1), date(2026, 8, 2))
    assert sleep.calls == [1.0, 2.0, 4.0, 8.0] and len(script.requests) == 5


def test_error_inside_the_stream_array_is_classified(script, options, sleep) -> None:
    in_stream = [{"error": {"code": 500, "message": "Internal error encountered.", "status": "INTERNAL"}}]
    script.on(STREAM, respond(in_stream, 500), respond(sample("google_ads_searchstream_response.json")))
    assert len(connector(script, options).fetch_daily_metrics(date(2026, 8, 1), date(2026, 8, 2))) == 2
    assert sleep.calls == [1.0]


def test_bad_query_is_permanent_and_not_retried(script, options, sleep) -> None:
    bad = {
        "error": {
            "code": 400,
            "message": "Request contains an invalid argument.",
            "status": "INVALID_ARGUMENT",
            "details": [
                {
                    "@type": "type.googleapis.com/google.ads.googleads.v25.errors.GoogleAdsFailure",
                    "errors": [
                        {
                            "errorCode": {"queryError": "UNRECOGNIZED_FIELD"},
                            "message": "Unrecognized field in the query: 'metrics.video_views'.",
                        }
                    ],
                }
            ],
        }
    }
    script.on(STREAM, respond(bad, 400))
    with pytest.raises(PermanentPlatformError) as caught:
        connector(script, options).fetch_daily_metrics(date(2026, 8, 1), date(2026, 8, 2))
    assert caught.value.code == "queryError.UNRECOGNIZED_FIELD" and "video_views" in caught.value.message
    assert sleep.calls == [] and len(script.requests) == 1


def test_permission_denied_marks_the_connection_broken(script, options) -> None:
    denied = {
        "error": {
            "code": 403,
            "message": "The caller does not have permission",
            "status": "PERMISSION_DENIED",
            "details": [
                {
                    "errors": [
                        {
                            "errorCode": {"authorizationError": "USER_PERMISSION_DENIED"},
                            "message": "User doesn't have permission to access customer.",
                        }
                    ]
                }
            ],
        }
    }
    script.on(STREAM, respond(denied, 403))
    with pytest.raises(ConnectionBrokenError) as caught:
        connector(script, options).fetch_daily_metrics(date(2026, 8, 1), date(2026, 8, 2))
    assert caught.value.reason == "User doesn't have permission to access customer."


EXPIRED = {
    "error": {
        "code": 401,
        "message": "Request had invalid authentication credentials.",
        "status": "UNAUTHENTICATED",
    }
}


def test_expired_token_is_refreshed_persisted_and_the_call_replayed(script, options) -> None:
    saved = []
    script.on(
        "oauth2.googleapis.com/token",
        respond({"access_token": "ya29.new", "expires_in": 3599, "token_type": "Bearer"}),
    )
    script.on(STREAM, respond(EXPIRED, 401), respond(sample("google_ads_searchstream_response.json")))
    conn = connector(script, options, on_credentials_refreshed=saved.append)
    assert len(conn.fetch_daily_metrics(date(2026, 8, 1), date(2026, 8, 2))) == 2

    token_call = script.to("/token")[0]
    assert parse_qs(token_call.content.decode()) == {
        "grant_type": ["refresh_token"],
        "client_id": ["client.apps.googleusercontent.com"],
        "client_secret": ["shh"],
        "refresh_token": ["1//refresh"],
    }
    assert "authorization" not in token_call.headers
    assert script.to(STREAM)[1].headers["authorization"] == "Bearer ya29.new"
    (new,) = saved
    assert new.access_token.get_secret_value() == "ya29.new"
    assert new.expires_at is not None and (new.expires_at - options.clock()).total_seconds() == 3599
    assert new.to_storage()["refresh_token"] == "1//refresh"


def test_token_without_access_token_or_near_expiry_is_refreshed_first(script, options) -> None:
    script.on("/token", respond({"access_token": "ya29.fresh", "expires_in": 3599}))
    script.on(STREAM, respond([{"results": []}]))
    creds = CREDS.model_copy(update={"access_token": None})
    connector(script, options, creds=creds).fetch_daily_metrics(date(2026, 8, 1), date(2026, 8, 1))
    assert [r.url.path for r in script.requests] == [
        "/token",
        "/v25/customers/1234567890/googleAds:searchStream",
    ]


def test_failed_refresh_marks_the_connection_broken_with_googles_reason(script, options) -> None:
    script.on(
        "/token",
        respond({"error": "invalid_grant", "error_description": "Token has been expired or revoked."}, 400),
    )
    script.on(STREAM, respond(EXPIRED, 401))
    with pytest.raises(ConnectionBrokenError) as caught:
        connector(script, options).fetch_daily_metrics(date(2026, 8, 1), date(2026, 8, 2))
    assert caught.value.reason == "invalid_grant: Token has been expired or revoked."
    assert caught.value.code == "invalid_grant"


def test_base_urls_are_configurable(script, options) -> None:
    script.on("http://sim/token", respond({"access_token": "t", "expires_in": 60}))
    script.on("http://sim/v24/customers", respond([{"results": []}]))
    opts = replace(options, base_url="http://sim", auth_base_url="http://sim", api_version="v24")
    conn = GoogleAdsConnector(
        CREDS.model_copy(update={"access_token": None}), http_client=script.client(), options=opts
    )
    assert conn.fetch_daily_metrics(date(2026, 8, 1), date(2026, 8, 1)) == []


def test_parse_duration() -> None:
    assert (
        parse_duration("30s") == 30.0 and parse_duration("1.500s") == 1.5 and parse_duration("soon") is None
    )
