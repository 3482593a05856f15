"""Budget optimization over a client's running campaigns or platforms (issue 5).

Current split: the last 30 complete days' actual spend rate. Proposed split: the allocator over the client's
fitted curves (history shrunk toward benchmarks), in one of four modes. Both splits are forecast from the same
simulated draws (common random numbers), so the uplift interval is a per-draw difference, not a difference of
quantiles. The proposal is stored with status "proposed": nothing changes on any platform until the approval
flow of the optimization issue applies it (budget raises need a human, what-users-ask item 7).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select

from strategist.adapters.db.models import BudgetOptimization, Campaign, Client
from strategist.adapters.db.paging import keyset_page
from strategist.adapters.db.uow import UnitOfWork, jsonable
from strategist.domain.auth import Principal, Role
from strategist.domain.errors import FieldProblem, NotFound, ValidationFailed
from strategist.domain.money import minor_unit_exponent
from strategist.http.schemas.budget import BudgetListQuery, BudgetOptimize
from strategist.services import response_models as rm
from strategist.services.clients import visible_to
from strategist.services.strategy import plan_math as pm

CURRENT_WINDOW_DAYS = 30
APPLY_NOTE = (
    "proposal only: nothing has changed on any platform; the change list is applied through the approval flow "
    "of campaign optimization (status proposed -> approved -> applied)"
)


def _items(
    uow: UnitOfWork, client: Client, level: str, today: dt.date
) -> tuple[dict[str, str], dict[str, str], dict[str, float]]:
    """Running items: active campaigns (not ended) with spend in the last 30 days, per platform or campaign.
    Returns item -> platform, item -> display name, item -> spend over the window."""
    camps = list(
        uow.session.scalars(
            select(Campaign).where(
                Campaign.client_id == client.id,
                Campaign.status == "active",
                or_(Campaign.end_date.is_(None), Campaign.end_date >= today),
            )
        )
    )
    spend = rm.recent_spend(
        uow, client.id, currency=client.currency, by=level, days=CURRENT_WINDOW_DAYS, today=today
    )
    platform_of: dict[str, str] = {}
    names: dict[str, str] = {}
    for c in camps:
        key = c.platform if level == "platform" else str(c.id)
        if spend.get(key, 0) > 0:
            platform_of[key] = c.platform
            names[key] = c.platform if level == "platform" else c.name
    return platform_of, names, {k: spend[k] for k in platform_of}


def _solve_with_ratio_ranges(solve: Any, body: BudgetOptimize) -> tuple[Any, list[dict[str, Any]]]:
    """Optimum under ratio *ranges* with an allocator that takes exact ratios.

    Why this works: the objective is concave and a ratio range is two linear constraints, so if the optimum
    without a range violates it, the optimum with it lies on the violated end. Ranges with min == max are pinned
    from the start; then, pass by pass, every range the current optimum violates is pinned at its nearer end
    and the problem re-solved (an active-set method; a pinned range is never released, which is exact for one
    range and for ranges on disjoint items). A result still outside a range raises InfeasibleBudgetError."""
    from strategist.ml.allocator import InfeasibleBudgetError

    ranges = [
        (r.numerator, r.denominator, float(r.min) if r.min else 0.0, float(r.max) if r.max else math.inf)
        for r in body.ratios
    ]
    fixed: dict[tuple[str, str], float] = {(a, b): lo for a, b, lo, hi in ranges if lo == hi}
    for _ in range(len(ranges) + 1):
        alloc = solve(fixed)
        violated = False
        for a, b, lo, hi in ranges:
            if (a, b) in fixed:
                continue
            sa, sb = alloc.spend[a], alloc.spend[b]
            if sb <= 0:
                if sa > 0 and math.isfinite(hi):
                    fixed[(a, b)] = hi
                    violated = True
                continue
            ratio = sa / sb
            if ratio < lo * (1 - 1e-9):
                fixed[(a, b)], violated = lo, True
            elif ratio > hi * (1 + 1e-9):
                fixed[(a, b)], violated = hi, True
        if not violated:
            break
    report = []
    for i, (a, b, lo, hi) in enumerate(ranges):
        sa, sb = alloc.spend[a], alloc.spend[b]
        ratio = sa / sb if sb > 0 else (math.inf if sa > 0 else None)
        if ratio is not None and not lo * (1 - 1e-6) <= ratio <= hi * (1 + 1e-6):
            raise InfeasibleBudgetError(
                f"ratio {i} ({a}/{b} in [{lo:g}, {hi:g}]) cannot hold with the other bounds and ratios "
                f"(best found {ratio:g})"
            )
        report.append(
            {
                "numerator": a,
                "denominator": b,
                "min": lo or None,
                "max": hi if math.isfinite(hi) else None,
                "proposed_ratio": round(ratio, 6) if ratio is not None and math.isfinite(ratio) else None,
                "binding": (a, b) in fixed,
            }
        )
    return alloc, report


#: Items without a bound stay within this band around their current spend rate (scaled to a new total).
TRUST_BAND = (0.5, 1.5)


def _trust_region(
    items: list[str],
    current: dict[str, float],
    bounds: dict[str, tuple[float, float]],
    locked: dict[str, float],
    cap: float | None,
) -> dict[str, tuple[float, float]]:
    """Default bounds of 0.5x-1.5x the current spend rate for items the request leaves free.

    Why: the curves are fitted on spend near today's levels; far from them they extrapolate (and the funnel curve
    is close to linear in spend), so an unbounded optimizer proposes moving everything to one item. The same band
    is the default of pymc-marketing's and Robyn's budget optimizers. Only applied when it leaves the total
    reachable; explicit bounds and locks always win."""
    free = [k for k in items if k not in bounds and k not in locked and current.get(k, 0.0) > 0]
    if not free:
        return {}
    scale = 1.0
    if cap is not None:
        current_free = sum(current[k] for k in free)
        fixed = sum(locked.values()) + sum(
            current[k] for k in items if k not in free and k not in locked and k not in bounds
        )
        bounded = sum(b[0] for b in bounds.values())
        room = cap - fixed - bounded
        if current_free <= 0 or room <= 0:
            return {}
        scale = room / current_free
    lo, hi = TRUST_BAND
    proposal = {k: (lo * scale * current[k], hi * scale * current[k]) for k in free}
    if cap is not None:
        mins = (
            sum(v[0] for v in proposal.values()) + sum(b[0] for b in bounds.values()) + sum(locked.values())
        )
        maxes = (
            sum(v[1] for v in proposal.values()) + sum(b[1] for b in bounds.values()) + sum(locked.values())
        )
        if not (mins <= cap <= maxes):
            return {}
    return proposal


def _field_for(message: str) -> str:
    m = re.search(r"^ratio (\d+) ", message)
    if m:
        return f"body.ratios.{m.group(1)}"
    if message.startswith("ratio ") or "ratio-tied" in message:
        return "body.ratios"
    m = re.search(r"channel '([^']+)'", message)
    if m:
        return f"body.bounds.{m.group(1)}" if "locked" not in message else f"body.locked.{m.group(1)}"
    if "target" in message:
        return "body.target"
    if "upper bounds" in message:
        return "body.total_budget"
    return "body.bounds"


def optimize(
    uow: UnitOfWork, principal: Principal, body: BudgetOptimize, *, today: dt.date | None = None
) -> dict[str, Any]:
    from strategist.ml.allocator import (
        InfeasibleBudgetError,
        allocate,
        allocate_for_target,
        min_budget_for_outcome,
    )

    principal.require_role(Role.ANALYST)
    principal.require_client(body.client_id)
    client = uow.session.scalar(
        select(Client).where(Client.id == body.client_id, Client.deleted_at.is_(None))
    )
    if client is None:
        raise NotFound("client not found")
    today = today or dt.date.today()
    currency = client.currency
    period = body.period_days

    problems: list[FieldProblem] = []
    if body.mode == "max_outcome" and body.total_budget is None:
        problems.append(FieldProblem("body.total_budget", "required for mode max_outcome"))
    if body.mode != "max_outcome" and body.target is None:
        problems.append(FieldProblem("body.target", f"required for mode {body.mode}"))
    platform_of, names, spend30 = _items(uow, client, body.level, today)
    if not platform_of:
        problems.append(
            FieldProblem(
                "body.client_id", "the client has no active campaigns with spend in the last 30 days"
            )
        )
    for k, b in body.bounds.items():
        if k not in platform_of:
            problems.append(
                FieldProblem(f"body.bounds.{k}", f"'{k}' is not a running {body.level} of this client")
            )
        elif b.min is not None and b.max is not None and b.min > b.max:
            problems.append(FieldProblem(f"body.bounds.{k}.min", f"min {b.min} exceeds max {b.max}"))
    for k in body.locked:
        if k not in platform_of:
            problems.append(
                FieldProblem(f"body.locked.{k}", f"'{k}' is not a running {body.level} of this client")
            )
    for i, r in enumerate(body.ratios):
        where = f"body.ratios.{i}"
        for side in ("numerator", "denominator"):
            if getattr(r, side) not in platform_of:
                problems.append(
                    FieldProblem(
                        f"{where}.{side}",
                        f"'{getattr(r, side)}' is not a running {body.level} of this client",
                    )
                )
        if r.numerator == r.denominator:
            problems.append(FieldProblem(f"{where}.denominator", "must differ from the numerator"))
        if r.min is None and r.max is None:
            problems.append(FieldProblem(where, "give min, max or both"))
        elif r.min is not None and r.max is not None and r.min > r.max:
            problems.append(FieldProblem(f"{where}.min", f"min {r.min} exceeds max {r.max}"))
    if problems:
        raise ValidationFailed("; ".join(f"{p.field}: {p.reason}" for p in problems), fields=problems)

    objective = "conversions"
    industry = rm.benchmark_industry(client.industry)
    if body.level == "platform":
        models = rm.platform_models(
            uow,
            client.id,
            platforms=sorted(platform_of),
            currency=currency,
            objective=objective,
            industry=industry,
            today=today,
        )
    else:
        models = rm.campaign_models(
            uow,
            client.id,
            campaigns=dict(sorted(platform_of.items())),
            currency=currency,
            objective=objective,
            industry=industry,
            today=today,
        )
    items = list(models.models)
    current = {k: spend30[k] / CURRENT_WINDOW_DAYS for k in items}
    bounds = {
        k: (float(b.min or 0) / period, float(b.max) / period if b.max is not None else math.inf)
        for k, b in body.bounds.items()
    }
    locked = {k: (float(v) / period if v is not None else current[k]) for k, v in body.locked.items()}
    outcome = {"target_roas": "revenue", "target_cpa": "conversions"}.get(body.mode, body.outcome)
    curves = models.curves(outcome)
    cap = float(body.total_budget) / period if body.total_budget is not None else None
    trust = _trust_region(items, current, bounds, locked, cap)
    bounds.update(trust)

    def solve(fixed: dict[tuple[str, str], float]) -> Any:
        ratios = fixed or None
        if body.mode == "max_outcome":
            return allocate(
                curves, cap, bounds or None, locked=locked or None, ratios=ratios, current=current
            )  # type: ignore[arg-type]
        if body.mode == "target_roas":
            return allocate_for_target(
                curves, target_roas=float(body.target), max_total=cap, bounds=bounds or None,
                locked=locked or None, ratios=ratios, current=current,
            )  # fmt: skip
        if body.mode == "target_cpa":
            return allocate_for_target(
                curves, target_cpa=float(body.target), max_total=cap, bounds=bounds or None,
                locked=locked or None, ratios=ratios, current=current,
            )  # fmt: skip
        return min_budget_for_outcome(
            curves, float(body.target) / period, max_total=cap, bounds=bounds or None,
            locked=locked or None, ratios=ratios, current=current,
        )  # fmt: skip

    try:
        alloc, ratio_report = _solve_with_ratio_ranges(solve, body)
    except InfeasibleBudgetError as exc:
        raise ValidationFailed.one(
            _field_for(str(exc)), f"{exc} (amounts per day over {period} days)"
        ) from exc

    q = pm.quantum(currency)
    fixed = {
        k: (
            Decimal(body.locked[k]).quantize(q)
            if body.locked[k] is not None
            else Decimal(repr(current[k] * period)).quantize(q)
        )
        for k in body.locked
    }
    proposed_total = (
        body.total_budget
        if body.mode == "max_outcome" and body.total_budget is not None
        else Decimal(repr(alloc.total * period)).quantize(q)
    )
    upper = {k: Decimal(repr(b[1] * period)) for k, b in bounds.items() if math.isfinite(b[1])}
    proposed = pm.split_exact(
        {k: alloc.spend[k] * period for k in items}, proposed_total, currency, fixed, upper
    )
    cur_amounts = {k: Decimal(repr(current[k] * period)).quantize(q) for k in items}

    # forecasts of both splits from the same draws, and the per-draw uplift
    import numpy as np

    responses = models.responses()
    sim_cur = pm.simulate(responses, {k: [float(cur_amounts[k]) / period] * period for k in items})
    sim_new = pm.simulate(responses, {k: [float(proposed[k]) / period] * period for k in items})
    digits = minor_unit_exponent(currency)
    cur_sum = pm.summarize(sim_cur, items)
    new_sum = pm.summarize(sim_new, items)

    def total_of(sim: dict[str, dict[str, Any]], metric: str) -> Any:
        return sum(np.asarray(sim[k][metric]).sum(axis=1) for k in items)

    diff = total_of(sim_new, outcome) - total_of(sim_cur, outcome)
    base = total_of(sim_cur, outcome)
    uplift = pm.quantiles(diff)
    with np.errstate(divide="ignore", invalid="ignore"):
        uplift_pct = pm.quantiles(np.where(base > 0, diff / base, np.nan))

    revenue_curves = curves if outcome == "revenue" else models.curves("revenue")
    marginal = {k: round(float(revenue_curves[k].derivative(float(proposed[k]) / period)), 4) for k in items}
    changes = []
    for k in items:
        delta = proposed[k] - cur_amounts[k]
        changes.append(
            {
                "item": k,
                "name": names[k],
                "platform": platform_of[k],
                "current": cur_amounts[k],
                "proposed": proposed[k],
                "delta": delta,
                "delta_pct": round(float(delta / cur_amounts[k]) * 100, 2) if cur_amounts[k] else None,
                "marginal_roas": marginal[k],
                "locked": k in body.locked,
                "basis": models.models[k].basis,
            }
        )
    basis_all = {m.basis for m in models.models.values()}
    basis = (
        "history"
        if basis_all == {"history"}
        else "benchmark"
        if basis_all == {"benchmark_priors"}
        else "mixed"
    )
    assumptions = {
        "current_split": f"actual spend over the last {CURRENT_WINDOW_DAYS} complete days, as a daily rate",
        "models": [
            {
                "item": k,
                "basis": m.basis,
                "history_days": m.n_days,
                "data_through": m.data_through,
                "cached_fit": m.cached,
            }
            for k, m in models.models.items()
        ],
        "benchmarks": [f for m in models.models.values() for f in rm.prior_facts(m.prior)],
        "optimized_outcome": outcome,
        "ratios": ratio_report,
        "forecast": f"{pm.N_DRAWS} draws, seed {pm.SEED}; both splits use the same draws",
        "fx": models.fx_note,
        "trust_region": (
            {
                "band": list(TRUST_BAND),
                "items": sorted(trust),
                "why": "items without a bound stay within this band of their current spend rate (scaled to the "
                "new total): the curves are fitted near today's spend and extrapolate beyond it; pass bounds to "
                "override",
            }
            if trust
            else None
        ),
    }
    result = {
        "mode": body.mode,
        "level": body.level,
        "period_days": period,
        "currency": currency,
        "current": {
            "total": sum(cur_amounts.values(), Decimal(0)),
            "items": {k: cur_amounts[k] for k in items},
            "outcome": pm.round_summary(cur_sum, digits),
        },
        "proposed": {
            "total": proposed_total,
            "items": {k: proposed[k] for k in items},
            "outcome": pm.round_summary(new_sum, digits),
            "kkt_residual": alloc.kkt_residual,
        },
        "changes": changes,
        "marginal_roas": marginal,
        "uplift": {
            "metric": outcome,
            "absolute": pm.rounded(uplift, digits),
            "relative": pm.rounded(uplift_pct, 4),
        },
        "assumptions": assumptions,
        "apply": APPLY_NOTE,
    }
    result["narrative"] = _narrative(
        uow, principal, client, body, result, cur_sum, new_sum, uplift, uplift_pct, outcome, basis
    )
    row = BudgetOptimization(
        id=uuid.uuid4(),
        tenant_id=principal.tenant_id,
        client_id=client.id,
        mode=body.mode,
        currency=currency,
        total_budget=proposed_total,
        status="proposed",
        request=jsonable(body.model_dump(mode="json", exclude={"tenant_id"})),
        result=jsonable(result),
        created_by=principal.user_id,
    )
    uow.session.add(row)
    uow.session.flush()
    uow.session.refresh(row)
    uow.audit(
        "budget.optimize", "budget_optimization", row.id, after={"mode": body.mode, "total": proposed_total}
    )
    uow.emit("budget.optimization_proposed", {"optimization_id": row.id, "client_id": client.id})
    return optimization_out(row)


def _narrative(
    uow: UnitOfWork,
    principal: Principal,
    client: Client,
    body: BudgetOptimize,
    result: dict[str, Any],
    cur: dict[str, Any],
    new: dict[str, Any],
    uplift: dict[str, Any],
    uplift_pct: dict[str, Any],
    outcome: str,
    basis: str,
) -> dict[str, Any]:
    from strategist import bootstrap
    from strategist.adapters.llm import get_writer

    metric = outcome if outcome in {"revenue", "conversions"} else "revenue"
    iv = [cur[metric], new[metric], uplift]
    if any(v.get(k) is None for v in iv for k in ("p10", "p50", "p90")):
        return {"text": None, "writer": None, "reason": "no finite outcome interval to write about"}
    cur_total = result["current"]["total"]
    new_total = result["proposed"]["total"]
    facts = {
        "client_name": client.name,
        "currency": client.currency,
        "mode": body.mode,
        "outcome_metric": metric,
        "current_total": cur_total,
        "proposed_total": new_total,
        "period_days": body.period_days,
        "items": [
            {
                "name": c["name"],
                "current_budget": c["current"],
                "proposed_budget": c["proposed"],
                "current_share": float(c["current"] / cur_total) if cur_total else None,
                "proposed_share": float(c["proposed"] / new_total) if new_total else None,
                "marginal_roas": c["marginal_roas"],
                "locked": c["locked"],
            }
            for c in result["changes"]
        ],
        "current_outcome": cur[metric],
        "proposed_outcome": new[metric],
        "uplift": uplift,
        "target": float(body.target)
        if body.target is not None and body.mode in {"target_roas", "target_cpa"}
        else None,
        "basis": basis,
        "assumptions": [result["assumptions"]["current_split"], APPLY_NOTE],
    }
    if all(uplift_pct.get(k) is not None for k in ("p10", "p50", "p90")):
        facts["uplift_pct"] = uplift_pct
    from strategist.services.llm_usage import PostgresLlmUsage

    res = get_writer(bootstrap.settings()).write(
        kind="budget_optimization", facts=facts, tenant_id=principal.tenant_id, usage=PostgresLlmUsage(uow)
    )
    return {
        "text": res.text,
        "writer": res.writer,
        "model": res.model,
        "fell_back": res.fell_back,
        "reason": res.reason,
        "prompt_version": res.prompt_version,
    }


def optimization_out(row: BudgetOptimization) -> dict[str, Any]:
    r = row.result
    return {
        "id": row.id,
        "client_id": row.client_id,
        "mode": row.mode,
        "level": r["level"],
        "status": row.status,
        "currency": row.currency,
        "period_days": r["period_days"],
        "current": r["current"],
        "proposed": r["proposed"],
        "changes": r["changes"],
        "marginal_roas": r["marginal_roas"],
        "uplift": r["uplift"],
        "assumptions": r["assumptions"],
        "narrative": r["narrative"],
        "apply": r["apply"],
        "created_at": row.created_at,
    }


def get_optimization(uow: UnitOfWork, principal: Principal, optimization_id: uuid.UUID) -> BudgetOptimization:
    row = uow.session.get(BudgetOptimization, optimization_id)
    if row is None or not principal.can_see_client(row.client_id):
        raise NotFound("budget optimization not found")
    return row


def list_optimizations(
    uow: UnitOfWork, principal: Principal, query: BudgetListQuery
) -> tuple[list[BudgetOptimization], str | None]:
    stmt = select(BudgetOptimization)
    stmt = visible_to(stmt, BudgetOptimization.client_id, principal, query.client_id)
    return keyset_page(
        uow.session, stmt, BudgetOptimization, limit=query.limit, cursor=query.cursor, newest_first=True
    )
