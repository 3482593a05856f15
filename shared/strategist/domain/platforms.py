"""Platform identifiers: one spelling everywhere in the API, the data and the connectors."""

from __future__ import annotations

from enum import StrEnum


class Platform(StrEnum):
    GOOGLE_ADS = "google_ads"
    YOUTUBE_ADS = "youtube_ads"
    META_ADS = "meta_ads"
    LINKEDIN_ADS = "linkedin_ads"
    TIKTOK_ADS = "tiktok_ads"
    EMAIL = "email"


#: Platforms whose data arrives through an API connector; the rest are imported as files.
API_PLATFORMS: frozenset[Platform] = frozenset(
    {Platform.GOOGLE_ADS, Platform.YOUTUBE_ADS, Platform.META_ADS, Platform.LINKEDIN_ADS, Platform.TIKTOK_ADS}
)
