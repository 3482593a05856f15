"""Alert rules and alerts: request bodies, list filters and the shapes returned.

A rule's ``params`` depend on its ``kind`` and are validated by the model of that kind (the error names the field
as ``params.<name>``). Money in pacing targets is in the client's currency."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from strategist.domain.platforms import Platform
from strategist.http.schemas.common import EMAIL_RE, Out, PageQuery, Strict


class RuleKind(StrEnum):
    THRESHOLD = "threshold"
    ANOMALY = "anomaly"
    PACING = "pacing"
    TRACKING_STOPPED = "tracking_stopped"
    CONNECTION_BROKEN = "connection_broken"


class Scope(StrEnum):
    CLIENT = "client"
    CAMPAIGN = "campaign"
    PLATFORM = "platform"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class Channel(StrEnum):
    IN_APP = "in_app"
    EMAIL = "email"
    WEBHOOK = "webhook"
    SMS = "sms"


#: additive sums and the ratios computed from them (ratios of the window's sums, never averages of days)
THRESHOLD_METRICS = ("cost", "impressions", "clicks", "conversions", "revenue",
                     "ctr", "cpc", "cpm", "cvr", "cpa", "roas")  # fmt: skip
ANOMALY_METRICS = ("cost", "impressions", "clicks", "conversions", "revenue")
#: sensitivity -> robust z-score threshold (see bench/alerts_false_alarms.py for the false-alarm rates)
SENSITIVITY = {"low": 6.0, "medium": 5.0, "high": 4.0}


class ThresholdParams(Strict):
    metric: Literal["cost", "impressions", "clicks", "conversions", "revenue",
                    "ctr", "cpc", "cpm", "cvr", "cpa", "roas"]  # fmt: skip
    comparator: Literal["gt", "gte", "lt", "lte"]
    value: Decimal = Field(ge=0, max_digits=18, decimal_places=6)
    window_days: int = Field(7, ge=1, le=90, description="The last N complete days (in the client's zone).")
    min_denominator: Decimal = Field(
        Decimal(0), ge=0, description="Ratios only: skip while the window's denominator is below this."
    )


class AnomalyParams(Strict):
    metrics: list[Literal["cost", "impressions", "clicks", "conversions", "revenue"]] = Field(
        default_factory=lambda: ["cost", "conversions"], min_length=1, max_length=5
    )
    sensitivity: Literal["low", "medium", "high"] = "medium"
    direction: Literal["both", "up", "down"] = "both"

    @field_validator("metrics")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("metrics must not repeat")
        return v


class PacingParams(Strict):
    monthly_target: Decimal | None = Field(
        None,
        gt=0,
        max_digits=14,
        decimal_places=2,
        description="In the client's currency. Default: the client's monthly_budget (client or platform scope) or "
        "the campaign's budget as a monthly amount (campaign scope).",
    )
    band_start_pct: float = Field(15.0, gt=0, le=100, description="Tolerance on the 1st of the month.")
    band_end_pct: float = Field(5.0, gt=0, le=100, description="Tolerance on the last day of the month.")
    curve: Literal["linear", "weekday_profile"] = "weekday_profile"
    alert_on: Literal["both", "under", "over"] = "both"

    @model_validator(mode="after")
    def _narrows(self) -> PacingParams:
        if self.band_end_pct > self.band_start_pct:
            raise ValueError("band_end_pct must not exceed band_start_pct: the band narrows toward month end")
        return self


class TrackingStoppedParams(Strict):
    days: int = Field(2, ge=1, le=14, description="Consecutive complete days with clicks but no conversions.")
    min_clicks_per_day: int = Field(20, ge=1, le=1_000_000)
    baseline_days: int = Field(28, ge=7, le=90, description="Days before those, which must have been steady.")
    min_baseline_conversion_share: float = Field(
        0.8,
        gt=0,
        le=1,
        description="Share of baseline days with conversions for tracking to count as steady.",
    )


class ConnectionBrokenParams(Strict):
    stale_after_hours: int | None = Field(
        None, ge=1, le=24 * 30, description="Also fire when a live connection has not synced for this long."
    )


PARAMS_MODEL: dict[RuleKind, type[Strict]] = {
    RuleKind.THRESHOLD: ThresholdParams,
    RuleKind.ANOMALY: AnomalyParams,
    RuleKind.PACING: PacingParams,
    RuleKind.TRACKING_STOPPED: TrackingStoppedParams,
    RuleKind.CONNECTION_BROKEN: ConnectionBrokenParams,
}

PHONE_RE = re.compile(r"^\+[1-9]\d{6,14}$")
URL_RE = re.compile(r"^https://[^\s/$.?#][^\s]{2,1990}$")


def _recipient(value: str) -> str:
    value = value.strip()
    if EMAIL_RE.match(value) and not any(c in value for c in "\r\n,;<>\"'"):
        return value.lower()
    if PHONE_RE.match(value) or URL_RE.match(value):
        return value
    raise ValueError(f"{value[:80]!r} is neither an e-mail address, an E.164 phone number nor an https URL")


class _RuleFields(Strict):
    channels: list[Channel] | None = Field(
        None, max_length=4, description="Default ['in_app', 'email']. Each notifies once per transition."
    )
    recipients: list[str] | None = Field(
        None,
        max_length=50,
        description="E-mail addresses, E.164 numbers (sms) or https URLs (webhook). Empty: the client's default "
        "recipients for alerts.",
    )

    @field_validator("channels")
    @classmethod
    def _channels(cls, v: list[Channel] | None) -> list[Channel] | None:
        if v is not None and len(set(v)) != len(v):
            raise ValueError("channels must not repeat")
        return v

    @field_validator("recipients")
    @classmethod
    def _recipients(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else list(dict.fromkeys(_recipient(r) for r in v))


class AlertRuleCreate(_RuleFields):
    tenant_id: uuid.UUID | None = Field(
        None, description="Accepted for compatibility; must be your own tenant."
    )
    client_id: uuid.UUID
    name: str = Field(min_length=1, max_length=200)
    kind: RuleKind
    scope: Scope = Scope.CLIENT
    campaign_id: uuid.UUID | None = Field(
        None, description="Required for scope campaign; the client's campaign."
    )
    platform: Platform | None = Field(None, description="Required for scope platform.")
    params: dict[str, Any] = Field(
        default_factory=dict, description="Depends on kind; see the params models."
    )
    severity: Severity = Severity.WARNING
    enabled: bool = True

    @model_validator(mode="after")
    def _scope(self) -> AlertRuleCreate:
        if (self.scope == Scope.CAMPAIGN) != (self.campaign_id is not None):
            raise ValueError("campaign_id is required for scope campaign and only allowed with it")
        if (self.scope == Scope.PLATFORM) != (self.platform is not None):
            raise ValueError("platform is required for scope platform and only allowed with it")
        return self


class AlertRuleUpdate(_RuleFields):
    name: str | None = Field(None, min_length=1, max_length=200)
    params: dict[str, Any] | None = Field(
        None, description="Replaces the params (validated for the rule's kind)."
    )
    severity: Severity | None = None
    enabled: bool | None = None


class AlertRuleDefaults(Strict):
    client_id: uuid.UUID


class AlertRuleListQuery(PageQuery):
    client_id: uuid.UUID | None = None
    kind: RuleKind | None = None
    enabled: bool | None = None


class AlertRuleOut(Out):
    id: uuid.UUID
    client_id: uuid.UUID
    name: str
    kind: str
    scope: str
    campaign_id: uuid.UUID | None
    platform: str | None
    params: dict[str, Any]
    channels: list[str]
    recipients: list[str]
    severity: str
    enabled: bool
    is_default: bool
    created_by: uuid.UUID | None
    created_at: dt.datetime
    updated_at: dt.datetime


class AlertState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"


class AlertListQuery(PageQuery):
    client_id: uuid.UUID | None = None
    state: AlertState | None = None
    severity: Severity | None = None
    kind: RuleKind | None = None
    rule_id: uuid.UUID | None = None


class AlertSnooze(Strict):
    until: dt.datetime = Field(description="When the snooze ends (with a time zone); at most 90 days ahead.")
    note: str | None = Field(None, max_length=1000)


class AlertNote(Strict):
    note: str | None = Field(None, max_length=1000)


class AlertOut(Out):
    id: uuid.UUID
    client_id: uuid.UUID
    rule_id: uuid.UUID
    object_key: str
    campaign_id: uuid.UUID | None
    connection_id: uuid.UUID | None
    kind: str
    severity: str
    state: str
    title: str
    message: str
    evidence: dict[str, Any] = Field(
        description="Why: observed value, expected value and band, window, data as of, method."
    )
    firing: bool
    fire_count: int
    transitions: int
    first_fired_at: dt.datetime
    last_fired_at: dt.datetime
    last_evaluated_at: dt.datetime
    acknowledged_at: dt.datetime | None
    acknowledged_by: str | None
    snoozed_until: dt.datetime | None
    resolved_at: dt.datetime | None
    resolved_by: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class FindingOut(Out):
    object_key: str
    status: Literal["firing", "clear", "unknown"]
    title: str | None
    message: str | None
    live_alert_id: uuid.UUID | None = Field(None, description="The live alert an evaluation would update.")
    evidence: dict[str, Any]


class AlertRulePreviewOut(Out):
    rule_id: uuid.UUID
    evaluated_at: dt.datetime
    client_today: dt.date = Field(
        description="The client's local date; the latest day judged is the day before."
    )
    data_as_of: dt.datetime | None
    findings: list[FindingOut]
