"""POST /api/v1/campaign/optimize: recommendations for one campaign, each with the evidence it rests on (the metric
snapshot and its window), the expected impact as p10/p50/p90, a confidence, a priority and the exact platform
change. Nothing acts without data: each check has a minimum-data gate and says what is missing instead.

What each check rests on:
- scale_budget / budget_shift: the campaign's fitted response curve (``services.response_models``, the same model
  the insights route shows), its parameter draws give the p10/p50/p90 of the change in outcome; the value of an
  outcome unit is 1 for revenue and the client's target CPA for conversions, so "better" means more value than
  the extra spend costs (scale) or more outcome for the same total spend (shift).
- pause: the campaign's conversions over 14 days against what the target CPA / ROAS would have produced
  (Poisson: the confidence is the probability of doing this badly if the campaign were on target).
- pacing_fix: the client's month-to-date spend against its monthly budget, with the insights' tolerance band.
- bid_target: the campaign's CPA / ROAS against the client's target (Poisson confidence); on Google Ads and
  YouTube a target CPA / ROAS write (the live target is read at apply), elsewhere a manual change.
- creative_fatigue, audience_exclusion: manual changes (ads and audiences are not written by the connectors),
  from synced breakdown rows by ad / audience where they exist.

numpy/scipy are imported inside the functions that use them.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select

from strategist.adapters.db.models import (
    BudgetOptimization,
    Campaign,
    CampaignOptimization,
    Client,
    OptimizationRecommendation,
    Tenant,
)
from strategist.adapters.db.uow import UnitOfWork
from strategist.domain import optimization as dom
from strategist.domain.auth import Principal
from strategist.domain.errors import Conflict, NotFound, ValidationFailed
from strategist.domain.money import minor_unit_exponent
from strategist.http.schemas.optimization import OptimizeRequest
from strategist.services import campaigns as campaigns_svc
from strategist.services.optimization import data

WINDOW_DAYS = 14
RATE_DAYS = 7
HORIZON_DAYS = 28
CONFIDENCE_BAR = {"high": 0.6, "medium": 0.7, "low": 0.8}
#: a scale or shift smaller than this share of spend is not worth a change
MIN_STEP = 0.05
#: a budget shift needs marginal returns this far apart
SHIFT_MIN_RATIO = 1.15
FATIGUE_DROP = 0.25
FATIGUE_MIN_IMPRESSIONS = 1000
CREATIVE_DIMS = {"ad", "creative", "asset", "ad_id"}
AUDIENCE_DIMS = {"audience", "age", "gender", "placement", "geo", "country", "region", "device", "interest"}

METHODOLOGY = [
    f"Evidence windows are the last {WINDOW_DAYS} complete days in the campaign's time zone (creative fatigue: "
    "the last 7 days against the 21 before); spend rates are the mean of the last "
    f"{RATE_DAYS} complete days. Only campaign-total rows in the campaign's currency are read.",
    f"Minimum data: {dom.MIN_DAYS} days with data and {dom.MIN_CONVERSIONS} conversions in the window for "
    f"model-based changes; a pause needs {dom.PAUSE_MIN_DAYS} days and spend of {dom.PAUSE_SPEND_MULTIPLE}x the "
    "target CPA. A check that lacks data is listed under missing_data with what it needs.",
    f"Expected impact is over the next {HORIZON_DAYS} days, p10/p50/p90 over the response model's parameter "
    "draws (no day-to-day noise), assuming spend moves in proportion with the daily budget.",
    "The confidence is the probability that the change is an improvement (model draws), or for pauses and "
    "exclusions one minus the probability of results this poor at the target (Poisson). implementation_priority "
    "sets the confidence a recommendation needs: 0.6 high, 0.7 medium, 0.8 low; the rest are held back.",
    "Budget changes are capped at the tenant's max_change_pct; applying one is subject to the cooldown and, for "
    "raises above the tenant's thresholds, an owner/admin approval (POST /api/v1/recommendations/{id}/apply).",
]


@dataclass
class Candidate:
    kind: str
    title: str
    rationale: str
    priority: str
    confidence: float
    evidence: dict[str, Any]
    expected_impact: dict[str, Any]
    changes: list[dict[str, Any]] = field(default_factory=list)
    campaign_id: uuid.UUID | None = None
    rule_id: uuid.UUID | None = None
    dry_run: bool = False


@dataclass
class Ctx:
    campaign: Campaign
    client: Client
    zone: str
    today: dt.date
    lo: dt.date
    hi: dt.date
    rows: list[data.DayRow]
    sums: dom.WindowSums
    guard: dom.Guardrails
    exponent: int
    missing: list[dict[str, Any]] = field(default_factory=list)

    @property
    def target_cpa(self) -> Decimal | None:
        goals = self.client.goals or {}
        value = goals.get("cpa", goals.get("target_cpa"))
        return None if value in (None, "") else Decimal(str(value))

    @property
    def target_roas(self) -> Decimal | None:
        goals = self.client.goals or {}
        value = goals.get("roas", goals.get("target_roas"))
        return None if value in (None, "") else Decimal(str(value))

    def snapshot(self) -> dict[str, Any]:
        return data.snapshot(self.sums, self.lo, self.hi, self.campaign.currency)

    def rate(self, rows: list[data.DayRow] | None = None) -> float:
        rows = self.rows if rows is None else rows
        lo = self.hi - dt.timedelta(days=RATE_DAYS - 1)
        recent = [float(r.spend) for r in rows if lo <= r.date <= self.hi]
        return sum(recent) / RATE_DAYS if recent else 0.0

    def need(self, check: str, missing: list[str]) -> bool:
        """Record what a check lacks; True when it may run."""
        if missing:
            self.missing.append({"check": check, "campaign_id": str(self.campaign.id), "missing": missing})
        return not missing


def guardrails(uow: UnitOfWork, tenant_id: uuid.UUID) -> dom.Guardrails:
    tenant = uow.session.get(Tenant, tenant_id)
    return dom.Guardrails.from_settings(tenant.settings if tenant else None)


def _q(x: float) -> float:
    return round(float(x), 4)


def quantiles(values: Any) -> dict[str, float]:
    import numpy as np

    arr = np.asarray(values, dtype=float)
    return {k: _q(float(np.quantile(arr, p))) for k, p in (("p10", 0.1), ("p50", 0.5), ("p90", 0.9))}


def priority_of(value_p50: float, base: float) -> str:
    share = abs(value_p50) / base if base > 0 else 0.0
    return "high" if share >= 0.10 else "medium" if share >= 0.03 else "low"


# -- platform changes ----------------------------------------------------------------------------------------
def budget_change(campaign: Campaign, after: Decimal) -> dict[str, Any]:
    assert campaign.budget_amount is not None
    before = Decimal(campaign.budget_amount).quantize(
        Decimal(1).scaleb(-minor_unit_exponent(campaign.currency))
    )
    pct = dom.change_pct(before, after)
    return {
        "campaign_id": str(campaign.id),
        "campaign_name": campaign.name,
        "platform": campaign.platform,
        "external_id": campaign.external_id,
        "connection_id": None if campaign.connection_id is None else str(campaign.connection_id),
        "action": "set_budget",
        "field": "daily_budget",
        "budget_type": "daily",
        "currency": campaign.currency,
        "before": str(before),
        "after": str(after),
        "change_pct": None if pct is None else str(pct.quantize(Decimal("0.01"))),
        "connector_call": f"update_budget({campaign.external_id!r}, {after}, daily)",
    }


def status_change(campaign: Campaign, after: str) -> dict[str, Any]:
    return {
        "campaign_id": str(campaign.id),
        "campaign_name": campaign.name,
        "platform": campaign.platform,
        "external_id": campaign.external_id,
        "connection_id": None if campaign.connection_id is None else str(campaign.connection_id),
        "action": "set_status",
        "field": "status",
        "before": campaign.status,
        "after": after,
        "connector_call": f"update_status({campaign.external_id!r}, {after})",
    }


#: platforms whose connector writes bid-strategy targets (Google Ads campaigns:mutate)
TARGET_PLATFORMS = {"google_ads", "youtube_ads"}


def target_change(campaign: Campaign, target: str, after: Decimal) -> dict[str, Any]:
    """A bid-target change; its before is read live at apply (bid strategies are not synced)."""
    return {
        "campaign_id": str(campaign.id),
        "campaign_name": campaign.name,
        "platform": campaign.platform,
        "external_id": campaign.external_id,
        "connection_id": None if campaign.connection_id is None else str(campaign.connection_id),
        "action": "set_target",
        "field": target,
        "currency": campaign.currency,
        "before": None,
        "after": str(after),
        "connector_call": f"update_target({campaign.external_id!r}, {target!r}, {after})",
    }


def budget_writable(campaign: Campaign) -> list[str]:
    missing = []
    if campaign.connection_id is None:
        missing.append("a platform connection (the campaign was not synced from a platform)")
    if campaign.budget_type != "daily" or campaign.budget_amount is None or campaign.budget_amount <= 0:
        missing.append(
            f"a campaign-level daily budget (the campaign has {campaign.budget_type or 'no'} budget on record)"
        )
    return missing


# -- the response curves ---------------------------------------------------------------------------------------
@dataclass
class Curve:
    outcome: str
    value_per_unit: float
    curve: Any
    basis: str
    n_days: int

    def draws(self, spend: float) -> Any:
        import numpy as np

        d = self.curve.value_draws(max(spend, 0.0))
        if d is None:
            return np.asarray([float(self.curve.value(max(spend, 0.0)))])
        return np.asarray(d, dtype=float)

    def marginal(self, spend: float) -> Any:
        h = max(spend * 0.01, 1e-6)
        return (self.draws(spend + h) - self.draws(max(spend - h, 0.0))) / (2 * h) * self.value_per_unit


def curves_for(ctx: Ctx, uow: UnitOfWork, camps: list[Campaign]) -> dict[uuid.UUID, Curve | str]:
    """A fitted curve per campaign, or why there is none."""
    from strategist.services import response_models as rm

    out: dict[uuid.UUID, Curve | str] = {}
    if ctx.client.currency != ctx.campaign.currency:
        return {
            c.id: f"the campaign in the client's currency {ctx.client.currency} (it is in {c.currency})"
            for c in camps
        }
    model_set = rm.campaign_models(
        uow,
        ctx.client.id,
        campaigns={str(c.id): c.platform for c in camps},
        currency=ctx.client.currency,
        objective=rm.benchmark_objective(ctx.campaign.objective or ""),
        industry=rm.benchmark_industry(ctx.client.industry),
        today=ctx.today,
    )
    for c in camps:
        model = model_set.models[str(c.id)]
        if model.basis == "benchmark_priors":
            out[c.id] = "synced history for a fitted response curve (only benchmark priors are available)"
            continue
        outcome = "revenue" if model.history.get("revenue", 0.0) > 0 else "conversions"
        if outcome == "conversions":
            if ctx.target_cpa is None:
                out[c.id] = "a target CPA in the client's goals (goals.cpa) to value conversions"
                continue
            value = float(ctx.target_cpa)
        else:
            value = 1.0
        out[c.id] = Curve(
            outcome,
            value,
            model.response.curve(outcome, n_draws=400, random_state=0),
            model.basis,
            model.n_days,
        )
    return out


def _scale(ctx: Ctx, curve: Curve) -> Candidate | None:
    import numpy as np

    c = ctx.campaign
    s = ctx.rate()
    if s <= 0:
        ctx.need("scale_budget", ["spend in the last 7 days"])
        return None
    cap = float(ctx.guard.max_change_pct) / 100
    base = curve.draws(s)
    best_k, best = 1.0, -math.inf
    for k in np.linspace(1 - cap, 1 + cap, 25):
        gain = float(np.median(curve.value_per_unit * (curve.draws(s * k) - base) - (k - 1) * s))
        if gain > best:
            best_k, best = float(k), gain
    if abs(best_k - 1) < MIN_STEP:
        return None
    assert c.budget_amount is not None
    after = dom.cap_budget(
        Decimal(c.budget_amount),
        Decimal(c.budget_amount) * Decimal(str(best_k)),
        ctx.guard.max_change_pct,
        ctx.exponent,
    )
    k = float(after / Decimal(c.budget_amount))
    d_out = (curve.draws(s * k) - base) * HORIZON_DAYS
    d_spend = (k - 1) * s * HORIZON_DAYS
    d_value = curve.value_per_unit * d_out - d_spend
    marginal = curve.marginal(s)
    confidence = float(np.mean(d_value > 0))
    up = k > 1
    unit = "marginal ROAS" if curve.outcome == "revenue" else "value of the next conversion per unit spent"
    return Candidate(
        kind="scale_budget",
        title=f"{'Raise' if up else 'Lower'} the daily budget of {c.name} by {abs(k - 1) * 100:.0f} %",
        rationale=(
            f"At the current {s:.2f}/day the fitted curve's {unit} is {float(np.median(marginal)):.2f} "
            f"(p10 {float(np.quantile(marginal, 0.1)):.2f}, p90 {float(np.quantile(marginal, 0.9)):.2f}); "
            + (
                "the next unit of spend returns more than it costs, so more budget adds value."
                if up
                else "the last units of spend return less than they cost, so less budget adds value."
            )
            + f" The step is the best within the ±{ctx.guard.max_change_pct} % cap."
        ),
        priority=priority_of(float(np.median(d_value)), s * HORIZON_DAYS),
        confidence=confidence,
        evidence={
            **ctx.snapshot(),
            "daily_spend_rate": _q(s),
            "marginal": quantiles(marginal),
            "marginal_kind": "marginal_roas" if curve.outcome == "revenue" else "marginal_value_per_spend",
            "model": {"outcome": curve.outcome, "basis": curve.basis, "days": curve.n_days},
        },
        expected_impact={
            "horizon_days": HORIZON_DAYS,
            "currency": c.currency,
            curve.outcome: quantiles(d_out),
            "spend": {"p10": _q(d_spend), "p50": _q(d_spend), "p90": _q(d_spend)},
            "net_value": quantiles(d_value),
            "basis": "response-curve parameter draws",
        },
        changes=[budget_change(c, after)],
        campaign_id=c.id,
    )


def _shift(ctx: Ctx, uow: UnitOfWork) -> Candidate | None:
    """Move budget between this campaign and the client's campaign whose marginal return differs most."""
    import numpy as np

    c = ctx.campaign
    others = [
        o
        for o in uow.session.scalars(
            select(Campaign).where(
                Campaign.client_id == c.client_id,
                Campaign.id != c.id,
                Campaign.status == "active",
                Campaign.currency == c.currency,
                or_(Campaign.end_date.is_(None), Campaign.end_date >= ctx.today),
            )
        )
        if not budget_writable(o)
    ]
    if not others:
        ctx.need(
            "budget_shift",
            ["another active campaign of this client with a daily budget in the same currency"],
        )
        return None
    curves = curves_for(ctx, uow, [c, *others])
    mine = curves[c.id]
    if isinstance(mine, str):
        ctx.need("budget_shift", [mine])
        return None
    s_me = ctx.rate()
    candidates = []
    for o in others:
        cv = curves[o.id]
        rows = data.daily(uow, o.id, o.currency, ctx.lo - dt.timedelta(days=1), ctx.hi)
        sums = data.sums(rows, ctx.lo, ctx.hi)
        if isinstance(cv, str) or cv.outcome != mine.outcome:
            continue
        if dom.data_gate(sums, window_days=dom.MIN_DAYS, min_conversions=Decimal(dom.MIN_CONVERSIONS)):
            continue
        s_o = ctx.rate(rows)
        if s_o <= 0:
            continue
        m_me, m_o = float(np.median(mine.marginal(s_me))), float(np.median(cv.marginal(s_o)))
        if min(m_me, m_o) <= 0:
            continue
        candidates.append((max(m_me, m_o) / min(m_me, m_o), o, cv, s_o, m_me, m_o, sums))
    if not candidates:
        ctx.need(
            "budget_shift",
            [
                f"another campaign of this client with a fitted curve of the same outcome and {dom.MIN_DAYS} days / "
                f"{dom.MIN_CONVERSIONS} conversions in the window"
            ],
        )
        return None
    ratio, o, cv, s_o, m_me, m_o, o_sums = max(candidates, key=lambda t: t[0])
    if ratio < SHIFT_MIN_RATIO:
        return None
    (rcp, rc, s_r), (dnr, dc, s_d) = (
        ((c, mine, s_me), (o, cv, s_o)) if m_me > m_o else ((o, cv, s_o), (c, mine, s_me))
    )
    cap = float(ctx.guard.max_change_pct) / 100
    top = min(cap * s_r, cap * s_d)
    base_r, base_d = rc.draws(s_r), dc.draws(s_d)
    best_d, best = 0.0, -math.inf
    for delta in np.linspace(0, top, 21)[1:]:
        gain = float(
            np.median(rc.value_per_unit * (rc.draws(s_r + delta) - base_r + dc.draws(s_d - delta) - base_d))
        )
        if gain > best:
            best_d, best = float(delta), gain
    if best_d < MIN_STEP * min(s_r, s_d):
        return None
    assert rcp.budget_amount is not None and dnr.budget_amount is not None
    r_after = dom.cap_budget(
        Decimal(rcp.budget_amount),
        Decimal(rcp.budget_amount) * Decimal(str((s_r + best_d) / s_r)),
        ctx.guard.max_change_pct,
        ctx.exponent,
    )
    d_after = dom.cap_budget(
        Decimal(dnr.budget_amount),
        Decimal(dnr.budget_amount) * Decimal(str((s_d - best_d) / s_d)),
        ctx.guard.max_change_pct,
        ctx.exponent,
    )
    kr, kd = float(r_after / Decimal(rcp.budget_amount)), float(d_after / Decimal(dnr.budget_amount))
    d_out = (rc.draws(s_r * kr) - base_r + dc.draws(s_d * kd) - base_d) * HORIZON_DAYS
    d_spend = ((kr - 1) * s_r + (kd - 1) * s_d) * HORIZON_DAYS
    d_value = rc.value_per_unit * d_out - d_spend
    kind = "marginal ROAS" if rc.outcome == "revenue" else "marginal value per unit spent"
    return Candidate(
        kind="budget_shift",
        title=f"Shift {best_d:.2f}/day from {dnr.name} to {rcp.name}",
        rationale=(
            f"{kind.capitalize()}: {rcp.name} {max(m_me, m_o):.2f} vs {dnr.name} {min(m_me, m_o):.2f} at current "
            f"spend ({ratio:.2f}x apart). Moving budget toward the higher marginal return raises {rc.outcome} at the "
            "same total spend; the amount is where the median gain peaks within the cap."
        ),
        priority=priority_of(float(np.median(d_value)), (s_r + s_d) * HORIZON_DAYS),
        confidence=float(np.mean(d_value > 0)),
        evidence={
            "campaigns": {
                str(c.id): {
                    **ctx.snapshot(),
                    "daily_spend_rate": _q(s_me),
                    "marginal": quantiles(mine.marginal(s_me)),
                },
                str(o.id): {
                    **data.snapshot(o_sums, ctx.lo, ctx.hi, o.currency),
                    "daily_spend_rate": _q(s_o),
                    "marginal": quantiles(cv.marginal(s_o)),
                },
            },
            "model": {"outcome": rc.outcome, "basis": sorted({rc.basis, dc.basis})},
        },
        expected_impact={
            "horizon_days": HORIZON_DAYS,
            "currency": c.currency,
            rc.outcome: quantiles(d_out),
            "spend": {"p10": _q(d_spend), "p50": _q(d_spend), "p90": _q(d_spend)},
            "net_value": quantiles(d_value),
            "basis": "response-curve parameter draws of both campaigns; total spend unchanged up to rounding",
        },
        changes=[budget_change(dnr, d_after), budget_change(rcp, r_after)],
        campaign_id=c.id,
    )


