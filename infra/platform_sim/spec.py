"""The JSON-able description of what the simulator serves: accounts, campaigns and their response curves.

A demo tenant is pointed at the simulator by creating accounts here (in ``create_app(spec=...)`` or through
``POST /_sim/accounts``) with the same ids its stored connection credentials name.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

PlatformId = Literal["google_ads", "youtube_ads", "meta_ads", "linkedin_ads", "tiktok_ads"]
#: API family that serves each product platform: YouTube campaigns are VIDEO campaigns of a Google Ads customer.
FAMILY: dict[str, str] = {
    "google_ads": "google",
    "youtube_ads": "google",
    "meta_ads": "meta",
    "linkedin_ads": "linkedin",
    "tiktok_ads": "tiktok",
}


class CurveSpec(BaseModel):
    """Per-campaign response curve: spend -> delivery and conversions."""

    model_config = ConfigDict(extra="forbid")

    cpm: float = Field(8.0, gt=0, description="cost per 1,000 impressions, account currency")
    ctr: float = Field(0.02, gt=0, lt=1)
    max_conversions: float = Field(40.0, ge=0, description="Hill ceiling, conversions/day")
    half_saturation: float = Field(150.0, gt=0, description="adstocked spend/day giving half the ceiling")
    hill_shape: float = Field(1.3, gt=0)
    adstock_decay: float = Field(0.4, ge=0, lt=1, description="geometric carry-over per day")
    aov: float = Field(80.0, ge=0, description="average conversion value")
    weekly_amplitude: float = Field(0.15, ge=0, lt=1)
    weekly_phase: float = Field(0.0, description="day-of-week of the peak, 0 = Monday")
    noise: float = Field(0.08, ge=0, lt=1)
    video_view_rate: float = Field(0.0, ge=0, le=1)
    frequency: float = Field(1.25, ge=1, description="impressions per reached person per day")


class CampaignSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    status: Literal["active", "paused", "removed"] = "active"
    #: Google: advertising_channel_type (VIDEO = YouTube); Meta: objective; LinkedIn: objectiveType; TikTok:
    #: objective_type.
    objective: str | None = None
    budget: Decimal = Field(Decimal("100"), gt=0, description="major units of the account currency")
    budget_type: Literal["daily", "lifetime"] = "daily"
    #: Days a lifetime budget is spread over.
    flight_days: int = Field(30, gt=0)
    start_date: date | None = None
    curve: CurveSpec = Field(default_factory=CurveSpec)


class AccountSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: PlatformId
    account_id: str
    name: str = "Simulated account"
    currency: str = "USD"
    #: IANA zone the platform reports in (LinkedIn always reports UTC whatever is set here).
    time_zone: str = "America/New_York"
    history_days: int = Field(730, ge=1, le=3650)
    campaigns: list[CampaignSpec] = Field(default_factory=list)

    @field_validator("currency")
    @classmethod
    def _upper(cls, value: str) -> str:
        value = value.upper()
        if len(value) != 3 or not value.isalpha():
            raise ValueError("currency must be an ISO 4217 code")
        return value

    @field_validator("account_id")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.removeprefix("act_").replace("-", "")


class SimSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accounts: list[AccountSpec] = Field(default_factory=list)


_FIRST_IDS = {
    "google": 20_100_000_000,
    "meta": 120_210_000_000_000_000,
    "linkedin": 1_234_000,
    "tiktok": 1_790_000_000_000_000_000,
}
_OBJECTIVES = {
    "google_ads": ["SEARCH", "PERFORMANCE_MAX", "DISPLAY", "DEMAND_GEN"],
    "youtube_ads": ["VIDEO"],
    "meta_ads": ["OUTCOME_SALES", "OUTCOME_LEADS", "OUTCOME_TRAFFIC"],
    "linkedin_ads": ["WEBSITE_CONVERSION", "LEAD_GENERATION", "BRAND_AWARENESS"],
    "tiktok_ads": ["CONVERSIONS", "TRAFFIC", "REACH"],
}
_DEMO_ACCOUNTS = {
    "google_ads": ("1234567890", "USD", "America/New_York"),
    "youtube_ads": ("1234567890", "USD", "America/New_York"),
    "meta_ads": ("123456789012345", "USD", "America/Los_Angeles"),
    "linkedin_ads": ("507404993", "USD", "UTC"),
    "tiktok_ads": ("7100000000000000001", "JPY", "Asia/Tokyo"),
}


def demo_spec(
    *,
    seed: int = 7,
    campaigns_per_platform: int = 4,
    history_days: int = 730,
    platforms: tuple[str, ...] = ("google_ads", "youtube_ads", "meta_ads", "linkedin_ads", "tiktok_ads"),
) -> SimSpec:
    """A plausible multi-platform spec (TikTok in JPY, so zero-decimal money is always exercised)."""
    rng = np.random.default_rng(seed)
    accounts = []
    for platform in platforms:
        account_id, currency, zone = _DEMO_ACCOUNTS[platform]
        family = FAMILY[platform]
        scale = 150.0 if currency == "JPY" else 1.0
        base_id = _FIRST_IDS[family] + (5_000 if platform == "youtube_ads" else 0)
        campaigns = []
        for i in range(campaigns_per_platform):
            budget = float(rng.choice([50, 75, 100, 150, 250, 400])) * scale
            objective = _OBJECTIVES[platform][i % len(_OBJECTIVES[platform])]
            curve = CurveSpec(
                cpm=float(rng.uniform(4, 25)) * scale,
                ctr=float(rng.uniform(0.005, 0.05)),
                max_conversions=float(rng.uniform(5, 60)),
                half_saturation=budget * float(rng.uniform(0.6, 1.8)),
                hill_shape=float(rng.uniform(0.9, 2.2)),
                adstock_decay=float(rng.uniform(0.1, 0.7)),
                aov=float(rng.uniform(30, 200)) * scale,
                weekly_amplitude=float(rng.uniform(0.05, 0.25)),
                weekly_phase=float(rng.integers(0, 7)),
                video_view_rate=0.3 if platform in ("youtube_ads", "tiktok_ads") else 0.0,
            )
            campaigns.append(
                CampaignSpec(
                    id=str(base_id + i),
                    name=f"{platform.split('_')[0].title()} | {objective.title()} | {i + 1}",
                    objective=objective,
                    budget=Decimal(str(int(budget))),
                    curve=curve,
                    status="paused" if i == campaigns_per_platform - 1 and i > 0 else "active",
                )
            )
        accounts.append(
            AccountSpec(
                platform=platform,  # type: ignore[arg-type]
                account_id=account_id,
                name=f"Demo {platform}",
                currency=currency,
                time_zone=zone,
                history_days=history_days,
                campaigns=campaigns,
            )
        )
    return SimSpec(accounts=accounts)


def default_start(today: date, history_days: int) -> date:
    return today - timedelta(days=history_days)
