"""Strategy generation: the brief's body (unchanged, plus optional planning inputs) and the plan it returns.

The request keeps the brief's field names and loose shapes (``target_audience`` is free-form demographics,
interests and behaviors) so the brief's example works as written; everything the service needs to reject is
checked here or in the service, each problem naming its field. Money is Decimal; the plan's money figures are
decimal strings in the plan's currency, ratios (``estimated_roi``, ROAS) are numbers.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from pydantic import Field, field_validator

from strategist.domain.clients import Industry
from strategist.domain.money import ACTIVE_CURRENCIES
from strategist.http.schemas.common import Out, PageQuery, Strict

MAX_DURATION_DAYS = 365
#: the brief's objectives and their plain synonyms (mapped to the benchmark table's objectives in the service)
OBJECTIVES = (
    "sales_conversion",
    "sales",
    "conversions",
    "lead_generation",
    "leads",
    "traffic",
    "website_traffic",
    "brand_awareness",
    "awareness",
    "reach",
)


class Demographics(Strict):
    age_range: str | None = Field(None, max_length=20, description="e.g. '25-54' or '18+'; ages 13-100.")
    gender: str | None = Field(None, max_length=20, description="mixed | all | female | male")
    locations: list[str] = Field(default_factory=list, max_length=50)
    income: str | None = Field(None, max_length=50)
    job_titles: list[str] = Field(default_factory=list, max_length=50)
    seniority: list[str] = Field(default_factory=list, max_length=20)
    company_size: str | None = Field(None, max_length=50)


class TargetAudience(Strict):
    demographics: Demographics = Field(default_factory=Demographics)
    interests: list[str] = Field(default_factory=list, max_length=50)
    behaviors: list[str] = Field(default_factory=list, max_length=50)


class PlatformBound(Strict):
    min: Decimal | None = Field(None, ge=0, description="Least this platform may get over the flight.")
    max: Decimal | None = Field(None, ge=0, description="Most this platform may get over the flight.")


class StrategyConstraints(Strict):
    platforms: dict[str, PlatformBound] = Field(
        default_factory=dict,
        description="Per-platform {min, max} over the whole flight, in the plan currency.",
    )
    locked: dict[str, Decimal] = Field(
        default_factory=dict, description="Platforms held at a fixed amount over the flight."
    )
    email_list_size: int | None = Field(
        None, ge=1, le=500_000_000, description="Subscribers you can mail (default: 10,000, an assumption)."
    )
    email_sends_per_week: float | None = Field(None, gt=0, le=14, description="Default 2 per subscriber.")
    email_cost_per_thousand: Decimal | None = Field(
        None, gt=0, description="Cost per 1,000 sends in the plan currency (default: USD 5 converted)."
    )
    mde: float | None = Field(
        None, gt=0, le=2, description="Relative minimum detectable effect for A/B tests (default 0.2 = 20 %)."
    )


class StrategyGenerate(Strict):
    tenant_id: uuid.UUID | None = Field(
        None, description="Accepted for compatibility; must be your own tenant."
    )
    client_id: uuid.UUID
    campaign_name: str = Field(min_length=1, max_length=300)
    objective: str = Field(min_length=1, max_length=50, description=f"One of {', '.join(OBJECTIVES)}.")
    target_audience: TargetAudience = Field(default_factory=TargetAudience)
    budget: Decimal = Field(description="Total over the flight, in the plan currency.")
    duration_days: int = Field(description=f"1-{MAX_DURATION_DAYS}.")
    platforms: list[str] = Field(min_length=1, max_length=6)
    campaign_type: str | None = Field(None, max_length=50)
    kpis: list[str] = Field(default_factory=list, max_length=15)
    industry: Industry | None = Field(None, description="Default: the client's industry.")
    currency: str | None = Field(None, description="Default and only accepted value: the client's currency.")
    start_date: dt.date | None = Field(None, description="Default: tomorrow. Not in the past.")
    geo: list[str] = Field(default_factory=list, max_length=50)
    constraints: StrategyConstraints = Field(default_factory=StrategyConstraints)
    target_roas: Decimal | None = Field(None, gt=0)
    target_cpa: Decimal | None = Field(None, gt=0)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.upper()
        if value not in ACTIVE_CURRENCIES:
            raise ValueError(f"'{value}' is not an ISO 4217 currency code")
        return value

    def brief_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"tenant_id"})


class StrategyListQuery(PageQuery):
    client_id: uuid.UUID | None = Field(None, description="Only this client's strategies.")


class Interval(Out):
    p10: float | None
    p50: float | None
    p90: float | None


class AllocationItem(Out):
    platform: str
    budget: Decimal
    share: float
    basis: str
    daily_budget: Decimal


class StrategyOut(Out):
    """One strategy version. The plan sections are documented in the service (strategist.services.strategy)."""

    id: uuid.UUID
    client_id: uuid.UUID
    lineage_id: uuid.UUID
    version: int
    name: str
    campaign_name: str
    objective: str
    status: str
    currency: str
    total_budget: Decimal
    duration_days: int
    start_date: dt.date | None
    end_date: dt.date | None
    platforms: list[str]
    estimated_roi: float | None = Field(description="p50 ROAS (revenue / spend) over the flight.")
    estimated_roi_interval: list[float | None]
    allocation: list[AllocationItem]
    forecast: dict[str, Any]
    marginal_roas: dict[str, Any]
    audience: dict[str, Any]
    timeline: dict[str, Any]
    content_strategy: dict[str, Any]
    kpi_targets: list[dict[str, Any]]
    assumptions: dict[str, Any]
    similar_strategies: list[dict[str, Any]]
    narrative: dict[str, Any]
    versions: list[dict[str, Any]] = Field(default_factory=list)
    created_at: dt.datetime


class StrategySummary(Out):
    id: uuid.UUID
    client_id: uuid.UUID
    lineage_id: uuid.UUID
    version: int
    name: str
    objective: str
    status: str
    currency: str
    total_budget: Decimal
    duration_days: int
    start_date: dt.date | None
    platforms: list[str]
    estimated_roi: float | None
    created_at: dt.datetime


class PlannedCampaign(Out):
    id: uuid.UUID
    platform: str
    name: str
    status: str
    budget_amount: Decimal | None
    budget_type: str | None
    currency: str
    start_date: dt.date | None
    end_date: dt.date | None
    strategy_id: uuid.UUID | None


class StrategyCampaigns(Out):
    strategy_id: uuid.UUID
    created: int
    campaigns: list[PlannedCampaign]
