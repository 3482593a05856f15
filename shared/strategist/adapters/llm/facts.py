"""The facts a narrative is written around: one documented pydantic model per kind of narrative.

The facts are the *only* source of figures in a narrative. The offline writer formats them; a language model
receives them as JSON; the figure check (``guard.py``) accepts a figure in a model's text only if it is one of
these values (possibly rounded or formatted differently). So anything a narrative should be able to say with a
number -- a change between two splits, the share of the next budget step -- must be computed by the service and
put here, never left for a writer to work out.

Money is ``Decimal`` (as everywhere in the product); model outputs (forecast quantiles, ratios, shares) are floats.
Shares are fractions in [0, 1] (0.45 is "45%").
"""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from strategist.domain.money import normalize_currency

#: The kinds of narrative a writer can produce; each has a facts model and a versioned prompt file.
Kind = Literal["strategy", "budget_optimization"]
Basis = Literal["history", "benchmark", "mixed"]


def _basis(value: Any) -> Any:
    """The allocator labels prior-based curves "benchmark_priors"; the narrative calls them "benchmark"."""
    return "benchmark" if value == "benchmark_priors" else value


class _Facts(BaseModel):
    # Unknown keys are ignored rather than passed to a model: the schema below is the contract, and a figure the
    # service did not mean to publish must not reach a narrative by accident.
    model_config = ConfigDict(extra="ignore", frozen=True)


class Interval(_Facts):
    """A forecast quantile triple (10th, 50th, 90th percentile): one chance in ten below p10, one above p90."""

    p10: float
    p50: float
    p90: float

    @model_validator(mode="after")
    def _ordered(self) -> Interval:
        if not self.p10 <= self.p50 <= self.p90:
            raise ValueError(f"interval out of order: p10={self.p10}, p50={self.p50}, p90={self.p90}")
        return self


class PlatformAllocation(_Facts):
    """One platform's slice of the plan."""

    platform: str
    budget: Decimal = Field(ge=0)
    share: float = Field(ge=0, le=1)
    #: Where the platform's response curve came from: the client's own ``history`` or ``benchmark`` priors.
    basis: str = "benchmark"

    @field_validator("basis", mode="before")
    @classmethod
    def _known_basis(cls, value: Any) -> Any:
        return _basis(value)

    #: Return of the next unit of currency spent on this platform at the plan (revenue per unit of spend).
    marginal_roas: float | None = None


class StrategyForecast(_Facts):
    """Totals over the flight, each as p10/p50/p90."""

    conversions: Interval
    revenue: Interval
    roas: Interval
    cpa: Interval
    clicks: Interval | None = None
    impressions: Interval | None = None


class BudgetStep(_Facts):
    """What the next increment of budget would buy (e.g. another 10 % of the total)."""

    share_of_budget: float = Field(gt=0, le=1)
    amount: Decimal = Field(gt=0)
    best_platform: str
    revenue: Interval | None = None
    conversions: Interval | None = None


class TestFact(_Facts):
    """A test the plan proposes to run first (from the A/B test planner, with its computed sample size)."""

    __test__ = False  # not a pytest test class

    name: str
    platform: str | None = None
    metric: str | None = None
    sample_size_per_arm: int | None = Field(default=None, ge=1)
    duration_days: int | None = Field(default=None, ge=1)


class SimilarCampaignFact(_Facts):
    """A past strategy of the same tenant that informed the priors, with what it actually achieved."""

    name: str
    similarity: float = Field(ge=0, le=1)
    roas: float | None = None
    spend: Decimal | None = None


class StrategyFacts(_Facts):
    """Facts of a costed multi-platform plan (``kind="strategy"``)."""

    client_name: str
    campaign_name: str | None = None
    objective: str
    campaign_type: str | None = None
    budget: Decimal = Field(gt=0)
    currency: str
    duration_days: int = Field(ge=1)
    allocation: list[PlatformAllocation] = Field(min_length=1)
    forecast: StrategyForecast
    #: ``history`` when every platform's curve is fitted on the client's data, ``benchmark`` when none is,
    #: ``mixed`` otherwise.
    basis: Basis
    assumptions: list[str] = Field(default_factory=list)
    kpis: list[str] = Field(default_factory=list)
    next_step: BudgetStep | None = None
    first_test: TestFact | None = None
    similar_campaigns: list[SimilarCampaignFact] = Field(default_factory=list)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return normalize_currency(value)

    @field_validator("basis", mode="before")
    @classmethod
    def _known_basis(cls, value: Any) -> Any:
        return _basis(value)


class BudgetItem(_Facts):
    """One line of a budget reallocation: a platform or a campaign."""

    name: str
    current_budget: Decimal = Field(ge=0)
    proposed_budget: Decimal = Field(ge=0)
    #: proposed - current; filled in when not given, so a narrative can state it.
    change: Decimal | None = None
    current_share: float | None = Field(default=None, ge=0, le=1)
    proposed_share: float | None = Field(default=None, ge=0, le=1)
    #: Return of the next unit of currency at the proposed budget.
    marginal_roas: float | None = None
    locked: bool = False

    @model_validator(mode="before")
    @classmethod
    def _fill_change(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("change") is None:
            # A missing or bad budget is left for the field validators to report.
            with contextlib.suppress(KeyError, ArithmeticError, ValueError):
                change = Decimal(str(data["proposed_budget"])) - Decimal(str(data["current_budget"]))
                data = {**data, "change": change}
        return data


class BudgetFacts(_Facts):
    """Facts of a budget optimization (``kind="budget_optimization"``): current vs proposed split."""

    client_name: str
    currency: str
    mode: Literal["max_outcome", "target_roas", "target_cpa", "min_budget_for_target"]
    #: What the outcome intervals measure.
    outcome_metric: Literal["revenue", "conversions"] = "revenue"
    current_total: Decimal = Field(ge=0)
    proposed_total: Decimal = Field(ge=0)
    period_days: int | None = Field(default=None, ge=1)
    items: list[BudgetItem] = Field(min_length=1)
    current_outcome: Interval
    proposed_outcome: Interval
    #: proposed - current outcome, as an interval (computed jointly by the model, not by subtracting quantiles).
    uplift: Interval
    uplift_pct: Interval | None = None
    #: The target ROAS or CPA of the target modes.
    target: float | None = None
    basis: Basis = "history"
    assumptions: list[str] = Field(default_factory=list)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return normalize_currency(value)

    @field_validator("basis", mode="before")
    @classmethod
    def _known_basis(cls, value: Any) -> Any:
        return _basis(value)


FACTS_MODELS: dict[str, type[_Facts]] = {"strategy": StrategyFacts, "budget_optimization": BudgetFacts}


def coerce_facts(kind: str, facts: BaseModel | dict[str, Any]) -> StrategyFacts | BudgetFacts:
    """The validated facts model for ``kind``, from the model itself or an equivalent dict."""
    try:
        model = FACTS_MODELS[kind]
    except KeyError:
        raise ValueError(f"unknown narrative kind {kind!r}; known: {sorted(FACTS_MODELS)}") from None
    if isinstance(facts, model):
        return facts  # type: ignore[return-value]
    if isinstance(facts, BaseModel):
        facts = facts.model_dump()
    return model.model_validate(facts)  # type: ignore[return-value]