def _poisson_confidence(observed: Decimal, expected: float) -> float:
    from scipy.stats import poisson

    return float(1 - poisson.cdf(math.floor(float(observed)), expected))


def _pause(ctx: Ctx) -> Candidate | None:
    c, s = ctx.campaign, ctx.sums
    if ctx.target_cpa is None and ctx.target_roas is None:
        ctx.need("pause", ["a target CPA or ROAS in the client's goals"])
        return None
    missing = []
    if s.days < dom.PAUSE_MIN_DAYS:
        missing.append(f"{dom.PAUSE_MIN_DAYS} days with data in the window (have {s.days})")
    if ctx.target_cpa is not None:
        expected = float(s.spend / ctx.target_cpa)
        basis = f"target CPA {ctx.target_cpa}"
    else:
        assert ctx.target_roas is not None
        aov = s.revenue / s.conversions if s.conversions else None
        if aov is None or s.conversions < dom.MIN_CONVERSIONS:
            missing.append(f"{dom.MIN_CONVERSIONS} conversions to judge ROAS (have {s.conversions})")
            expected = 0.0
        else:
            expected = float(s.spend * ctx.target_roas / aov)
        basis = f"target ROAS {ctx.target_roas}"
    if ctx.target_cpa is not None and s.spend < ctx.target_cpa * dom.PAUSE_SPEND_MULTIPLE:
        missing.append(f"spend of {dom.PAUSE_SPEND_MULTIPLE}x the target CPA in the window (have {s.spend})")
    if not ctx.need("pause", missing):
        return None
    if float(s.conversions) >= expected / 2:
        return None  # within 2x of target: a budget or bid question, not a pause
    confidence = _poisson_confidence(s.conversions, expected) if s.conversions < expected else 0.0
    rate = ctx.rate()
    lost = float(s.conversions) / max(s.days, 1) * HORIZON_DAYS
    from scipy.stats import poisson

    return Candidate(
        kind="pause",
        title=f"Pause {c.name}",
        rationale=(
            f"{s.conversions} conversions on {s.spend} {c.currency} spend over {s.days} days, where the {basis} "
            f"implies {expected:.1f}. The chance of results this poor if the campaign were on target is "
            f"{1 - confidence:.3f}."
        ),
        priority="high",
        confidence=confidence,
        evidence={**ctx.snapshot(), "expected_conversions_at_target": _q(expected), "target_basis": basis},
        expected_impact={
            "horizon_days": HORIZON_DAYS,
            "currency": c.currency,
            "spend": {
                "p10": _q(-rate * HORIZON_DAYS),
                "p50": _q(-rate * HORIZON_DAYS),
                "p90": _q(-rate * HORIZON_DAYS),
            },
            "conversions": {
                k: -_q(float(poisson.ppf(q, lost))) for k, q in (("p10", 0.9), ("p50", 0.5), ("p90", 0.1))
            },
            "basis": "spend at the last 7 days' rate; conversions lost at the window's rate (Poisson)",
        },
        changes=[status_change(c, "paused")],
        campaign_id=c.id,
    )


