"""Campaigns and their daily metrics: what the list, detail, manual-create and import endpoints take and give.

Outputs use the product's vocabulary (``spend``, ``revenue``); storage keeps the platforms' (``cost``,
``conversion_value``). Every money figure is in the campaign's native currency and every conversion figure is
shown with the attribution window(s) and source(s) it was counted under, so numbers can be reconciled with the
platform UI or the imported file they came from.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator, model_validator

from strategist.domain.clients import known_timezones
from strategist.domain.metrics import BudgetType, CampaignStatus
from strategist.domain.money import ACTIVE_CURRENCIES
from strategist.domain.platforms import Platform
from strategist.http.schemas.common import Out, PageQuery, Strict

#: First characters that make a spreadsheet treat a cell as a formula (OWASP "CSV injection"), plus the tab and
#: carriage return that some spreadsheet versions skip before looking for one.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
EXTERNAL_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$")
#: How far a detail request may reach: three years of daily rows.
MAX_RANGE_DAYS = 3 * 366


def unsafe_text_reason(value: str) -> str | None:
    """Why a free-text value must not be stored, or None.

    Stored text ends up in CSV/XLSX exports and reports opened in spreadsheets. A value starting with a formula
    character is rejected rather than silently prefixed with an apostrophe: altering it would change identities
    (a breakdown is part of the metrics key) and what the user sees no longer matches their source.
    """
    if value.startswith(FORMULA_PREFIXES):
        return (
            f"must not start with {value[0]!r}: spreadsheets would run it as a formula (CSV injection); "
            "remove the leading character"
        )
    if _CONTROL.search(value):
        return "must not contain control characters (tabs, line breaks)"
    return None


def _safe_text(value: str) -> str:
    reason = unsafe_text_reason(value)
    if reason:
        raise ValueError(reason)
    return value


SafeText = Annotated[str, AfterValidator(_safe_text)]


def check_currency(value: str) -> str:
    value = value.strip().upper()
    if value not in ACTIVE_CURRENCIES:
        raise ValueError(f"'{value}' is not an ISO 4217 currency code")
    return value


def check_timezone(value: str) -> str:
    if value not in known_timezones():
        raise ValueError(f"'{value}' is not an IANA time zone (e.g. 'Europe/London')")
    return value


# -- requests -----------------------------------------------------------------------------------------------
class CampaignListQuery(PageQuery):
    client_id: uuid.UUID | None = None
    platform: Platform | None = None
    status: CampaignStatus | None = None
    q: str | None = Field(None, max_length=100, description="Case-insensitive substring of the name.")


class CampaignGetQuery(Strict):
    start: dt.date | None = Field(None, description="First day (campaign-local), default 29 days before end.")
    end: dt.date | None = Field(
        None, description="Last day (campaign-local), default today in the campaign's zone."
    )
    include_breakdowns: bool = Field(
        False, description="Also list per-breakdown rows; period totals always use campaign-total rows only."
    )
    tenant_id: uuid.UUID | None = Field(
        None, description="Accepted for compatibility; must be your own tenant."
    )

    @model_validator(mode="after")
    def _ordered(self) -> CampaignGetQuery:
        if self.start and self.end:
            if self.start > self.end:
                raise ValueError("start must not be after end")
            if (self.end - self.start).days + 1 > MAX_RANGE_DAYS:
                raise ValueError(f"the range may span at most {MAX_RANGE_DAYS} days (3 years)")
        return self


class BudgetIn(Strict):
    amount: Decimal = Field(gt=0, max_digits=18, decimal_places=6)
    type: BudgetType = BudgetType.DAILY


class CampaignCreate(Strict):
    client_id: uuid.UUID
    platform: Platform
    name: Annotated[SafeText, Field(min_length=1, max_length=300)]
    external_id: str | None = Field(
        None,
        max_length=64,
        description="The campaign's id where it runs (e.g. the e-mail tool's). Generated when omitted.",
    )
    objective: Annotated[SafeText, Field(min_length=1, max_length=100)] | None = None
    status: CampaignStatus = CampaignStatus.ACTIVE
    budget: BudgetIn | None = None
    currency: str | None = Field(
        None, min_length=3, max_length=3, description="Default: the client's currency."
    )
    time_zone: str | None = Field(
        None, max_length=64, description="Default: the client's reporting time zone."
    )
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    tenant_id: uuid.UUID | None = Field(
        None, description="Accepted for compatibility; must be your own tenant."
    )

    @field_validator("external_id")
    @classmethod
    def _external_id(cls, value: str | None) -> str | None:
        if value is not None and not EXTERNAL_ID_RE.match(value):
            raise ValueError(
                "1-64 characters: letters, digits and . _ : / -, starting with a letter or digit"
            )
        return value

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str | None) -> str | None:
        return None if value is None else check_currency(value)

    @field_validator("time_zone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return None if value is None else check_timezone(value)

    @model_validator(mode="after")
    def _dates(self) -> CampaignCreate:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError("end_date must not be before start_date")
        return self


class ImportQuery(Strict):
    source: Annotated[SafeText, Field(min_length=1, max_length=200)] | None = Field(
        None, description="Source label for rows without their own (default 'import:csv' or 'import:json')."
    )
    attribution_window: Annotated[SafeText, Field(min_length=1, max_length=40)] | None = Field(
        None, description="Attribution window for rows without their own (default 'imported')."
    )
    tenant_id: uuid.UUID | None = Field(
        None, description="Accepted for compatibility; must be your own tenant."
    )


# -- responses ----------------------------------------------------------------------------------------------
class BudgetOut(Out):
    amount: Decimal
    type: str | None
    currency: str


class Totals(Out):
    """Sums over campaign-total rows (breakdown '') in native currency; ratios are computed from the sums."""

    start: dt.date
    end: dt.date
    currency: str
    days_with_data: int = 0
    spend: Decimal = Decimal(0)
    impressions: int = 0
    clicks: int = 0
    conversions: Decimal = Decimal(0)
    revenue: Decimal = Decimal(0)
    video_views: int | None = None
    ctr: Decimal | None = Field(None, description="clicks / impressions")
    cpc: Decimal | None = Field(None, description="spend / clicks")
    cpa: Decimal | None = Field(None, description="spend / conversions")
    roas: Decimal | None = Field(None, description="revenue / spend")
    attribution_windows: list[str] = Field(
        default_factory=list, description="Windows the summed conversions were counted under."
    )
    sources: list[str] = Field(default_factory=list, description="Where the summed rows came from.")
    data_as_of: dt.datetime | None = Field(None, description="Latest synced_at among the summed rows.")
    excluded_currencies: list[str] = Field(
        default_factory=list,
        description="Rows in another currency than the campaign's are left out, never summed without FX.",
    )


class CampaignOut(Out):
    id: uuid.UUID
    client_id: uuid.UUID
    connection_id: uuid.UUID | None
    platform: Platform
    external_id: str
    name: str
    status: str
    raw_status: str | None
    objective: str | None
    budget: BudgetOut | None
    currency: str
    time_zone: str | None
    start_date: dt.date | None
    end_date: dt.date | None
    last_synced_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    totals: Totals = Field(description="The last 30 days up to today in the campaign's time zone.")


class MetricDayOut(Out):
    date: dt.date
    breakdown: str
    currency: str
    spend: Decimal
    impressions: int
    clicks: int
    conversions: Decimal
    revenue: Decimal
    video_views: int | None
    reach: int | None = Field(description="Not additive: never summed across days or breakdowns.")
    time_zone: str
    attribution_window: str
    source: str
    synced_at: dt.datetime


class MetricsPeriod(Out):
    start: dt.date
    end: dt.date
    time_zone: str = Field(description="The zone whose calendar days the rows are in.")
    include_breakdowns: bool
    rows: list[MetricDayOut]
    totals: Totals


class CampaignDetailOut(CampaignOut):
    metrics: MetricsPeriod


class ImportResultOut(Out):
    campaign_id: uuid.UUID
    format: str
    rows_received: int
    rows_written: int
    breakdown_rows: int = Field(description="Rows with a breakdown; not part of the totals.")
    start: dt.date
    end: dt.date
    totals: Totals = Field(description="Over the file's campaign-total rows (breakdown '').")
