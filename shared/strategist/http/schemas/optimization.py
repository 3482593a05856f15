"""Campaign optimization (issue 6, optimize slice): the brief's POST /api/v1/campaign/optimize body, the
recommendations it returns, apply / approve / undo, and automation rules (/api/v1/rules)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field, model_validator

from strategist.http.schemas.common import Out, PageQuery, Strict


class OptimizationType(StrEnum):
    PERFORMANCE = "performance"
    BUDGET = "budget"
    BIDDING = "bidding"
    CREATIVE = "creative"
    AUDIENCE = "audience"


class Priority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class OptimizeRequest(Strict):
    """The brief's body, exactly: campaign_id, optimization_type, implementation_priority."""

    tenant_id: uuid.UUID | None = Field(
        None, description="Accepted for compatibility; must be your own tenant."
    )
    campaign_id: uuid.UUID
    optimization_type: OptimizationType = OptimizationType.PERFORMANCE
    implementation_priority: Priority = Field(
        Priority.MEDIUM,
        description="How readily to act: the confidence a recommendation needs is 0.6 (high), 0.7 (medium) or "
        "0.8 (low). Every candidate below the bar is listed under `held_back` with its confidence.",
    )


class RecommendationOut(Out):
    id: uuid.UUID
    optimization_id: uuid.UUID
    client_id: uuid.UUID
    campaign_id: uuid.UUID | None
    rule_id: uuid.UUID | None
    kind: str = Field(
        description="budget_shift | scale_budget | pause | enable | bid_target | creative_fatigue | "
        "audience_exclusion | pacing_fix | rule_action | budget_plan"
    )
    title: str
    rationale: str
    priority: Priority
    confidence: Decimal
    evidence: dict[str, Any] = Field(description="The metric snapshot and the window it rests on.")
    expected_impact: dict[str, Any] = Field(description="p10/p50/p90 of the expected change, and its basis.")
    changes: list[dict[str, Any]] = Field(
        description="The exact platform changes (empty: a manual change, explained in the rationale)."
    )
    dry_run: bool = Field(description="Produced by a dry-run rule: shown, never applied by automation.")
    status: str
    requires_approval: list[str] = Field(description="Why an owner/admin must approve (empty: no approval).")
    requested_by: str | None
    requested_at: dt.datetime | None
    approved_by: str | None
    approved_at: dt.datetime | None
    applied_by: str | None
    applied_at: dt.datetime | None
    undone_by: str | None
    undone_at: dt.datetime | None
    result: dict[str, Any]
    created_at: dt.datetime


class OptimizationOut(Out):
    id: uuid.UUID
    client_id: uuid.UUID
    campaign_id: uuid.UUID | None
    optimization_type: OptimizationType
    implementation_priority: Priority
    source: str
    source_id: uuid.UUID | None
    window: dict[str, Any]
    recommendations: list[RecommendationOut]
    missing_data: list[dict[str, Any]] = Field(description="What each gated check needs and does not have.")
    held_back: list[dict[str, Any]]
    guardrails: dict[str, Any]
    methodology: list[str]
    created_by: str | None
    created_at: dt.datetime


class OptimizationListQuery(PageQuery):
    client_id: uuid.UUID | None = None
    campaign_id: uuid.UUID | None = None


class RecommendationStatus(StrEnum):
    PROPOSED = "proposed"
    PENDING_APPROVAL = "pending_approval"
    APPLIED = "applied"
    UNDONE = "undone"
    FAILED = "failed"
    CONFLICT = "conflict"
    SUPERSEDED = "superseded"


class RecommendationListQuery(PageQuery):
    client_id: uuid.UUID | None = None
    campaign_id: uuid.UUID | None = None
    optimization_id: uuid.UUID | None = None
    status: RecommendationStatus | None = None


class ApplyRequest(Strict):
    dry_run: bool = Field(
        True,
        description="true (default): validate with the platform (validate-only where it has one) and show the "
        "exact request, change nothing. false: apply through the connector.",
    )
    force: bool = Field(
        False, description="Apply even if the platform value changed since the recommendation was made."
    )


class ApplyOut(Out):
    recommendation: RecommendationOut
    dry_run: bool
    outcome: Literal["validated", "applied", "pending_approval", "undone"]
    requests: list[dict[str, Any]] = Field(
        description="Per change: the platform, the live value before, the value written, the exact request sent "
        "(or, for platforms without a validate-only mode, built and checked but not sent) and the response."
    )
    blocked_by: list[str] = Field(
        description="Dry run: the guards a real apply would fail now (cap, cooldown, ...)."
    )
    requires_approval: list[str] = Field(description="Why an owner/admin must approve before it is applied.")