def _pacing(ctx: Ctx, uow: UnitOfWork) -> Candidate | None:
    import calendar
    from statistics import NormalDist

    from strategist.services import analytics

    c, client = ctx.campaign, ctx.client
    if client.monthly_budget is None:
        ctx.need("pacing_fix", ["a monthly budget on the client (clients.monthly_budget)"])
        return None
    if c.currency != client.currency:
        ctx.need("pacing_fix", [f"the campaign in the client's currency {client.currency}"])
        return None
    month_start = ctx.today.replace(day=1)
    dim = calendar.monthrange(ctx.today.year, ctx.today.month)[1]
    elapsed = (ctx.hi - month_start).days + 1
    if not ctx.need(
        "pacing_fix", [] if elapsed >= 3 else [f"3 complete days of the month (have {max(elapsed, 0)})"]
    ):
        return None
    camps = list(
        uow.session.scalars(
            select(Campaign).where(Campaign.client_id == client.id, Campaign.currency == client.currency)
        )
    )
    by_day: dict[dt.date, float] = {}
    for cc in camps:
        for r in data.daily(
            uow, cc.id, cc.currency, min(month_start, ctx.hi - dt.timedelta(days=RATE_DAYS - 1)), ctx.hi
        ):
            by_day[r.date] = by_day.get(r.date, 0.0) + float(r.spend)
    mtd = sum(v for d, v in by_day.items() if d >= month_start)
    recent = [by_day.get(ctx.hi - dt.timedelta(days=i), 0.0) for i in range(RATE_DAYS)]
    rate = sum(recent) / RATE_DAYS
    remaining_days = dim - elapsed
    if remaining_days <= 0 or rate <= 0:
        return None
    monthly = float(client.monthly_budget)
    projected = mtd + rate * remaining_days
    band = float(analytics.pacing_band(Decimal(elapsed), dim)) / 100
    dev = projected / monthly - 1
    if abs(dev) <= band:
        return None
    need = (monthly - mtd) / remaining_days
    factor = max(need, 0.0) / rate
    assert c.budget_amount is not None
    after = dom.cap_budget(
        Decimal(c.budget_amount),
        Decimal(c.budget_amount) * Decimal(str(factor)),
        ctx.guard.max_change_pct,
        ctx.exponent,
    )
    if after == Decimal(c.budget_amount):
        return None
    import numpy as np

    sd = float(np.std(recent, ddof=1)) * math.sqrt(remaining_days) if len(recent) > 1 else 0.0
    margin = abs(projected - monthly) - band * monthly
    confidence = NormalDist().cdf(margin / sd) if sd > 0 else 1.0
    k = float(after / Decimal(c.budget_amount))
    d_spend = (k - 1) * ctx.rate() * remaining_days
    return Candidate(
        kind="pacing_fix",
        title=f"{'Lower' if dev > 0 else 'Raise'} {c.name}'s daily budget to pace the month",
        rationale=(
            f"The client's {client.currency} campaigns have spent {mtd:.2f} of the {monthly:.2f} monthly budget in "
            f"{elapsed} days; at the last 7 days' {rate:.2f}/day the month ends at {projected:.2f} "
            f"({dev * 100:+.1f} %, outside the ±{band * 100:.1f} % band). Spending {need:.2f}/day from here lands on "
            "budget; this campaign's share of the correction is capped."
        ),
        priority="high" if abs(dev) > 2 * band else "medium",
        confidence=confidence,
        evidence={
            **ctx.snapshot(),
            "month": month_start.strftime("%Y-%m"),
            "monthly_budget": str(client.monthly_budget),
            "month_to_date_spend": _q(mtd),
            "client_daily_rate": _q(rate),
            "projected_month_end": _q(projected),
            "tolerance_pct": _q(band * 100),
        },
        expected_impact={
            "horizon_days": remaining_days,
            "currency": c.currency,
            "spend": {"p10": _q(d_spend), "p50": _q(d_spend), "p90": _q(d_spend)},
            "projected_month_end_after": _q(projected + d_spend),
            "basis": "spend moves in proportion with the daily budget for the rest of the month",
        },
        changes=[budget_change(c, after)],
        campaign_id=c.id,
    )


