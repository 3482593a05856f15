"""Budget optimization over a client's running campaigns or platforms: the request and the proposal it returns.

Amounts in the request and the change list are over ``period_days`` (default 30) in the client's currency."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field

from strategist.http.schemas.common import Out, PageQuery, Strict

Mode = Literal["max_outcome", "target_roas", "target_cpa", "min_budget_for_target"]


class Bound(Strict):
    min: Decimal | None = Field(None, ge=0)
    max: Decimal | None = Field(None, ge=0)


class Ratio(Strict):
    """Keep ``numerator``'s spend between ``min`` and ``max`` times ``denominator``'s (items as in ``bounds``).

    The allocator ties two items by one exact ratio (it merges them into one unit with a combined curve), so a
    range is solved as: the unconstrained optimum when its ratio already lies in the range, else the optimum
    with the ratio fixed at the nearer end (for concave curves the best ratio-constrained split sits on the
    boundary the free optimum violates). ``min == max`` fixes the ratio."""

    numerator: str
    denominator: str
    min: Decimal | None = Field(None, gt=0)
    max: Decimal | None = Field(None, gt=0)


class BudgetOptimize(Strict):
    tenant_id: uuid.UUID | None = Field(
        None, description="Accepted for compatibility; must be your own tenant."
    )
    client_id: uuid.UUID
    mode: Mode = "max_outcome"
    total_budget: Decimal | None = Field(
        None, gt=0, description="Over the period. Required for max_outcome; a cap for the target modes."
    )
    target: Decimal | None = Field(
        None,
        gt=0,
        description="target_roas: the ROAS; target_cpa: the CPA; min_budget_for_target: the outcome over the period.",
    )
    outcome: Literal["revenue", "conversions"] = Field(
        "revenue", description="What max_outcome and min_budget_for_target measure."
    )
    period_days: int = Field(30, ge=1, le=365)
    level: Literal["platform", "campaign"] = "platform"
    bounds: dict[str, Bound] = Field(
        default_factory=dict,
        description="Per item (platform name or campaign id) {min, max} over the period.",
    )
    locked: dict[str, Decimal | None] = Field(
        default_factory=dict,
        description="Items held fixed: an amount over the period, or null for the current rate.",
    )
    ratios: list[Ratio] = Field(
        default_factory=list,
        max_length=10,
        description="Spend ratio ranges between two items, e.g. google_ads at 0.5-2x meta_ads.",
    )


class BudgetListQuery(PageQuery):
    client_id: uuid.UUID | None = None


class ChangeItem(Out):
    item: str
    name: str
    platform: str
    current: Decimal
    proposed: Decimal
    delta: Decimal
    delta_pct: float | None
    marginal_roas: float
    locked: bool
    basis: str


class BudgetOptimizationOut(Out):
    id: uuid.UUID
    client_id: uuid.UUID
    mode: str
    level: str
    status: str
    currency: str
    period_days: int
    current: dict[str, Any]
    proposed: dict[str, Any]
    changes: list[ChangeItem]
    marginal_roas: dict[str, float]
    uplift: dict[str, Any]
    assumptions: dict[str, Any]
    narrative: dict[str, Any]
    apply: str
    created_at: dt.datetime


class BudgetOptimizationSummary(Out):
    id: uuid.UUID
    client_id: uuid.UUID
    mode: str
    status: str
    currency: str
    total_budget: Decimal | None
    created_at: dt.datetime
