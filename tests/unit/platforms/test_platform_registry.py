from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from strategist.adapters.platforms import (
    CONNECTORS,
    GoogleAdsCredentials,
    MetaCredentials,
    PlatformConnector,
    get_connector,
    parse_credentials,
)
from strategist.adapters.platforms.google_ads import YouTubeAdsConnector
from strategist.domain.platforms import API_PLATFORMS, Platform

STORED = {
    "google_ads": {
        "customer_id": "123-456-7890",
        "developer_token": "d",
        "client_id": "c",
        "client_secret": "s",
        "refresh_token": "r",
    },
    "youtube_ads": {
        "customer_id": "1234567890",
        "developer_token": "d",
        "client_id": "c",
        "client_secret": "s",
        "refresh_token": "r",
    },
    "meta_ads": {"ad_account_id": "act_42", "access_token": "EAA"},
    "linkedin_ads": {"ad_account_id": "urn:li:sponsoredAccount:507404993", "access_token": "AQV"},
    "tiktok_ads": {"advertiser_id": "7100000000000000001", "access_token": "act"},
}


def test_every_api_platform_has_a_connector() -> None:
    assert set(CONNECTORS) == set(API_PLATFORMS)


@pytest.mark.parametrize("platform", sorted(STORED))
def test_get_connector_from_stored_credentials(platform: str) -> None:
    conn = get_connector(platform, STORED[platform], base_url="http://sim:8099")
    assert isinstance(conn, PlatformConnector)
    assert conn.platform is Platform(platform)
    assert conn.base_url == "http://sim:8099" and conn.auth_base_url == "http://sim:8099"
    conn.close()


def test_youtube_uses_the_google_customer() -> None:
    conn = get_connector("youtube_ads", STORED["youtube_ads"])
    assert isinstance(conn, YouTubeAdsConnector) and conn.account_id == "1234567890"
    assert (
        conn.base_url == "https://googleads.googleapis.com"
        and conn.auth_base_url == "https://oauth2.googleapis.com"
    )


def test_ids_are_normalized() -> None:
    assert parse_credentials("google_ads", STORED["google_ads"]).account_id == "1234567890"
    assert parse_credentials("meta_ads", STORED["meta_ads"]).account_id == "42"
    assert parse_credentials("linkedin_ads", STORED["linkedin_ads"]).account_id == "507404993"


def test_email_has_no_connector_and_bad_credentials_are_rejected() -> None:
    with pytest.raises(KeyError):
        get_connector("email", {})
    with pytest.raises(ValidationError):
        get_connector("meta_ads", {"ad_account_id": "not-a-number", "access_token": "x"})
    with pytest.raises(ValidationError):
        get_connector("google_ads", {**STORED["google_ads"], "unexpected": 1})


def test_secrets_stay_out_of_reprs_but_round_trip_through_storage() -> None:
    creds = GoogleAdsCredentials(
        **STORED["google_ads"], access_token="ya29.secret", expires_at=datetime(2026, 8, 3, 13, tzinfo=UTC)
    )
    assert "ya29.secret" not in repr(creds) and "ya29.secret" not in str(creds.model_dump())
    stored = creds.to_storage()
    assert stored["access_token"] == "ya29.secret" and stored["expires_at"] == "2026-08-03T13:00:00+00:00"
    assert parse_credentials("google_ads", stored) == creds


def test_naive_expiry_is_taken_as_utc() -> None:
    creds = MetaCredentials(ad_account_id="1", access_token="t", expires_at=datetime(2026, 8, 3, 13))
    assert creds.expires_at.tzinfo is UTC