def _bid_target(ctx: Ctx) -> Candidate | None:
    c, s = ctx.campaign, ctx.sums
    if ctx.target_cpa is None and ctx.target_roas is None:
        ctx.need("bid_target", ["a target CPA or ROAS in the client's goals"])
        return None
    if not ctx.need(
        "bid_target",
        dom.data_gate(s, window_days=dom.MIN_DAYS, min_conversions=Decimal(dom.MIN_CONVERSIONS)),
    ):
        return None
    from scipy.stats import poisson

    if ctx.target_cpa is not None:
        cpa = s.metric("cpa")
        assert cpa is not None
        expected = float(s.spend / ctx.target_cpa)
        off = cpa / ctx.target_cpa - 1
        if abs(off) < Decimal("0.10"):
            return None
        confidence = (
            float(1 - poisson.cdf(float(s.conversions), expected))
            if off > 0
            else float(poisson.cdf(float(s.conversions) - 1, expected))
        )
        setting, value, field_name = "target CPA", ctx.target_cpa, "target_cpa"
        now = f"CPA {cpa.quantize(Decimal('0.01'))}"
    else:
        roas = s.metric("roas")
        assert roas is not None and ctx.target_roas is not None
        off = ctx.target_roas / roas - 1 if roas else Decimal(1)
        if abs(off) < Decimal("0.10"):
            return None
        aov = s.revenue / s.conversions
        expected = float(s.spend * ctx.target_roas / aov)
        confidence = (
            float(1 - poisson.cdf(float(s.conversions), expected))
            if off > 0
            else float(poisson.cdf(float(s.conversions) - 1, expected))
        )
        setting, value, field_name = "target ROAS", ctx.target_roas, "target_roas"
        now = f"ROAS {roas.quantize(Decimal('0.01'))}"
    writable = c.platform in TARGET_PLATFORMS and c.connection_id is not None
    how = (
        "Applied through Google Ads campaigns:mutate when the campaign bids with "
        + ("Maximize Conversions" if field_name == "target_cpa" else "Maximize Conversion Value")
        + " (the platform refuses otherwise; switching strategies is never automated); the current target is read "
        "live at apply and the change is capped like a budget."
        if writable
        else f"{c.platform} bid strategies are not written by the connectors: make this change in the platform."
    )
    return Candidate(
        kind="bid_target",
        title=f"Set the bid strategy's {setting} of {c.name} to {value}",
        rationale=(
            f"Over {s.days} days the campaign ran at {now} against the client's {setting} {value} "
            f"({float(off) * 100:+.0f} %). " + how
        ),
        priority="medium",
        confidence=confidence,
        evidence={**ctx.snapshot(), "target": {setting: str(value)}},
        expected_impact={
            "horizon_days": HORIZON_DAYS,
            "basis": "no model of bid changes: the platform's own bidding moves toward the target",
        },
        changes=[target_change(c, field_name, value)] if writable else [],
        campaign_id=c.id,
    )


