"""Normalized shapes every ad-platform connector returns.

One ``DailyMetric`` is one platform row for one campaign, one platform-local day and one breakdown, in the
account's native currency. It keeps what is needed to reconcile it with the platform UI later: the platform's
time zone, the attribution window its conversions were counted under, and the endpoint that produced it. Reach
is kept but is not additive across days or breakdowns, so aggregations must never sum it.

Frozen slotted dataclasses rather than pydantic models: a two-year backfill builds ~10^6 of these and the
connector has already validated and converted every value at the edge.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from strategist.domain.platforms import Platform


class CampaignStatus(StrEnum):
    """The few states the product acts on; the platform's own word is kept in ``raw_status``."""

    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"
    REMOVED = "removed"
    OTHER = "other"


class BudgetType(StrEnum):
    DAILY = "daily"
    LIFETIME = "lifetime"


class AttributionWindow(StrEnum):
    """Labels for how a row's conversions were counted; rows under different labels must not be summed."""

    GOOGLE_ADS_DEFAULT = "google_ads_default"
    META_7D_CLICK_1D_VIEW = "7d_click_1d_view"
    META_7D_CLICK = "7d_click"
    META_1D_CLICK = "1d_click"
    LINKEDIN_DEFAULT = "linkedin_default"
    TIKTOK_DEFAULT = "tiktok_default"


@dataclass(frozen=True, slots=True)
class DailyMetric:
    platform: Platform
    account_id: str
    campaign_id: str
    campaign_name: str | None
    date: date
    currency: str
    cost: Decimal
    impressions: int
    clicks: int
    conversions: Decimal
    conversion_value: Decimal
    time_zone: str
    attribution_window: str
    source: str
    breakdown: str = ""
    video_views: int | None = None
    reach: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.cost, Decimal) or not isinstance(self.conversions, Decimal):
            raise TypeError("cost and conversions must be Decimal")
        if not isinstance(self.conversion_value, Decimal):
            raise TypeError("conversion_value must be Decimal")
        if self.impressions < 0 or self.clicks < 0:
            raise ValueError("impressions and clicks cannot be negative")
        if len(self.currency) != 3:
            raise ValueError(f"currency must be an ISO 4217 code, got {self.currency!r}")

    @property
    def key(self) -> tuple[str, str, str, date, str]:
        """Identity of the row for idempotent upserts: a restated day replaces, never adds."""
        return (self.platform.value, self.account_id, self.campaign_id, self.date, self.breakdown)


@dataclass(frozen=True, slots=True)
class Budget:
    amount: Decimal
    budget_type: BudgetType
    currency: str
    #: The platform's own budget object when it is not the campaign (Google campaign budgets, Meta ad sets).
    platform_budget_id: str | None = None


@dataclass(frozen=True, slots=True)
class PlatformCampaign:
    platform: Platform
    account_id: str
    id: str
    name: str
    status: CampaignStatus
    raw_status: str
    objective: str | None
    budget: Budget | None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PlatformAccount:
    """What ``test_connection`` learns: the account is reachable and in which currency and zone it reports."""

    platform: Platform
    account_id: str
    name: str | None
    currency: str
    time_zone: str


@dataclass(frozen=True, slots=True)
class BudgetChange:
    """Result of a budget write: exactly what was sent, so the audit log can show it."""

    platform: Platform
    account_id: str
    campaign_id: str
    budget_type: BudgetType
    currency: str
    before: Decimal | None
    after: Decimal
    validate_only: bool
    #: False when the platform has no validate-only mode and the connector therefore sent nothing.
    sent: bool
    request: Mapping[str, Any]
    response: Mapping[str, Any] = field(default_factory=dict)
