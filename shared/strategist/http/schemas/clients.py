"""Clients of an agency."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from pydantic import Field, field_validator, model_validator

from strategist.domain.clients import LOWER_IS_BETTER, Industry, Kpi, known_timezones
from strategist.domain.money import ACTIVE_CURRENCIES
from strategist.http.schemas.common import Email, Name, Out, PageQuery, Strict
from strategist.http.schemas.identity import Branding


def _currency(value: str) -> str:
    value = value.upper()
    if value not in ACTIVE_CURRENCIES:
        raise ValueError(f"'{value}' is not an ISO 4217 currency code")
    return value


def _timezone(value: str) -> str:
    if value not in known_timezones():
        raise ValueError(f"'{value}' is not an IANA time zone (e.g. 'Europe/London')")
    return value


class _ClientFields(Strict):
    @field_validator("currency", check_fields=False)
    @classmethod
    def _check_currency(cls, value: str | None) -> str | None:
        return None if value is None else _currency(value)

    @field_validator("reporting_timezone", check_fields=False)
    @classmethod
    def _check_tz(cls, value: str | None) -> str | None:
        return None if value is None else _timezone(value)

    @field_validator("goals", check_fields=False)
    @classmethod
    def _check_goals(cls, value: dict[Kpi, float] | None) -> dict[Kpi, float] | None:
        for kpi, target in (value or {}).items():
            if target <= 0:
                raise ValueError(f"goal for {kpi.value} must be greater than 0")
        return value

    @field_validator("kpis", check_fields=False)
    @classmethod
    def _unique_kpis(cls, value: list[Kpi] | None) -> list[Kpi] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("KPIs must not repeat")
        return value


class ClientCreate(_ClientFields):
    name: Name
    industry: Industry = Industry.OTHER
    currency: str = Field("USD", min_length=3, max_length=3, description="ISO 4217 reporting currency.")
    reporting_timezone: str = Field("UTC", max_length=64, description="IANA zone used for every report.")
    kpis: list[Kpi] = Field(default_factory=lambda: [Kpi.CONVERSIONS, Kpi.CPA, Kpi.ROAS], max_length=15)
    goals: dict[Kpi, float] = Field(
        default_factory=dict,
        description="KPI -> target. Ceilings for cost KPIs (cpa, cpc, cpm, cpl), floors for the rest.",
    )
    monthly_budget: Decimal | None = Field(None, gt=0, max_digits=14, decimal_places=2)
    branding: Branding = Field(default_factory=Branding)
    contact_emails: list[Email] = Field(default_factory=list, max_length=20)
    tenant_id: uuid.UUID | None = Field(
        None, description="Accepted for compatibility; must be your own tenant."
    )

    @model_validator(mode="after")
    def _goals_are_kpis(self) -> ClientCreate:
        missing = [k.value for k in self.goals if k not in self.kpis]
        if missing:
            raise ValueError(f"goals set for KPIs not in kpis: {', '.join(missing)}")
        return self


class ClientUpdate(_ClientFields):
    name: Name | None = None
    industry: Industry | None = None
    currency: str | None = Field(None, min_length=3, max_length=3)
    reporting_timezone: str | None = Field(None, max_length=64)
    kpis: list[Kpi] | None = Field(None, max_length=15)
    goals: dict[Kpi, float] | None = None
    monthly_budget: Decimal | None = Field(None, gt=0, max_digits=14, decimal_places=2)
    branding: Branding | None = None
    contact_emails: list[Email] | None = Field(None, max_length=20)


class ClientOut(Out):
    id: uuid.UUID
    name: str
    industry: Industry
    currency: str
    reporting_timezone: str
    kpis: list[Kpi]
    goals: dict[str, Any]
    goal_direction: dict[str, str] = Field(default_factory=dict, description="'max' or 'min' per goal.")
    monthly_budget: Decimal | None
    branding: dict[str, Any]
    contact_emails: list[str]
    is_demo: bool
    created_at: dt.datetime
    updated_at: dt.datetime

    @model_validator(mode="after")
    def _directions(self) -> ClientOut:
        self.goal_direction = {
            k: ("min" if Kpi(k) in LOWER_IS_BETTER else "max")
            for k in self.goals
            if k in Kpi.__members__.values()
        }
        return self


class ClientListQuery(PageQuery):
    q: str | None = Field(None, max_length=100, description="Case-insensitive substring of the name.")
    industry: Industry | None = None
