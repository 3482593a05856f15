"""Ad-platform connectors: one small client per platform behind the ``PlatformConnector`` port."""

from strategist.adapters.platforms.base import (
    BaseConnector,
    ConnectorOptions,
    CredentialsCallback,
    PlatformConnector,
)
from strategist.adapters.platforms.credentials import (
    GoogleAdsCredentials,
    LinkedInCredentials,
    MetaCredentials,
    PlatformCredentials,
    TikTokCredentials,
    parse_credentials,
)
from strategist.adapters.platforms.errors import (
    ConnectionBrokenError,
    MalformedResponseError,
    PermanentPlatformError,
    PlatformError,
    RateLimitedError,
    TokenExpiredError,
    TransientPlatformError,
)
from strategist.adapters.platforms.registry import CONNECTORS, get_connector

__all__ = [
    "CONNECTORS",
    "BaseConnector",
    "ConnectionBrokenError",
    "ConnectorOptions",
    "CredentialsCallback",
    "GoogleAdsCredentials",
    "LinkedInCredentials",
    "MalformedResponseError",
    "MetaCredentials",
    "PermanentPlatformError",
    "PlatformConnector",
    "PlatformCredentials",
    "PlatformError",
    "RateLimitedError",
    "TikTokCredentials",
    "TokenExpiredError",
    "TransientPlatformError",
    "get_connector",
    "parse_credentials",
]
