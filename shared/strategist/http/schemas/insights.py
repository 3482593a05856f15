"""GET /api/v1/campaigns/{campaign_id}/insights: its query and the shape of ``insights``.

Sums read from the database stay Decimal (serialized as decimal strings); figures that come out of a model
(forecast quantiles, response curve, anomaly baselines, driver log-points) are floats and say what they rest on."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from strategist.http.schemas.analytics import MAX_SPAN_DAYS
from strategist.http.schemas.common import Out, Strict

InsightsRange = Literal["7d", "14d", "30d", "90d"]
InsightsCompare = Literal["previous_period", "previous_year"]


class InsightsQuery(Strict):
    """start/end are validated before date_range so that each error names the field that is wrong."""

    tenant_id: uuid.UUID | None = Field(
        None, description="Accepted for compatibility; must be your own tenant."
    )
    start: dt.date | None = Field(None, description="First day (ISO date), with end; not with date_range.")
    end: dt.date | None = Field(
        None,
        validate_default=True,
        description="Last day (ISO date, inclusive), with start; at most 3 years.",
    )
    date_range: InsightsRange | None = Field(
        None,
        validate_default=True,
        description="The N complete days ending yesterday in the campaign's time zone. Default 30d.",
    )
    compare: InsightsCompare = Field(
        "previous_period", description="Comparison period for trends and drivers."
    )

    @field_validator("end")
    @classmethod
    def _end(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        if "start" not in info.data:
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
    def _range(cls, value: InsightsRange | None, info: ValidationInfo) -> InsightsRange | None:
        if value is not None and (info.data.get("start") is not None or info.data.get("end") is not None):
            raise ValueError("give either date_range or start/end, not both")
        return value


# -- trends ------------------------------------------------------------------------------------------------------
class PeriodOut(Out):
    start: dt.date
    end: dt.date
    days: int
    label: str


class Ratios(Out):
    ctr: Decimal | None = Field(description="clicks / impressions x 100 (percent).")
    cpc: Decimal | None = Field(description="spend / clicks.")
    cpm: Decimal | None = Field(description="spend / impressions x 1000.")
    cvr: Decimal | None = Field(description="conversions / clicks x 100 (percent).")
    cpa: Decimal | None = Field(description="spend / conversions.")
    roas: Decimal | None = Field(description="revenue / spend.")


class DayPoint(Ratios):
    date: dt.date
    has_data: bool = Field(
        description="False when no campaign-total row exists for the day (shown as zeros)."
    )
    spend: Decimal
    impressions: int
    clicks: int
    conversions: Decimal
    revenue: Decimal


class PeriodTotals(Ratios):
    days_with_data: int
    spend: Decimal
    impressions: int
    clicks: int
    conversions: Decimal
    revenue: Decimal


class Delta(Out):
    metric: str
    current: Decimal | int | None
    previous: Decimal | int | None
    change: Decimal | int | None
    change_pct: Decimal | None = Field(
        description="(current - previous) / previous x 100; null if previous is 0."
    )


class Trends(Out):
    period: PeriodOut
    comparison_period: PeriodOut
    current: list[DayPoint]
    comparison: list[DayPoint]
    totals: PeriodTotals
    comparison_totals: PeriodTotals
    deltas: list[Delta]


# -- drivers -----------------------------------------------------------------------------------------------------
class DriverComponent(Out):
    name: str = Field(description="cpm, ctr, cvr, aov, mix (spend shifting between rows) or rate_unsplit.")
    log_points: float = Field(description="100 x this driver's part of ln(current / previous).")
    pct_points: float = Field(description="Log-points rescaled so that all drivers add up to change_pct.")
    share_pct: float | None = Field(description="Percent of the change this driver explains.")
    factor_went: str | None = Field(description="up/down/flat: the driver's own move within rows.")


class KpiDrivers(Out):
    kpi: str
    previous: float | None
    current: float | None
    change_pct: float | None
    log_points: float | None
    components: list[DriverComponent]
    summary: str
    reason: str | None = None


class Drivers(Out):
    basis: str
    breakdown_dimension: str | None
    segments: int
    kpis: list[KpiDrivers]
    method: str
    notes: list[str]


# -- anomalies ---------------------------------------------------------------------------------------------------
class AnomalyOut(Out):
    date: dt.date
    metric: str
    value: float
    expected: float
    band: list[float] = Field(description="[lower, upper] of the baseline band.")
    direction: str
    score: float = Field(description="Robust z-score on the log scale (|score| > threshold flags).")
    early_estimate: bool = Field(description="The day is recent and may still be restated by the platform.")


class Anomalies(Out):
    evaluated_from: dt.date
    evaluated_to: dt.date
    baseline_from: dt.date
    metrics: list[str]
    items: list[AnomalyOut]
    method: str


# -- forecast, pacing, response ------------------------------------------------------------------------------
class Quantiles(Out):
    p10: float | None
    p50: float | None
    p90: float | None


class ForecastMetric(Out):
    to_date: float
    remaining: Quantiles
    total: Quantiles


class Forecast(Out):
    available: bool
    reason: str | None = None
    currency: str
    horizon_start: dt.date | None = None
    horizon_end: dt.date | None = None
    horizon_days: int = 0
    flight_end_basis: str | None = None
    daily_spend_rate: float | None = None
    spend: ForecastMetric | None = None
    conversions: ForecastMetric | None = None
    revenue: ForecastMetric | None = None
    basis: str | None = None


class PacingBand(Out):
    tolerance_pct: Decimal
    low_pct: Decimal
    high_pct: Decimal


class Pacing(Out):
    status: Literal["on_track", "under", "over", "too_early", "no_budget"]
    reason: str | None = None
    currency: str
    month: str
    budget_type: str | None
    budget_amount: Decimal | None
    days_in_month: int
    elapsed_days: int
    active_days_elapsed: int
    month_to_date_spend: Decimal
    expected_to_date: Decimal | None
    pace_pct: Decimal | None
    projected_month_end: Decimal | None
    band: PacingBand | None
    method: str


class CurvePoint(Out):
    multiplier: float
    daily_spend: float
    p10: float
    p50: float
    p90: float


class ResponseCurve(Out):
    outcome: str = Field(description="revenue (marginal ROAS) or conversions (marginal CPA).")
    currency: str
    current_daily_spend: float
    points: list[CurvePoint]
    marginal_kind: Literal["marginal_roas", "marginal_cpa"]
    marginal: Quantiles
    average: float | None = Field(
        description="Outcome per unit of spend (ROAS) or spend per conversion at the rate."
    )
    elasticity: float = Field(
        description="Spend elasticity of conversions and revenue (below 1: diminishing returns)."
    )
    elasticity_of_impressions: float
    model_basis: str
    model_days: int
    data_through: dt.date | None
    notes: list[str]


class Experiments(Out):
    items: list[dict[str, Any]]
    note: str


class DataInfo(Out):
    currency: str
    time_zone: str = Field(description="The campaign's calendar (its platform zone, else the client's).")
    row_time_zones: list[str]
    attribution_windows: list[str]
    sources: list[str]
    data_as_of: dt.datetime | None
    data_through: dt.date | None
    connection_status: str | None
    excluded_currencies: list[str]
    today: dt.date
    methodology: list[str]


class Insights(Out):
    campaign_id: uuid.UUID
    campaign_name: str
    platform: str
    status: str
    trends: Trends
    drivers: Drivers
    anomalies: Anomalies
    forecast: Forecast
    pacing: Pacing
    response_curve: ResponseCurve | None
    experiments: Experiments
    data: DataInfo
