"""A/B experiments: the design request, the stop decision, and what tracking reports.

Each variant is a slice of synced traffic: a campaign (breakdown '' = its totals) or one breakdown of it, so a
test split inside one campaign (ad variants reported as breakdowns) and a test across campaigns read the same way.
The first variant is the control; every other variant is compared with it."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field, field_validator

from strategist.http.schemas.common import Out, PageQuery, Strict

KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class ExperimentMetric(StrEnum):
    CONVERSION_RATE = "conversion_rate"
    CTR = "ctr"
    CPA = "cpa"
    ROAS = "roas"
    REVENUE_PER_CLICK = "revenue_per_click"


class ExperimentStatus(StrEnum):
    DRAFT = "draft"
    RUNNING = "running"
    STOPPED = "stopped"
    SHIPPED = "shipped"


class VariantIn(Strict):
    key: str = Field(description="Short id: lower-case letters, digits, '-' or '_' (at most 40).")
    name: str = Field(min_length=1, max_length=200)
    campaign_id: uuid.UUID = Field(
        description="The campaign whose synced metrics carry this variant's traffic."
    )
    breakdown: str = Field(
        "", max_length=100, description="A breakdown of that campaign ('' = the campaign's totals)."
    )

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        if not KEY_RE.match(value):
            raise ValueError("must be 1-40 of a-z, 0-9, '-', '_' and start with a letter or digit")
        return value


class ExperimentCreate(Strict):
    tenant_id: uuid.UUID | None = Field(
        None, description="Accepted for compatibility; must be your own tenant."
    )
    client_id: uuid.UUID
    name: str = Field(min_length=1, max_length=200)
    hypothesis: str | None = Field(None, max_length=2000)
    metric: ExperimentMetric
    variants: list[VariantIn] = Field(
        min_length=2, max_length=10, description="The first is the control; keys must be unique."
    )
    mde: float = Field(
        gt=0, le=1, description="Minimum detectable effect, relative to the baseline (0.1 = a 10 % lift)."
    )
    alpha: float = Field(0.05, ge=0.001, le=0.2, description="Two-sided false-positive rate.")
    power: float = Field(0.8, ge=0.5, le=0.99, description="Chance of detecting a true effect of size mde.")
    status: Literal["draft", "running"] = Field(
        "running", description="running starts counting traffic at start_date; draft only records the design."
    )
    start_date: dt.date | None = Field(
        None,
        description="First day whose metrics count (running only; default today, UTC; not in the future).",
    )
    baseline_days: int = Field(
        28, ge=7, le=365, description="Days before the start whose metrics give the baseline and the traffic."
    )
    baseline_rate: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="conversion_rate/ctr only: the baseline to plan with when the variants have no history.",
    )

    @field_validator("variants")
    @classmethod
    def _unique(cls, variants: list[VariantIn]) -> list[VariantIn]:
        keys = [v.key for v in variants]
        dup = sorted({k for k in keys if keys.count(k) > 1})
        if dup:
            raise ValueError(f"variant keys must be unique; repeated: {', '.join(dup)}")
        slices = [(v.campaign_id, v.breakdown) for v in variants]
        if len(set(slices)) != len(slices):
            raise ValueError(
                "two variants read the same campaign and breakdown: their traffic would be counted twice"
            )
        return variants


class ExperimentListQuery(PageQuery):
    client_id: uuid.UUID | None = None
    status: ExperimentStatus | None = None


class ExperimentStop(Strict):
    outcome: Literal["ship", "stop"] = Field(
        description="ship: roll out `winner` (status shipped); stop: end the test without shipping a variant."
    )
    winner: str | None = Field(None, description="The variant key to ship (required for ship).")
    reason: str = Field(min_length=1, max_length=2000)


class VariantOut(Out):
    key: str
    name: str
    campaign_id: uuid.UUID
    breakdown: str
    platform: str | None = None


class ExperimentOut(Out):
    id: uuid.UUID
    client_id: uuid.UUID
    campaign_id: uuid.UUID | None
    name: str
    hypothesis: str | None
    platform: str
    metric: str
    variants: list[VariantOut]
    mde: float
    alpha: float
    power: float
    required_sample_size_per_variant: int | None
    expected_duration_days: int | None
    design: dict[str, Any]
    status: str
    started_at: dt.datetime | None
    stopped_at: dt.datetime | None
    decision: dict[str, Any] | None
    created_by: uuid.UUID | None
    created_at: dt.datetime
    updated_at: dt.datetime
    results: dict[str, Any] | None = Field(
        None,
        description="Tracking (GET one only): per-variant figures, effects, the sequential test, advice.",
    )
