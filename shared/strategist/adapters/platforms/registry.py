"""Build the right connector for a stored connection."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from strategist.adapters.platforms.base import BaseConnector, ConnectorOptions, CredentialsCallback
from strategist.adapters.platforms.credentials import PlatformCredentials, parse_credentials
from strategist.adapters.platforms.google_ads import GoogleAdsConnector, YouTubeAdsConnector
from strategist.adapters.platforms.linkedin import LinkedInAdsConnector
from strategist.adapters.platforms.meta import MetaAdsConnector
from strategist.adapters.platforms.tiktok import TikTokAdsConnector
from strategist.domain.platforms import Platform

CONNECTORS: Mapping[Platform, type[BaseConnector]] = {
    Platform.GOOGLE_ADS: GoogleAdsConnector,
    Platform.YOUTUBE_ADS: YouTubeAdsConnector,
    Platform.META_ADS: MetaAdsConnector,
    Platform.LINKEDIN_ADS: LinkedInAdsConnector,
    Platform.TIKTOK_ADS: TikTokAdsConnector,
}


def get_connector(
    platform: Platform | str,
    credentials: Mapping[str, Any] | PlatformCredentials,
    *,
    http_client: httpx.Client | None = None,
    base_url: str | None = None,
    auth_base_url: str | None = None,
    on_credentials_refreshed: CredentialsCallback | None = None,
    options: ConnectorOptions | None = None,
    **connector_kwargs: Any,
) -> BaseConnector:
    """A connector for ``platform`` from decrypted stored credentials (a dict or a credentials model).

    ``base_url``/``auth_base_url`` override the platform hosts (the simulator serves both from one URL);
    ``connector_kwargs`` are platform-specific (Meta: ``action_types``, ``attribution_windows``).
    Raises KeyError for platforms without an API connector (email) and pydantic.ValidationError for bad
    credentials.
    """
    platform = Platform(platform)
    if platform not in CONNECTORS:
        raise KeyError(f"no API connector for {platform.value}")
    opts = options or ConnectorOptions()
    if base_url is not None or auth_base_url is not None:
        from dataclasses import replace

        opts = replace(
            opts,
            base_url=base_url or opts.base_url,
            auth_base_url=auth_base_url or base_url or opts.auth_base_url,
        )
    return CONNECTORS[platform](
        parse_credentials(platform, credentials),  # type: ignore[arg-type]
        http_client=http_client,
        options=opts,
        on_credentials_refreshed=on_credentials_refreshed,
        **connector_kwargs,
    )