def _dim(breakdown: str) -> str:
    for sep in (":", "=", "/"):
        if sep in breakdown:
            return breakdown.split(sep, 1)[0].strip().lower()
    return ""


def _fatigue(ctx: Ctx, uow: UnitOfWork) -> list[Candidate]:
    from statistics import NormalDist

    c = ctx.campaign
    lo = ctx.hi - dt.timedelta(days=27)
    split = ctx.hi - dt.timedelta(days=6)
    segs = {
        k: v
        for k, v in data.breakdowns(uow, c.id, c.currency, lo, ctx.hi).items()
        if _dim(k) in CREATIVE_DIMS
    }
    if not ctx.need(
        "creative_fatigue",
        [] if segs else ["ad- or creative-level breakdown rows (e.g. 'ad:<id>') in the last 28 days"],
    ):
        return []
    out = []
    for name, rows in segs.items():
        before = data.sums(rows, lo, split - dt.timedelta(days=1))
        recent = data.sums(rows, split, ctx.hi)
        if before.impressions < FATIGUE_MIN_IMPRESSIONS or recent.impressions < FATIGUE_MIN_IMPRESSIONS:
            continue
        p0, p1 = before.clicks / before.impressions, recent.clicks / recent.impressions
        if p0 <= 0 or p1 > p0 * (1 - FATIGUE_DROP):
            continue
        pooled = (before.clicks + recent.clicks) / (before.impressions + recent.impressions)
        se = math.sqrt(pooled * (1 - pooled) * (1 / before.impressions + 1 / recent.impressions))
        confidence = NormalDist().cdf((p0 - p1) / se) if se > 0 else 0.0
        out.append(
            Candidate(
                kind="creative_fatigue",
                title=f"Refresh the creative {name} of {c.name}",
                rationale=(
                    f"CTR fell from {p0 * 100:.2f} % (21 days before) to {p1 * 100:.2f} % (last 7 days), "
                    f"{(1 - p1 / p0) * 100:.0f} % down. Rotate or replace it in the platform (ads are not written "
                    "by the connectors)."
                ),
                priority="medium",
                confidence=confidence,
                evidence={
                    "breakdown": name,
                    "before": data.snapshot(before, lo, split - dt.timedelta(days=1), c.currency),
                    "recent": data.snapshot(recent, split, ctx.hi, c.currency),
                },
                expected_impact={
                    "horizon_days": HORIZON_DAYS,
                    "ctr_pct_if_restored": {
                        "p10": _q(p1 * 100),
                        "p50": _q((p0 + p1) / 2 * 100),
                        "p90": _q(p0 * 100),
                    },
                    "basis": "a refreshed creative recovers between none and all of the lost CTR",
                },
                campaign_id=c.id,
            )
        )
    return out