class UndoRequest(Strict):
    force: bool = Field(
        False, description="Restore even if the platform value changed since the change was applied."
    )


class ApproveRequest(Strict):
    note: str | None = Field(None, max_length=1000)


# -- automation rules -------------------------------------------------------------------------------------
RuleMetric = Literal["cpa", "roas", "ctr", "cvr", "cpc", "cpm", "spend", "conversions", "revenue"]
RuleOperator = Literal[">", ">=", "<", "<="]
RuleAction = Literal["pause", "enable", "scale_budget", "set_budget", "notify"]


class RuleIn(Strict):
    tenant_id: uuid.UUID | None = Field(
        None, description="Accepted for compatibility; must be your own tenant."
    )
    name: str = Field(min_length=1, max_length=200)
    client_id: uuid.UUID | None = Field(None, description="Scope: one client (null: every client).")
    campaign_ids: list[uuid.UUID] = Field(
        default_factory=list, max_length=500, description="Scope: these campaigns only (empty: all in scope)."
    )
    platform: str | None = Field(None, max_length=20, description="Scope: one platform (null: all).")
    metric: RuleMetric
    operator: RuleOperator
    threshold: Decimal = Field(ge=0, le=Decimal("1e12"))
    window_days: int = Field(
        7, ge=1, le=90, description="The condition is judged over the last N complete days."
    )
    min_conversions: Decimal = Field(
        Decimal(0),
        ge=0,
        le=Decimal("1e9"),
        description="Do nothing below this many conversions in the window.",
    )
    min_spend: Decimal = Field(Decimal(0), ge=0, le=Decimal("1e12"))
    action: RuleAction
    action_value: Decimal | None = Field(
        None,
        description="scale_budget: percent (e.g. -20 or 15), within the tenant's cap; set_budget: the daily "
        "amount in the campaign's currency. None for pause, enable and notify.",
    )
    schedule: Literal["daily", "weekly"] = "daily"
    mode: Literal["dry_run", "live"] = Field(
        "dry_run", description="dry_run (default): recommendations marked as such; live: applied by the job."
    )
    enabled: bool = True

    @model_validator(mode="after")
    def _action_value(self) -> RuleIn:
        if self.action in ("scale_budget", "set_budget") and self.action_value is None:
            raise ValueError(f"action_value is required for {self.action}")
        if (
            self.action == "scale_budget"
            and self.action_value is not None
            and (self.action_value == 0 or abs(self.action_value) > 100)
        ):
            raise ValueError("action_value for scale_budget is a percent between -100 and 100, not 0")
        if self.action == "set_budget" and self.action_value is not None and self.action_value <= 0:
            raise ValueError("action_value for set_budget must be a positive daily amount")
        if self.action in ("pause", "enable", "notify") and self.action_value is not None:
            raise ValueError(f"action_value must be empty for {self.action}")
        if self.metric in ("cpa", "roas", "cvr") and self.min_conversions == 0 and self.action != "notify":
            raise ValueError(
                f"a rule on {self.metric} that acts needs min_conversions > 0 (a minimum-data gate)"
            )
        return self


class RuleUpdate(Strict):
    name: str | None = Field(None, min_length=1, max_length=200)
    threshold: Decimal | None = Field(None, ge=0, le=Decimal("1e12"))
    window_days: int | None = Field(None, ge=1, le=90)
    min_conversions: Decimal | None = Field(None, ge=0, le=Decimal("1e9"))
    min_spend: Decimal | None = Field(None, ge=0, le=Decimal("1e12"))
    action_value: Decimal | None = None
    schedule: Literal["daily", "weekly"] | None = None
    mode: Literal["dry_run", "live"] | None = None
    enabled: bool | None = None


class RuleOut(Out):
    id: uuid.UUID
    name: str
    client_id: uuid.UUID | None
    campaign_ids: list[uuid.UUID]
    platform: str | None
    metric: str
    operator: str
    threshold: Decimal
    window_days: int
    min_conversions: Decimal
    min_spend: Decimal
    action: str
    action_value: Decimal | None
    schedule: str
    mode: str
    enabled: bool
    last_evaluated_at: dt.datetime | None
    created_by: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class RuleListQuery(PageQuery):
    client_id: uuid.UUID | None = None


class BudgetPlanRecommendationsRequest(Strict):
    """Turn a proposed budget optimization into recommendations that go through apply / approve / undo."""

    implementation_priority: Priority = Priority.MEDIUM
