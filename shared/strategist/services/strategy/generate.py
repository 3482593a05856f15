"""Strategy generation (issue 5): a brief in, a costed, forecast, versioned plan out.

Flow: validate the brief (each problem names its field) -> per-platform funnel models for the client (its own
history, shrunk toward cited benchmarks, or the benchmarks alone) -> the allocator splits the daily budget where
marginal returns are equal, under the brief's bounds and locks -> the split is rounded to the currency's minor
units so it sums exactly to the budget -> phases spread each platform's amount over the flight -> one Monte Carlo
forecast gives totals, per-platform and per-week p10/p50/p90 from the same draws -> audience, test plan, content,
KPI targets and the assumptions ledger -> the narrative writer (prose only, around these computed figures) ->
persisted as a new version (same client + campaign name = same lineage), with audit and an outbox event.

Numbers come only from models and data; the narrative never feeds back into them.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from strategist.adapters.db.models import Campaign, Client, ContentStrategy, MarketingStrategy
from strategist.adapters.db.paging import keyset_page
from strategist.adapters.db.uow import UnitOfWork, jsonable
from strategist.domain.auth import Principal, Role
from strategist.domain.clients import Kpi
from strategist.domain.errors import FieldProblem, NotFound, ValidationFailed
from strategist.domain.money import MoneyError, check_major_precision, minor_unit_exponent
from strategist.domain.platforms import Platform
from strategist.http.schemas.strategy import (
    MAX_DURATION_DAYS,
    OBJECTIVES,
    StrategyGenerate,
    StrategyListQuery,
)
from strategist.services import response_models as rm
from strategist.services.clients import visible_to
from strategist.services.strategy import audience as aud
from strategist.services.strategy import content as cnt
from strategist.services.strategy import plan_math as pm
from strategist.services.strategy import timeline as tl

#: KPIs the funnel forecast produces, and what each is read from
FORECAST_KPIS = {
    "spend",
    "impressions",
    "clicks",
    "ctr",
    "cpc",
    "cpm",
    "conversions",
    "cpa",
    "revenue",
    "roas",
    "leads",
    "cpl",
}
#: KPIs a platform cannot report (checked: a KPI must be measurable on at least one requested platform)
KPI_PLATFORMS: dict[str, set[str]] = {
    "video_views": {"youtube_ads", "tiktok_ads", "meta_ads", "linkedin_ads"},
    "engagement": {"meta_ads", "linkedin_ads", "tiktok_ads", "youtube_ads"},
    "reach": {"meta_ads", "linkedin_ads", "tiktok_ads", "youtube_ads", "google_ads"},
    "impressions": {"meta_ads", "linkedin_ads", "tiktok_ads", "youtube_ads", "google_ads"},
    "cpm": {"meta_ads", "linkedin_ads", "tiktok_ads", "youtube_ads", "google_ads"},
}
DEFAULT_EMAIL_LIST = 10_000
DEFAULT_SENDS_PER_WEEK = 2.0
NEXT_STEP = 0.10


# -- validation --------------------------------------------------------------------------------------------------
def _validate(body: StrategyGenerate, client: Client, today: dt.date) -> list[FieldProblem]:
    """Every problem at once, each naming its field (a 422 lists them all, never a 500)."""
    problems: list[FieldProblem] = []
    known = {p.value for p in Platform}
    seen: set[str] = set()
    for i, p in enumerate(body.platforms):
        if p not in known:
            problems.append(
                FieldProblem(f"body.platforms.{i}", f"unknown platform '{p}'; known: {sorted(known)}")
            )
        elif p in seen:
            problems.append(FieldProblem(f"body.platforms.{i}", f"'{p}' is listed twice"))
        seen.add(p)
    if body.objective not in OBJECTIVES:
        problems.append(
            FieldProblem("body.objective", f"unknown objective '{body.objective}'; use one of {OBJECTIVES}")
        )
    currency = client.currency
    if body.currency and body.currency != currency:
        problems.append(
            FieldProblem(
                "body.currency", f"plans are made in the client's currency ({currency}), not {body.currency}"
            )
        )
    if not body.budget > 0:
        problems.append(FieldProblem("body.budget", "must be greater than 0"))
    else:
        try:
            check_major_precision(body.budget, currency)
        except MoneyError:
            problems.append(
                FieldProblem(
                    "body.budget",
                    f"has more decimals than {currency} allows ({minor_unit_exponent(currency)})",
                )
            )
    if not 1 <= body.duration_days <= MAX_DURATION_DAYS:
        problems.append(FieldProblem("body.duration_days", f"must be between 1 and {MAX_DURATION_DAYS}"))
    valid_kpis = {k.value for k in Kpi}
    for i, k in enumerate(body.kpis):
        if k not in valid_kpis:
            problems.append(FieldProblem(f"body.kpis.{i}", f"unknown KPI '{k}'; known: {sorted(valid_kpis)}"))
        elif k in KPI_PLATFORMS and not (KPI_PLATFORMS[k] & seen):
            problems.append(
                FieldProblem(
                    f"body.kpis.{i}",
                    f"'{k}' is not measurable on {', '.join(body.platforms)}; it needs one of "
                    f"{', '.join(sorted(KPI_PLATFORMS[k]))}",
                )
            )
    if body.start_date is not None and body.start_date < today:
        problems.append(
            FieldProblem("body.start_date", f"{body.start_date} is in the past (today is {today})")
        )
    try:
        aud.parse_age_range(body.target_audience.demographics.age_range)
    except ValueError as exc:
        problems.append(FieldProblem("body.target_audience.demographics.age_range", str(exc)))
    c = body.constraints
    floor_sum = Decimal(0)
    for p, bound in c.platforms.items():
        where = f"body.constraints.platforms.{p}"
        if p not in seen:
            problems.append(FieldProblem(where, f"'{p}' is not one of the requested platforms"))
            continue
        if bound.min is not None and bound.max is not None and bound.min > bound.max:
            problems.append(FieldProblem(f"{where}.min", f"min {bound.min} exceeds max {bound.max}"))
        if bound.min is not None and p not in c.locked:
            floor_sum += bound.min
    for p, amount in c.locked.items():
        where = f"body.constraints.locked.{p}"
        if p not in seen:
            problems.append(
                FieldProblem(where, f"locked platform '{p}' is not one of the requested platforms")
            )
            continue
        if amount < 0:
            problems.append(FieldProblem(where, "must be 0 or more"))
        bound = c.platforms.get(p)
        if bound is not None and (
            (bound.min is not None and amount < bound.min) or (bound.max is not None and amount > bound.max)
        ):
            problems.append(FieldProblem(where, f"locked at {amount}, outside its own min/max"))
        floor_sum += amount
    if body.budget > 0 and floor_sum > body.budget:
        problems.append(
            FieldProblem(
                "body.constraints",
                f"minimums and locks sum to {floor_sum}, more than the budget {body.budget}",
            )
        )
    if seen and set(c.locked) >= seen and sum(c.locked.values(), Decimal(0)) != body.budget:
        problems.append(
            FieldProblem(
                "body.constraints.locked", "every platform is locked but the locks do not sum to the budget"
            )
        )
    return problems


def _outcome(objective: str, kpis: list[str]) -> str:
    """What the allocator maximizes: revenue for sales (unless only counts are asked for), else the funnel stage
    the objective buys."""
    if objective == "leads":
        return "conversions"
    if objective == "traffic":
        return "clicks"
    if objective == "awareness":
        return "impressions"
    if kpis and not ({"revenue", "roas"} & set(kpis)):
        return "conversions"
    return "revenue"


def _email_capacity(model: rm.ModelledPlatform, sends_per_day: float) -> float:
    """Daily spend that buys ``sends_per_day`` sends under the email model (its posterior-median cost curve)."""
    r = model.response
    a, c = float(r.coef_mean[0]), float(min(r.coef_mean[1], -1e-3))
    return r.spend_ref * (sends_per_day / (math.exp(a) * r.spend_ref)) ** (1 / (1 + c))


# -- the plan ----------------------------------------------------------------------------------------------------
def generate(
    uow: UnitOfWork, principal: Principal, body: StrategyGenerate, *, today: dt.date | None = None
) -> dict[str, Any]:
    from strategist.ml.allocator import InfeasibleBudgetError, allocate

    principal.require_role(Role.ANALYST)
    principal.require_client(body.client_id)
    client = uow.session.scalar(
        select(Client).where(Client.id == body.client_id, Client.deleted_at.is_(None))
    )
    if client is None:
        raise NotFound("client not found")
    today = today or dt.date.today()
    problems = _validate(body, client, today)
    if problems:
        raise ValidationFailed("; ".join(f"{p.field}: {p.reason}" for p in problems), fields=problems)

    currency = client.currency
    digits = minor_unit_exponent(currency)
    platforms = list(body.platforms)
    duration = body.duration_days
    start = body.start_date or today + dt.timedelta(days=1)
    industry_label = (body.industry.value if body.industry else client.industry) or "other"
    objective = rm.benchmark_objective(body.objective)
    bench_industry = rm.benchmark_industry(industry_label)
    kpis = list(dict.fromkeys(body.kpis or list(client.kpis or [])))
    c = body.constraints
    overrides = {}
    if c.email_cost_per_thousand is not None and "email" in platforms:
        overrides["email"] = {"cpm": (float(c.email_cost_per_thousand), 0.25)}

    # -- similar past strategies of this tenant: their results inform the priors where history is short -------
    from strategist.services.similarity import brief_text, embed_text, similar_strategies

    brief = body.brief_dict()
    brief["industry"] = industry_label
    text_ = brief_text(brief)
    similar = [
        _similar_out(s) for s in similar_strategies(uow, text_, client_id=None, k=5, min_similarity=0.3)
    ]

    models = rm.platform_models(
        uow,
        client.id,
        platforms=platforms,
        currency=currency,
        objective=objective,
        industry=bench_industry,
        overrides=overrides,
        today=today,
        similar=similar,
    )

    # -- allocation over daily curves ------------------------------------------------------------------------
    outcome = _outcome(objective, kpis)
    curves = models.curves(outcome)
    revenue_curves = curves if outcome == "revenue" else models.curves("revenue")
    per_day = float(body.budget) / duration
    bounds: dict[str, tuple[float, float]] = {}
    for p, b in c.platforms.items():
        bounds[p] = (float(b.min or 0) / duration, float(b.max) / duration if b.max is not None else math.inf)
    email_list = c.email_list_size or DEFAULT_EMAIL_LIST
    sends_week = c.email_sends_per_week or DEFAULT_SENDS_PER_WEEK
    email_cap: float | None = None
    if "email" in platforms and "email" not in c.locked:
        email_cap = _email_capacity(models.models["email"], email_list * sends_week / 7)
        lo, hi = bounds.get("email", (0.0, math.inf))
        if lo > email_cap * (1 + 1e-9):
            raise ValidationFailed.one(
                "body.constraints.platforms.email.min",
                f"the list of {email_list:,} subscribers at {sends_week:g} sends a week can absorb about "
                f"{email_cap * duration:,.2f} {currency} over the flight; raise constraints.email_list_size",
            )
        bounds["email"] = (lo, min(hi, email_cap))
    locked = {p: float(v) / duration for p, v in c.locked.items()}
    floors = _exploration_floors(models, platforms, c, per_day, bounds, locked)
    for p, floor in floors.items():
        bounds[p] = (max(bounds.get(p, (0.0, math.inf))[0], floor), bounds.get(p, (0.0, math.inf))[1])
    try:
        alloc = allocate(curves, per_day, bounds or None, locked=locked or None)
    except InfeasibleBudgetError as exc:
        field = "body.constraints"
        if email_cap is not None and "upper bounds" in str(exc):
            field = "body.constraints.email_list_size"
        raise ValidationFailed.one(field, f"{exc} (per day; the flight is {duration} days)") from exc

    upper = {p: Decimal(repr(b[1] * duration)) for p, b in bounds.items() if math.isfinite(b[1])}
    budgets = pm.split_exact(
        {p: alloc.spend[p] * duration for p in platforms}, body.budget, currency, fixed=c.locked, upper=upper
    )
    daily, phases = tl.daily_plan(budgets, duration, currency)

    # -- forecast from one set of draws --------------------------------------------------------------------
    sims = pm.simulate(models.responses(), daily)
    total = pm.summarize(sims, platforms)
    by_platform = {p: pm.summarize(sims, [p]) for p in platforms}
    by_week = []
    for w in range(math.ceil(duration / 7)):
        cols = slice(w * 7, min(duration, (w + 1) * 7))
        week = pm.round_summary(pm.summarize(sims, platforms, cols), digits)
        by_week.append(
            {
                "week": w + 1,
                "start_date": (start + dt.timedelta(days=w * 7)).isoformat(),
                "end_date": (start + dt.timedelta(days=min(duration, (w + 1) * 7) - 1)).isoformat(),
                **week,
            }
        )
    roas = total["roas"]
    estimated_roi = round(roas["p50"], 1) if roas["p50"] is not None else None
    roi_interval = [
        round(roas["p10"], 2) if roas["p10"] is not None else None,
        round(roas["p90"], 2) if roas["p90"] is not None else None,
    ]

    # -- marginal returns and the next 10 % ------------------------------------------------------------------
    marginal = {p: float(revenue_curves[p].derivative(daily_avg)) for p, daily_avg in alloc.spend.items()}
    next_step = _next_step(
        curves, revenue_curves, models, per_day, bounds, locked, alloc.spend, duration, currency
    )

    # -- audience, tests, content ------------------------------------------------------------------------------
    imp50 = {p: by_platform[p]["impressions"]["p50"] or 0.0 for p in platforms}
    clk50 = {p: by_platform[p]["clicks"]["p50"] or 0.0 for p in platforms}
    audience = aud.build_audience(
        brief,
        platforms,
        objective,
        imp50,
        clk50,
        email_list if "email" in platforms else None,
        c.email_list_size is None,
    )
    rates = {
        p: {"ctr": math.exp(m.response.ctr.mean), "cvr": math.exp(m.response.cvr.mean)}
        for p, m in models.models.items()
    }
    units = {p: {"impressions": imp50[p] / duration, "clicks": clk50[p] / duration} for p in platforms}
    mde = c.mde or tl.DEFAULT_MDE
    tests = tl.test_plan(
        platforms,
        kpis,
        rates,
        units,
        duration,
        mde,
        {p: m.basis for p, m in models.models.items()},
    )
    content = cnt.build_content(brief, platforms, objective, tests, sends_week)

    allocation = [
        {
            "platform": p,
            "budget": budgets[p],
            "share": round(float(budgets[p] / body.budget), 4),
            "basis": models.models[p].basis,
            "daily_budget": (budgets[p] / duration).quantize(pm.quantum(currency)),
        }
        for p in platforms
    ]
    forecast = {
        "currency": currency,
        "start_date": start.isoformat(),
        "end_date": (start + dt.timedelta(days=duration - 1)).isoformat(),
        "total": pm.round_summary(total, digits),
        "by_platform": {p: pm.round_summary(v, digits) for p, v in by_platform.items()},
        "by_week": by_week,
        "method": f"Monte Carlo over the platform posteriors ({pm.N_DRAWS} draws, fixed seed): parameters drawn "
        "once per draw for the whole flight, fresh day-level noise; ROAS and CPA are per-draw ratios",
    }
    kpi_targets = _kpi_targets(kpis, total, float(body.budget), client, body, digits)

    # -- the assumptions ledger ---------------------------------------------------------------------------------
    assumptions = _assumptions(
        models,
        outcome,
        industry_label,
        bench_industry,
        body,
        email_list,
        sends_week,
        email_cap,
        duration,
        similar,
    )
    if floors:
        assumptions["stated"].append(
            "Exploration floor: "
            + ", ".join(sorted(floors))
            + f" each keep at least {EXPLORATION_SHARE:.0%} of the daily budget, because the response curves are "
            "uncertain (benchmark priors) or close to linear (no saturation in conversions is modelled yet), and "
            "an optimizer on such curves would drop a platform the brief asked for; set "
            "constraints.platforms.<platform>.min to override."
        )
    basis_all = {m.basis.removesuffix("+similar_campaigns") for m in models.models.values()}
    plan_basis = (
        "history"
        if basis_all == {"history"}
        else "benchmark"
        if basis_all == {"benchmark_priors"}
        else "mixed"
    )
    narrative = _narrative(
        uow,
        principal,
        client,
        body,
        currency,
        allocation,
        marginal,
        total,
        plan_basis,
        assumptions,
        kpis,
        next_step,
        tests,
        similar,
    )

    result = {
        "campaign_name": body.campaign_name,
        "objective": body.objective,
        "campaign_type": body.campaign_type,
        "currency": currency,
        "total_budget": body.budget,
        "duration_days": duration,
        "start_date": start.isoformat(),
        "end_date": (start + dt.timedelta(days=duration - 1)).isoformat(),
        "estimated_roi": estimated_roi,
        "estimated_roi_interval": roi_interval,
        "allocation": allocation,
        "forecast": forecast,
        "marginal_roas": {
            "by_platform": {p: round(v, 4) for p, v in marginal.items()},
            "meaning": f"revenue ({currency}) from the next 1 {currency} per day on each platform at the plan",
            "shadow_price": round(alloc.shadow_price, 6),
            "optimized_outcome": outcome,
            "kkt_residual": alloc.kkt_residual,
            "next_10_percent": next_step,
        },
        "audience": audience,
        "timeline": {"phases": phases, "tests": tests},
        "content_strategy": {"platforms": content},
        "kpi_targets": kpi_targets,
        "assumptions": assumptions,
        "similar_strategies": similar,
        "narrative": narrative,
        "basis": plan_basis,
    }
    result = jsonable(result)
    return _persist(uow, principal, client, body, brief, result, content, embed_text(text_), start)


#: Share of the budget every requested platform without its own history keeps, unless the brief sets its own min.
EXPLORATION_SHARE = 0.10


def _exploration_floors(
    models: Any,
    platforms: list[str],
    constraints: Any,
    per_day: float,
    bounds: dict[str, tuple[float, float]],
    locked: dict[str, float],
) -> dict[str, float]:
    """Every platform the brief asks for keeps a floor of 10 % a day unless the brief sets its own min or a lock.

    Why: the allocator equalises marginal returns on *median* curves. With priors alone their levels are uncertain
    by a factor of two or more, and with history the per-platform funnel curve is close to linear in spend
    (diminishing returns in conversions are not modelled yet), so a small gap sends ~100 % to one platform and
    nothing to another the client explicitly chose. The floor keeps the plan learning on every chosen platform;
    constraints.platforms.<p>.min (e.g. 0) or a lock overrides it."""
    floors: dict[str, float] = {}
    for p in platforms:
        if p in locked or (p in constraints.platforms and constraints.platforms[p].min is not None):
            continue
        upper = bounds.get(p, (0.0, math.inf))[1]
        floors[p] = min(EXPLORATION_SHARE * per_day, upper)
    room = (
        per_day
        - sum(locked.values())
        - sum(bounds[p][0] for p in platforms if p not in floors and p in bounds and p not in locked)
    )
    total = sum(floors.values())
    if total > room > 0:  # too many floors for what is left: shrink them together
        floors = {p: f * room / total for p, f in floors.items()}
    elif room <= 0:
        floors = {}
    return floors


def _next_step(
    curves: dict[str, Any],
    revenue_curves: dict[str, Any],
    models: rm.ResponseSet,
    per_day: float,
    bounds: dict[str, tuple[float, float]],
    locked: dict[str, float],
    current: dict[str, float],
    duration: int,
    currency: str,
) -> dict[str, Any]:
    """Re-optimize at 110 % of the budget: where the extra money would go and what it buys (median curves,
    intervals from the curves' parameter draws)."""
    import numpy as np

    from strategist.ml.allocator import InfeasibleBudgetError, allocate

    try:
        more = allocate(curves, per_day * (1 + NEXT_STEP), bounds or None, locked=locked or None)
    except InfeasibleBudgetError as exc:
        return {"feasible": False, "reason": f"no room within the bounds: {exc}"}
    conv = models.curves("conversions")
    extra = {p: (more.spend[p] - current[p]) * duration for p in current}
    out: dict[str, Any] = {"feasible": True, "extra_budget": round(per_day * NEXT_STEP * duration, 2)}
    for metric, cv in (("revenue", revenue_curves), ("conversions", conv)):
        draws = []
        for p in current:
            a, b = cv[p].value_draws(more.spend[p]), cv[p].value_draws(current[p])
            if a is not None and b is not None:
                draws.append((a - b) * duration)
        if draws:
            tot = np.sum(draws, axis=0)
            q = np.quantile(tot, [0.1, 0.5, 0.9])
            out[f"extra_{metric}"] = {"p10": float(q[0]), "p50": float(q[1]), "p90": float(q[2])}
    out["extra_budget_by_platform"] = {p: round(v, 2) for p, v in extra.items()}
    out["best_platform"] = max(extra, key=lambda p: extra[p])
    rev = out.get("extra_revenue")
    if rev and out["extra_budget"] > 0:
        out["incremental_roas_p50"] = round(rev["p50"] / out["extra_budget"], 3)
    out["currency"] = currency
    return out


def _kpi_targets(
    kpis: list[str], total: dict[str, Any], budget: float, client: Client, body: StrategyGenerate, digits: int
) -> list[dict[str, Any]]:
    """Targets are the forecast p50 (with the p10-p90 band); the client's goals and the brief's targets are
    compared to them so an unreachable goal is visible before launch."""
    from strategist.domain.clients import LOWER_IS_BETTER

    def ratio(num: str, den: str, scale: float = 1.0) -> dict[str, float | None]:
        n, d = total[num]["p50"], total[den]["p50"]
        return {"p10": None, "p50": (n / d * scale) if n and d else None, "p90": None}

    spend = {"p10": budget, "p50": budget, "p90": budget}
    values = {
        "spend": spend,
        "impressions": total["impressions"],
        "clicks": total["clicks"],
        "conversions": total["conversions"],
        "leads": total["conversions"],
        "revenue": total["revenue"],
        "roas": total["roas"],
        "cpa": total["cpa"],
        "cpl": total["cpa"],
        "ctr": ratio("clicks", "impressions"),
        "cpc": {
            "p10": None,
            "p50": budget / total["clicks"]["p50"] if total["clicks"]["p50"] else None,
            "p90": None,
        },
        "cpm": {
            "p10": None,
            "p50": budget / total["impressions"]["p50"] * 1000 if total["impressions"]["p50"] else None,
            "p90": None,
        },
    }
    goals = dict(client.goals or {})
    if body.target_roas is not None:
        goals["roas"] = float(body.target_roas)
    if body.target_cpa is not None:
        goals["cpa"] = float(body.target_cpa)
    out = []
    for k in kpis:
        if k not in FORECAST_KPIS:
            out.append(
                {"kpi": k, "target": None, "note": "not forecast: the funnel model does not predict it"}
            )
            continue
        v = values[k]
        item: dict[str, Any] = {
            "kpi": k,
            "target": round(v["p50"], 4) if v["p50"] is not None else None,
            "interval": [
                round(v["p10"], 4) if v["p10"] is not None else None,
                round(v["p90"], 4) if v["p90"] is not None else None,
            ],
            "over": "flight",
        }
        if k in goals and v["p50"] is not None:
            goal = float(goals[k])
            lower = Kpi(k) in LOWER_IS_BETTER
            meets = v["p50"] <= goal if lower else v["p50"] >= goal
            item["goal"] = goal
            item["goal_source"] = (
                "brief" if k in {"roas", "cpa"} and getattr(body, f"target_{k}", None) else "client"
            )
            item["forecast_meets_goal"] = meets
            item["goal_comparison"] = ("at most " if lower else "at least ") + f"{goal:g}"
        out.append(item)
    return out


def _similar_out(s: Any) -> dict[str, Any]:
    return {
        "strategy_id": s.strategy_id,
        "client_id": s.client_id,
        "name": s.name,
        "similarity": round(float(s.similarity), 4),
        "created_at": s.created_at,
        "platforms": list(s.platforms or []),
        "objective": s.objective,
        "results": s.results,
    }


def _assumptions(
    models: rm.ResponseSet,
    outcome: str,
    industry_label: str,
    bench_industry: str,
    body: StrategyGenerate,
    email_list: int,
    sends_week: float,
    email_cap: float | None,
    duration: int,
    similar: list[dict[str, Any]],
) -> dict[str, Any]:
    """Everything the figures rest on: each benchmark with source and date, each model, each stated guess."""
    benchmarks = [f for m in models.models.values() for f in rm.prior_facts(m.prior)]
    models_used = [
        {
            "name": f"{p}: per-platform funnel response (strategist.ml.curves.fit_platform_response)",
            "basis": m.basis,
            "history_days": m.n_days,
            "data_through": m.data_through,
            "cached_fit": m.cached,
            "spend_elasticity_of_impressions": round(m.response.elasticity, 4),
            # conversions and revenue grow as spend ** e: below 1, each extra unit of spend buys less
            "spend_elasticity_of_conversions": round(m.response.conversion_elasticity[0], 4),
            "spend_elasticity_of_conversions_sd": round(m.response.conversion_elasticity[1], 4),
            "ctr": round(math.exp(m.response.ctr.mean), 6),
            "cvr": round(math.exp(m.response.cvr.mean), 6),
            "aov": round(math.exp(m.response.aov.mean), 2),
        }
        for p, m in models.models.items()
    ]
    models_used += [
        {
            "name": "allocator (strategist.ml.allocator.allocate): equal marginal returns under bounds and locks",
            "maximizes": f"daily {outcome}",
        },
        {"name": "forecast: Monte Carlo over the posteriors", "draws": pm.N_DRAWS, "seed": pm.SEED},
        {"name": "A/B sample sizes: two-proportion power calculation", "alpha": tl.ALPHA, "power": tl.POWER},
    ]
    stated = [
        "estimated_roi is ROAS (revenue / spend) over the flight at p50, as the brief's 'N.Nx' reads it",
        f"industry '{industry_label}' uses the benchmark rows for '{bench_industry}'",
        f"objective '{body.objective}' uses the benchmark rows for '{models.objective}'",
        f"phase pacing weights {tl.PHASE_WEIGHTS} (learning below average pace, scale above)",
        "revenue = conversions x average order value (AOV prior or the client's own)",
    ]
    if "email" in models.models:
        stated.append(
            f"email cost model: cost per 1,000 sends (median {models.models['email'].prior.get('cpm').median:.2f} "
            f"{models.currency}; default USD {rm.EMAIL_COST_PER_THOUSAND_USD:g} converted, ESP fees plus a production "
            "share) -- override with constraints.email_cost_per_thousand"
        )
        stated.append(
            f"email list {email_list:,} subscribers x {sends_week:g} sends a week"
            + (
                " (assumed; set constraints.email_list_size)"
                if body.constraints.email_list_size is None
                else ""
            )
            + (
                f": email can absorb at most {email_cap * duration:,.2f} {models.currency} over the flight"
                if email_cap
                else ""
            )
        )
    if models.fx_note:
        stated.append(models.fx_note)
    stated.extend(models.prior_notes)
    used: dict[str, dict[str, Any]] = {}
    for p, m in models.models.items():
        for st in m.similar.get("strategies", []):
            entry = used.setdefault(st["strategy_id"], {**st, "platforms": {}})
            entry.pop("days", None)
            entry.pop("pseudo_observations", None)
            entry["platforms"][p] = {
                "days": st["days"],
                "pseudo_observations": st["pseudo_observations"],
                "metrics": [
                    {k: v for k, v in x.items() if k != "strategies"}
                    for x in m.similar["metrics"]
                    if st["strategy_id"] in x["strategies"]
                ],
            }
    if used:
        stated.append(
            "similar past campaigns of this agency move the priors of "
            + ", ".join(p for p, m in models.models.items() if m.similar)
            + f": each is worth similarity x min(1, days/{rm.SIMILAR_FULL_DAYS}) observations (at most "
            f"{rm.SIMILAR_MAX_N:g} in all), transfer log-sd {rm.SIMILAR_TRANSFER_LOG_SD} between campaigns, "
            "combined with the benchmark prior by precision (weight = the evidence's share)"
        )
    return {
        "benchmarks": benchmarks,
        "models": models_used,
        "stated": stated,
        "similar_strategies_used": list(used.values()),
        "similar_strategies_considered": [
            {
                "strategy_id": s["strategy_id"],
                "name": s["name"],
                "similarity": s["similarity"],
                "has_results": bool(s["results"]),
            }
            for s in similar
        ],
        "similar_strategies_note": (
            "past strategies with results on a platform where this client has under "
            f"{rm.HISTORY_MIN_DAYS} days of its own history inform that platform's prior (see "
            "similar_strategies_used); the others are listed for reference"
        ),
    }


def _interval(d: dict[str, float | None]) -> dict[str, float] | None:
    if any(d.get(k) is None for k in ("p10", "p50", "p90")):
        return None
    return {k: float(d[k]) for k in ("p10", "p50", "p90")}  # type: ignore[arg-type]


def _narrative(
    uow: UnitOfWork,
    principal: Principal,
    client: Client,
    body: StrategyGenerate,
    currency: str,
    allocation: list[dict[str, Any]],
    marginal: dict[str, float],
    total: dict[str, Any],
    basis: str,
    assumptions: dict[str, Any],
    kpis: list[str],
    next_step: dict[str, Any],
    tests: list[dict[str, Any]],
    similar: list[dict[str, Any]],
) -> dict[str, Any]:
    from strategist import bootstrap
    from strategist.adapters.llm import get_writer

    forecast = {
        m: _interval(total[m]) for m in ("conversions", "revenue", "roas", "cpa", "clicks", "impressions")
    }
    facts: dict[str, Any] = {
        "client_name": client.name,
        "campaign_name": body.campaign_name,
        "objective": body.objective,
        "campaign_type": body.campaign_type,
        "budget": body.budget,
        "currency": currency,
        "duration_days": body.duration_days,
        "allocation": [
            {
                "platform": a["platform"],
                "budget": a["budget"],
                "share": a["share"],
                "basis": a["basis"],
                "marginal_roas": round(marginal[a["platform"]], 4),
            }
            for a in allocation
        ],
        "forecast": {k: v for k, v in forecast.items() if v is not None},
        "basis": basis,
        "assumptions": assumptions["stated"],
        "kpis": kpis,
    }
    if next_step.get("feasible") and next_step.get("extra_budget"):
        facts["next_step"] = {
            "share_of_budget": NEXT_STEP,
            "amount": Decimal(str(next_step["extra_budget"])),
            "best_platform": next_step["best_platform"],
            "revenue": next_step.get("extra_revenue"),
            "conversions": next_step.get("extra_conversions"),
        }
    if tests:
        t = tests[0]
        facts["first_test"] = {
            "name": t["test"],
            "platform": t["platform"],
            "metric": t["metric"],
            "sample_size_per_arm": t["sample_size_per_arm"],
            "duration_days": t["days_needed"],
        }
    facts["similar_campaigns"] = [
        {"name": s["name"], "similarity": max(0.0, min(1.0, s["similarity"]))} for s in similar
    ]
    if any(facts["forecast"].get(k) is None for k in ("conversions", "revenue", "roas", "cpa")):
        return {"text": None, "writer": None, "reason": "the forecast has no finite ROAS/CPA to write about"}
    from strategist.services.llm_usage import PostgresLlmUsage

    # the monthly token cap is enforced per tenant inside this transaction (RLS scopes the usage row)
    res = get_writer(bootstrap.settings()).write(
        kind="strategy", facts=facts, tenant_id=principal.tenant_id, usage=PostgresLlmUsage(uow)
    )
    return {
        "text": res.text,
        "writer": res.writer,
        "model": res.model,
        "fell_back": res.fell_back,
        "reason": res.reason,
        "prompt_version": res.prompt_version,
    }


# -- storage -----------------------------------------------------------------------------------------------------
def _persist(
    uow: UnitOfWork,
    principal: Principal,
    client: Client,
    body: StrategyGenerate,
    brief: dict[str, Any],
    result: dict[str, Any],
    content: dict[str, dict[str, Any]],
    embedding: list[float],
    start: dt.date,
) -> dict[str, Any]:
    """A new version: the same client + campaign name continues that lineage (version n+1), else a new one."""
    prev = uow.session.execute(
        select(MarketingStrategy.lineage_id, func.max(MarketingStrategy.version))
        .where(MarketingStrategy.client_id == client.id, MarketingStrategy.name == body.campaign_name)
        .group_by(MarketingStrategy.lineage_id)
        .order_by(func.max(MarketingStrategy.created_at).desc())
        .limit(1)
    ).first()
    lineage, version = (prev[0], prev[1] + 1) if prev else (uuid.uuid4(), 1)
    row = MarketingStrategy(
        id=uuid.uuid4(),
        tenant_id=principal.tenant_id,
        client_id=client.id,
        lineage_id=lineage,
        version=version,
        name=body.campaign_name,
        objective=body.objective,
        campaign_type=body.campaign_type,
        status="draft",
        currency=client.currency,
        total_budget=body.budget,
        duration_days=body.duration_days,
        start_date=start,
        platforms=list(body.platforms),
        estimated_roi=Decimal(str(result["estimated_roi"])) if result["estimated_roi"] is not None else None,
        brief=jsonable(brief),
        result=result,
        embedding=embedding,
        created_by=principal.user_id,
    )
    uow.session.add(row)
    uow.session.flush()
    for p, block in content.items():
        uow.session.add(
            ContentStrategy(
                tenant_id=principal.tenant_id, strategy_id=row.id, platform=p, content=jsonable(block)
            )
        )
    uow.session.flush()
    uow.session.refresh(row)
    uow.audit(
        "strategy.generate",
        "marketing_strategy",
        row.id,
        after={"client_id": client.id, "lineage_id": lineage, "version": version, "budget": body.budget},
    )
    uow.emit(
        "strategy.generated",
        {
            "strategy_id": row.id,
            "client_id": client.id,
            "lineage_id": lineage,
            "version": version,
            "estimated_roi": result["estimated_roi"],
        },
    )
    return strategy_out(uow, row, with_versions=True)


def strategy_out(uow: UnitOfWork, row: MarketingStrategy, with_versions: bool = False) -> dict[str, Any]:
    versions: list[dict[str, Any]] = []
    if with_versions:
        versions = [
            {"id": v.id, "version": v.version, "created_at": v.created_at, "estimated_roi": v.estimated_roi}
            for v in uow.session.scalars(
                select(MarketingStrategy)
                .where(MarketingStrategy.lineage_id == row.lineage_id)
                .order_by(MarketingStrategy.version)
            )
        ]
    r = row.result
    return {
        "id": row.id,
        "client_id": row.client_id,
        "lineage_id": row.lineage_id,
        "version": row.version,
        "name": row.name,
        "campaign_name": row.name,
        "objective": row.objective,
        "status": row.status,
        "currency": row.currency,
        "total_budget": row.total_budget,
        "duration_days": row.duration_days,
        "start_date": row.start_date,
        "end_date": r.get("end_date"),
        "platforms": list(row.platforms),
        "estimated_roi": r.get("estimated_roi"),
        "estimated_roi_interval": r.get("estimated_roi_interval", [None, None]),
        "allocation": r["allocation"],
        "forecast": r["forecast"],
        "marginal_roas": r["marginal_roas"],
        "audience": r["audience"],
        "timeline": r["timeline"],
        "content_strategy": r["content_strategy"],
        "kpi_targets": r["kpi_targets"],
        "assumptions": r["assumptions"],
        "similar_strategies": r["similar_strategies"],
        "narrative": r["narrative"],
        "versions": versions,
        "created_at": row.created_at,
    }


# -- reading -----------------------------------------------------------------------------------------------------
def get_strategy(uow: UnitOfWork, principal: Principal, strategy_id: uuid.UUID) -> MarketingStrategy:
    """404 for another tenant's (RLS hides it) or another client's (a viewer must not learn it exists)."""
    row = uow.session.get(MarketingStrategy, strategy_id)
    if row is None or not principal.can_see_client(row.client_id):
        raise NotFound("strategy not found")
    return row


def list_strategies(
    uow: UnitOfWork, principal: Principal, query: StrategyListQuery
) -> tuple[list[MarketingStrategy], str | None]:
    stmt = select(MarketingStrategy)
    stmt = visible_to(stmt, MarketingStrategy.client_id, principal, query.client_id)
    return keyset_page(
        uow.session, stmt, MarketingStrategy, limit=query.limit, cursor=query.cursor, newest_first=True
    )


def create_campaigns(uow: UnitOfWork, principal: Principal, strategy_id: uuid.UUID) -> dict[str, Any]:
    """One tracked campaign per allocated platform, status 'draft', keyed by external_id 'plan-<strategy id>' so
    a second call finds them instead of duplicating (the unique index is per tenant/client/platform/external_id)."""
    principal.require_role(Role.ANALYST)
    row = get_strategy(uow, principal, strategy_id)
    external = f"plan-{row.id}"
    existing = {
        c.platform: c
        for c in uow.session.scalars(
            select(Campaign).where(Campaign.client_id == row.client_id, Campaign.external_id == external)
        )
    }
    r = row.result
    start = dt.date.fromisoformat(r["start_date"]) if r.get("start_date") else row.start_date
    end = dt.date.fromisoformat(r["end_date"]) if r.get("end_date") else None
    created = []
    for a in r["allocation"]:
        p = a["platform"]
        if p in existing:
            continue
        camp = Campaign(
            id=uuid.uuid4(),
            tenant_id=principal.tenant_id,
            client_id=row.client_id,
            platform=p,
            external_id=external,
            name=f"{row.name} - {p}",
            status="draft",
            raw_status="planned from strategy",
            objective=row.objective,
            budget_amount=Decimal(str(a["budget"])),
            budget_type="lifetime",
            currency=row.currency,
            start_date=start,
            end_date=end,
            strategy_id=row.id,
        )
        uow.session.add(camp)
        created.append(camp)
        existing[p] = camp
    uow.session.flush()
    if created:
        uow.audit(
            "strategy.campaigns_create",
            "marketing_strategy",
            row.id,
            after={
                "campaigns": [
                    {"id": c.id, "platform": c.platform, "budget": c.budget_amount} for c in created
                ]
            },
        )
        uow.emit(
            "strategy.campaigns_created", {"strategy_id": row.id, "campaign_ids": [c.id for c in created]}
        )
    order = [a["platform"] for a in r["allocation"]]
    return {
        "strategy_id": row.id,
        "created": len(created),
        "campaigns": [existing[p] for p in order if p in existing],
    }