def _audience(ctx: Ctx, uow: UnitOfWork) -> list[Candidate]:
    c, s = ctx.campaign, ctx.sums
    segs = {
        k: v
        for k, v in data.breakdowns(uow, c.id, c.currency, ctx.lo, ctx.hi).items()
        if _dim(k) in AUDIENCE_DIMS
    }
    missing = (
        [] if segs else ["audience-level breakdown rows (e.g. 'age:25-34', 'placement:...') in the window"]
    )
    if s.conversions < dom.MIN_CONVERSIONS:
        missing.append(f"{dom.MIN_CONVERSIONS} campaign conversions in the window (have {s.conversions})")
    if not ctx.need("audience_exclusion", missing):
        return []
    cpa = s.metric("cpa")
    assert cpa is not None
    out = []
    for name, rows in segs.items():
        seg = data.sums(rows, ctx.lo, ctx.hi)
        if seg.spend < 2 * cpa:
            continue
        expected = float(seg.spend / cpa)
        if float(seg.conversions) >= expected / 2:
            continue
        confidence = _poisson_confidence(seg.conversions, expected)
        saved = float(seg.spend) / WINDOW_DAYS * HORIZON_DAYS
        out.append(
            Candidate(
                kind="audience_exclusion",
                title=f"Exclude {name} from {c.name}",
                rationale=(
                    f"{name} spent {seg.spend} {c.currency} for {seg.conversions} conversions; at the campaign's CPA "
                    f"{cpa.quantize(Decimal('0.01'))} that spend buys {expected:.1f}. Exclude it in the platform "
                    "(audiences are not written by the connectors)."
                ),
                priority="medium",
                confidence=confidence,
                evidence={
                    "breakdown": name,
                    "segment": data.snapshot(seg, ctx.lo, ctx.hi, c.currency),
                    "campaign": ctx.snapshot(),
                },
                expected_impact={
                    "horizon_days": HORIZON_DAYS,
                    "currency": c.currency,
                    "spend": {"p10": _q(-saved), "p50": _q(-saved), "p90": _q(-saved)},
                    "basis": "the segment's spend at its window rate is freed for the rest of the campaign",
                },
                campaign_id=c.id,
            )
        )
    return out


# -- the use case ------------------------------------------------------------------------------------------------
def build_context(uow: UnitOfWork, campaign: Campaign, zone: str, *, today: dt.date | None = None) -> Ctx:
    client = uow.session.get(Client, campaign.client_id)
    assert client is not None
    today = today or campaigns_svc.local_today(zone)
    hi = today - dt.timedelta(days=1)
    lo = hi - dt.timedelta(days=WINDOW_DAYS - 1)
    rows = data.daily(uow, campaign.id, campaign.currency, lo - dt.timedelta(days=1), hi)
    return Ctx(
        campaign=campaign,
        client=client,
        zone=zone,
        today=today,
        lo=lo,
        hi=hi,
        rows=rows,
        sums=data.sums(rows, lo, hi),
        guard=guardrails(uow, campaign.tenant_id),
        exponent=minor_unit_exponent(campaign.currency),
    )


