"""The analytics dashboard: its query and the shape of ``dashboard`` (the brief's Performance Analytics contract).

Money is Decimal (serialized as a decimal string), in the one target currency named in ``currency``; every ratio
is computed from sums in the service, never averaged."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from strategist.domain.money import ACTIVE_CURRENCIES
from strategist.http.schemas.common import Out, Strict

DateRange = Literal["7d", "30d", "90d", "mtd", "qtd", "ytd"]
Compare = Literal["previous_period", "previous_year", "none"]
PaceStatus = Literal["on_track", "under", "over", "too_early"]
#: start/end may span at most this many days (three years, one of them a leap year).
MAX_SPAN_DAYS = 3 * 365 + 1


class DashboardQuery(Strict):
    """start/end are validated before date_range so that each error names the field that is wrong."""

    tenant_id: uuid.UUID | None = Field(
        None, description="Accepted for compatibility; must be your own tenant."
    )
    client_id: uuid.UUID | None = Field(
        None, description="One client; without it, every client you can see (a client viewer: only its own)."
    )
    start: dt.date | None = Field(None, description="First day (ISO date), with end; not with date_range.")
    end: dt.date | None = Field(
        None,
        validate_default=True,
        description="Last day (ISO date, inclusive), with start; at most 3 years.",
    )
    date_range: DateRange | None = Field(
        None,
        validate_default=True,
        description="7d/30d/90d: the N complete days ending yesterday; mtd/qtd/ytd: period start through today. "
        "Default 30d when neither date_range nor start/end is given.",
    )
    compare: Compare = Field("previous_period", description="Comparison period for deltas.")
    currency: str | None = Field(
        None,
        min_length=3,
        max_length=3,
        description="ISO 4217 target currency. Default: the client's currency (one client), else the most common "
        "client currency, else USD. Must be one the ECB publishes (or every figure's own currency).",
    )

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.upper()
        if value not in ACTIVE_CURRENCIES:
            raise ValueError(f"'{value}' is not an ISO 4217 currency code")
        return value

    @field_validator("end")
    @classmethod
    def _end(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        if "start" not in info.data:  # start itself failed; its own error says why
            return value
        start = info.data["start"]
        if (start is None) != (value is None):
            raise ValueError("start and end must be given together")
        if start is not None and value is not None:
            if value < start:
                raise ValueError(f"end ({value}) must be on or after start ({start})")
            if (value - start).days + 1 > MAX_SPAN_DAYS:
                raise ValueError(f"start..end spans {(value - start).days + 1} days; the limit is 3 years")
        return value

    @field_validator("date_range")
    @classmethod
    def _range(cls, value: DateRange | None, info: ValidationInfo) -> DateRange | None:
        if value is not None and (info.data.get("start") is not None or info.data.get("end") is not None):
            raise ValueError("give either date_range or start/end, not both")
        return value


# -- the dashboard -----------------------------------------------------------------------------------------------
class MetricValue(Out):
    value: Decimal | int | None
    previous: Decimal | int | None = None
    change: Decimal | int | None = None
    change_pct: Decimal | None = Field(
        None, description="(value - previous) / previous x 100; null if previous is 0."
    )


class AttributedValue(MetricValue):
    """Conversions and conversion value are counted under each platform's attribution window."""

    attribution_windows: list[str]
    sources: list[str]
    mixed_windows: bool
    note: str | None = None


class AttributionGroup(Out):
    attribution_window: str
    source: str
    platforms: list[str]
    conversions: Decimal
    revenue: Decimal


class Overview(Out):
    spend: MetricValue
    impressions: MetricValue
    clicks: MetricValue
    conversions: AttributedValue
    revenue: AttributedValue
    ctr: MetricValue = Field(description="clicks / impressions x 100 (percent).")
    cpc: MetricValue = Field(description="spend / clicks.")
    cpm: MetricValue = Field(description="spend / impressions x 1000.")
    cpa: MetricValue = Field(description="spend / conversions.")
    roas: MetricValue = Field(description="revenue / spend.")
    by_attribution: list[AttributionGroup]


class TrendPoint(Out):
    date: dt.date
    spend: Decimal
    impressions: int
    clicks: int
    conversions: Decimal
    revenue: Decimal


class PlatformSeries(Out):
    platform: str
    time_zones: list[str] = Field(description="The platform's own day boundary for these rows.")
    points: list[TrendPoint]


class PerformanceTrends(Out):
    granularity: Literal["day"] = "day"
    day_boundary: str
    series: list[PlatformSeries]
    totals: list[TrendPoint]


class PlatformRow(Out):
    platform: str
    spend: Decimal
    impressions: int
    clicks: int
    conversions: Decimal
    revenue: Decimal
    share_of_spend_pct: Decimal | None
    ctr: Decimal | None
    cpc: Decimal | None
    cpm: Decimal | None
    cpa: Decimal | None
    roas: Decimal | None
    attribution_windows: list[str]
    sources: list[str]
    time_zones: list[str]
    data_as_of: dt.datetime | None
    data_through: dt.date | None


class TopCampaign(Out):
    id: uuid.UUID
    name: str
    platform: str
    client_id: uuid.UUID
    spend: Decimal
    impressions: int
    clicks: int
    conversions: Decimal
    revenue: Decimal
    roas: Decimal | None
    cpa: Decimal | None
    attribution_windows: list[str]


class PacingBand(Out):
    tolerance_pct: Decimal
    low_pct: Decimal
    high_pct: Decimal


class ClientPacing(Out):
    client_id: uuid.UUID
    client_name: str
    currency: str
    time_zone: str
    month: str
    today: dt.date
    monthly_budget: Decimal
    days_in_month: int
    elapsed_days: Decimal
    month_to_date_spend: Decimal
    expected_to_date: Decimal
    pace_pct: Decimal | None
    projected_month_end: Decimal | None
    projected_pct_of_budget: Decimal | None
    band: PacingBand
    status: PaceStatus


class Pacing(Out):
    method: str
    clients: list[ClientPacing]


class ConnectionFreshness(Out):
    connection_id: uuid.UUID
    client_id: uuid.UUID
    platform: str
    account_id: str
    name: str
    status: str
    broken_reason: str | None
    data_as_of: dt.datetime | None
    data_through: dt.date | None
    last_sync_at: dt.datetime | None
    covers_period: bool


class DataFreshness(Out):
    connections: list[ConnectionFreshness]
    complete: bool
    notes: list[str]


class Period(Out):
    start: dt.date
    end: dt.date
    days: int
    label: str
    time_zone: str
    time_zone_basis: str
    today: dt.date


class ComparisonPeriod(Out):
    start: dt.date
    end: dt.date
    days: int
    compare: Compare


class RateUsedOut(Out):
    currency: str
    rate_date: dt.date
    per_eur: Decimal


class Unconverted(Out):
    currency: str
    rows: int
    spend: Decimal
    revenue: Decimal
    reason: str


class FxInfo(Out):
    source: str | None
    rule: str
    rates_used: list[RateUsedOut]
    stale: bool
    unconverted: list[Unconverted]
    notes: list[str]


class ClientRef(Out):
    id: uuid.UUID
    name: str
    currency: str
    reporting_timezone: str


class Dashboard(Out):
    clients: list[ClientRef]
    overview: Overview
    performance_trends: PerformanceTrends
    platform_breakdown: list[PlatformRow]
    top_campaigns: list[TopCampaign]
    pacing: Pacing
    data_freshness: DataFreshness
    period: Period
    comparison_period: ComparisonPeriod | None
    currency: str
    fx: FxInfo
    methodology: list[str]