def candidates(
    uow: UnitOfWork, ctx: Ctx, optimization_type: str, *, include_shift: bool = False
) -> list[Candidate]:
    c = ctx.campaign
    out: list[Candidate | None] = []
    if c.status != "active":
        ctx.missing.append(
            {"check": "all", "campaign_id": str(c.id), "missing": [f"an active campaign (it is {c.status})"]}
        )
        return []
    gate = dom.data_gate(ctx.sums, window_days=dom.MIN_DAYS, min_conversions=Decimal(dom.MIN_CONVERSIONS))
    writable = budget_writable(c)
    if optimization_type in ("performance", "budget"):
        if ctx.need("scale_budget", gate + writable):
            curve = curves_for(ctx, uow, [c])[c.id]
            if isinstance(curve, str):
                ctx.need("scale_budget", [curve])
            else:
                out.append(_scale(ctx, curve))
        if ctx.need("pacing_fix", writable):
            out.append(_pacing(ctx, uow))
    if optimization_type == "performance" and ctx.need(
        "pause", [] if c.connection_id else ["a platform connection (the campaign was not synced)"]
    ):
        out.append(_pause(ctx))
    if (optimization_type == "budget" or include_shift) and ctx.need("budget_shift", gate + writable):
        out.append(_shift(ctx, uow))
    if optimization_type == "bidding":
        out.append(_bid_target(ctx))
    if optimization_type == "creative":
        out.extend(_fatigue(ctx, uow))
    if optimization_type == "audience":
        out.extend(_audience(ctx, uow))
    return [x for x in out if x is not None]


def _contradiction_free(found: list[Candidate]) -> list[Candidate]:
    """Within one run, never two candidates that move the same campaign in opposite directions: the more
    confident one stays (a pause beats a raise)."""
    kept: list[Candidate] = []
    for cand in sorted(found, key=lambda x: -x.confidence):
        dirs = {(ch["campaign_id"], dom.direction(ch)) for ch in cand.changes}
        clash = any(
            cid == kc["campaign_id"] and dom.contradicts(d, dom.direction(kc))
            for k in kept
            for kc in k.changes
            for cid, d in dirs
        )
        if not clash:
            kept.append(cand)
    return kept


def persist(
    uow: UnitOfWork,
    *,
    tenant_id: uuid.UUID,
    client_id: uuid.UUID,
    campaign_id: uuid.UUID | None,
    optimization_type: str,
    implementation_priority: str,
    found: list[Candidate],
    missing: list[dict[str, Any]],
    guard: dom.Guardrails,
    window: tuple[dt.date, dt.date] | None,
    actor: str,
    source: str = "api",
    source_id: uuid.UUID | None = None,
    methodology: list[str] | None = None,
) -> CampaignOptimization:
    bar = CONFIDENCE_BAR[implementation_priority]
    found = _contradiction_free(found)
    keep = [f for f in found if f.confidence >= bar or f.rule_id is not None]
    held = [
        {"kind": f.kind, "title": f.title, "confidence": round(f.confidence, 4), "needed": bar}
        for f in found
        if f not in keep
    ]
    opt = CampaignOptimization(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        client_id=client_id,
        campaign_id=campaign_id,
        optimization_type=optimization_type,
        implementation_priority=implementation_priority,
        source=source,
        source_id=source_id,
        window_start=None if window is None else window[0],
        window_end=None if window is None else window[1],
        summary={
            "missing_data": missing,
            "held_back": held,
            "guardrails": guard.as_dict(),
            "confidence_bar": bar,
            "methodology": methodology or METHODOLOGY,
        },
        created_by=actor,
    )
    uow.session.add(opt)
    uow.session.flush()
    for f in sorted(keep, key=lambda x: ({"high": 0, "medium": 1, "low": 2}[x.priority], -x.confidence)):
        uow.session.add(
            OptimizationRecommendation(
                id=uuid.uuid4(),
                tenant_id=tenant_id,
                optimization_id=opt.id,
                client_id=client_id,
                campaign_id=f.campaign_id,
                rule_id=f.rule_id,
                kind=f.kind,
                title=f.title,
                rationale=f.rationale,
                priority=f.priority,
                confidence=Decimal(str(round(min(max(f.confidence, 0.0), 1.0), 4))),
                evidence=_json(f.evidence),
                expected_impact=_json(f.expected_impact),
                changes=_json(f.changes),
                dry_run=f.dry_run,
                status="proposed",
            )
        )
    uow.session.flush()
    uow.audit(
        "optimization.create",
        "campaign_optimization",
        opt.id,
        after={
            "type": optimization_type,
            "recommendations": len(keep),
            "missing": len(missing),
            "source": source,
        },
    )
    uow.emit(
        "optimization.created",
        {
            "optimization_id": opt.id,
            "client_id": client_id,
            "campaign_id": campaign_id,
            "recommendations": len(keep),
        },
    )
    return opt


def _json(value: Any) -> Any:
    from strategist.adapters.db.uow import jsonable

    return jsonable(value)


def supersede(uow: UnitOfWork, campaign_id: uuid.UUID, optimization_type: str) -> int:
    """Proposed recommendations of earlier runs of the same type for this campaign give way to the new run's
    (they rest on older data); applied, pending and failed ones are kept as they are."""
    older = select(CampaignOptimization.id).where(
        CampaignOptimization.campaign_id == campaign_id,
        CampaignOptimization.optimization_type == optimization_type,
    )
    n = 0
    for rec in uow.session.scalars(
        select(OptimizationRecommendation).where(
            OptimizationRecommendation.optimization_id.in_(older),
            OptimizationRecommendation.status == "proposed",
        )
    ):
        rec.status = "superseded"
        n += 1
    return n


def optimize_campaign(
    uow: UnitOfWork,
    principal: Principal,
    body: OptimizeRequest,
    *,
    actor: str | None = None,
    source: str = "api",
    today: dt.date | None = None,
    include_shift: bool = False,
) -> CampaignOptimization:
    principal.require_tenant(body.tenant_id)
    campaign, zone = campaigns_svc.get_visible_campaign(uow, principal, body.campaign_id)
    ctx = build_context(uow, campaign, zone, today=today)
    found = candidates(uow, ctx, body.optimization_type.value, include_shift=include_shift)
    superseded = supersede(uow, campaign.id, body.optimization_type.value)
    if superseded:
        ctx.missing.append(
            {"check": "note", "campaign_id": str(campaign.id), "missing": [], "superseded": superseded}
        )
    return persist(
        uow,
        tenant_id=principal.tenant_id,
        client_id=campaign.client_id,
        campaign_id=campaign.id,
        optimization_type=body.optimization_type.value,
        implementation_priority=body.implementation_priority.value,
        found=found,
        missing=ctx.missing,
        guard=ctx.guard,
        window=(ctx.lo, ctx.hi),
        actor=actor or principal.actor,
        source=source,
    )


# -- a proposed budget optimization → recommendations --------------------------------------------------------------
def get_budget_optimization(
    uow: UnitOfWork, principal: Principal, budget_optimization_id: uuid.UUID
) -> BudgetOptimization:
    bo = uow.session.get(BudgetOptimization, budget_optimization_id)
    if bo is None or not principal.can_see_client(bo.client_id):
        raise NotFound("budget optimization not found")
    return bo


def from_budget_optimization(
    uow: UnitOfWork, principal: Principal, budget_optimization_id: uuid.UUID, implementation_priority: str
) -> CampaignOptimization:
    """Each item of a proposed budget optimization becomes a set_budget change on its campaigns (a platform item:
    every active daily-budget campaign of that platform), scaled by proposed / current spend and capped; the
    whole plan is one recommendation so that it is applied, approved and undone together."""
    bo = get_budget_optimization(uow, principal, budget_optimization_id)
    if bo.status != "proposed":
        raise Conflict(f"budget optimization is {bo.status}; only a proposed one can become recommendations")
    existing = uow.session.scalar(
        select(CampaignOptimization.id).where(
            CampaignOptimization.source == "budget_optimization", CampaignOptimization.source_id == bo.id
        )
    )
    if existing is not None:
        raise Conflict(f"budget optimization already turned into recommendations (optimization {existing})")
    guard = guardrails(uow, principal.tenant_id)
    level = bo.result.get("level", "platform")
    period = int(bo.result.get("period_days") or 30)
    today = dt.date.today()
    camps = list(
        uow.session.scalars(
            select(Campaign).where(
                Campaign.client_id == bo.client_id,
                Campaign.status == "active",
                or_(Campaign.end_date.is_(None), Campaign.end_date >= today),
            )
        )
    )
    changes: list[dict[str, Any]] = []
    missing: list[dict[str, Any]] = []
    capped: list[str] = []
    for item in bo.result.get("changes", []):
        current, proposed = Decimal(str(item["current"])), Decimal(str(item["proposed"]))
        targets = [c for c in camps if (str(c.id) if level == "campaign" else c.platform) == item["item"]]
        if current <= 0 or proposed == current or not targets:
            continue
        factor = proposed / current
        for c in targets:
            lacks = budget_writable(c)
            if lacks:
                missing.append({"check": "budget_plan", "campaign_id": str(c.id), "missing": lacks})
                continue
            assert c.budget_amount is not None
            wanted = Decimal(c.budget_amount) * factor
            after = dom.cap_budget(
                Decimal(c.budget_amount), wanted, guard.max_change_pct, minor_unit_exponent(c.currency)
            )
            if not dom.within_cap(Decimal(c.budget_amount), wanted, guard.max_change_pct):
                capped.append(f"{c.name}: asked {wanted.quantize(Decimal('0.01'))}, capped at {after}")
            if after != Decimal(c.budget_amount).quantize(
                Decimal(1).scaleb(-minor_unit_exponent(c.currency))
            ):
                changes.append(budget_change(c, after))
    if not changes:
        raise ValidationFailed.one(
            "path.budget_optimization_id",
            "no item of this plan maps to a campaign whose daily budget can be changed"
            + (f" ({missing[0]['missing'][0]})" if missing else ""),
        )
    uplift = bo.result.get("uplift", {})
    cand = Candidate(
        kind="budget_plan",
        title=f"Apply the budget plan of {bo.created_at:%Y-%m-%d} ({bo.mode}, {len(changes)} budget changes)",
        rationale=(
            f"The budget optimizer's {bo.mode} plan at {level} level, as daily budget changes scaled by proposed / "
            f"current spend over its {period}-day period."
            + (f" Capped at ±{guard.max_change_pct} %: {'; '.join(capped)}." if capped else "")
        ),
        priority="high",
        confidence=1.0,
        evidence={
            "budget_optimization_id": str(bo.id),
            "current": bo.result.get("current", {}),
            "proposed": bo.result.get("proposed", {}),
            "assumptions": bo.result.get("assumptions", {}),
        },
        expected_impact={
            "uplift": uplift,
            "horizon_days": period,
            "basis": "the budget optimizer's forecast",
        },
        changes=changes,
        campaign_id=None,
    )
    opt = persist(
        uow,
        tenant_id=principal.tenant_id,
        client_id=bo.client_id,
        campaign_id=None,
        optimization_type="budget",
        implementation_priority=implementation_priority,
        found=[cand],
        missing=missing,
        guard=guard,
        window=None,
        actor=principal.actor,
        source="budget_optimization",
        source_id=bo.id,
        methodology=[
            "Converted from a proposed budget optimization: its confidence is the plan's own (1.0 here means "
            "'as planned'); its forecast and uplift are the optimizer's.",
            *METHODOLOGY[-1:],
        ],
    )
    return opt
