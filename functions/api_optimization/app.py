"""Campaign optimization (issue 6): POST /api/v1/campaign/optimize (the brief's body), the optimizations and
recommendations it stores, dry run / apply / approve / undo of a recommendation's platform changes, budget plans
turned into recommendations, and automation rules. The work is in strategist.services.optimization."""

from __future__ import annotations

import uuid
from typing import Any

from chalice import Chalice

from strategist import bootstrap
from strategist.domain.auth import Role
from strategist.http.api import Api, RequestCtx, Result
from strategist.http.schemas.common import Page
from strategist.http.schemas.optimization import (
    ApplyOut,
    ApplyRequest,
    ApproveRequest,
    BudgetPlanRecommendationsRequest,
    OptimizationListQuery,
    OptimizationOut,
    OptimizeRequest,
    RecommendationListQuery,
    RecommendationOut,
    RuleIn,
    RuleListQuery,
    RuleOut,
    RuleUpdate,
    UndoRequest,
)
from strategist.services.optimization import apply as apply_svc
from strategist.services.optimization import recommend, rules, views

app = Chalice(app_name="api_optimization")
api = Api(app)
TAGS = ("optimization",)
RULE_TAGS = ("automation rules",)
OPT_ID = {"optimization_id": uuid.UUID}
REC_ID = {"recommendation_id": uuid.UUID}
RULE_ID = {"rule_id": uuid.UUID}


def _platforms() -> apply_svc.Platforms:
    return apply_svc.Platforms(cipher=bootstrap.credential_cipher(), connectors=bootstrap.connect)


def _rec_visible(ctx: RequestCtx) -> None:
    apply_svc.get_recommendation(ctx.uow, ctx.me, ctx.path["recommendation_id"])


def _budget_plan_visible(ctx: RequestCtx) -> None:
    recommend.get_budget_optimization(ctx.uow, ctx.me, ctx.path["optimization_id"])


def _rule_visible(ctx: RequestCtx) -> None:
    rules.get_rule(ctx.uow, ctx.me, ctx.path["rule_id"])


def _outcome(ctx: RequestCtx, outcome: apply_svc.Outcome, message: str, status: int = 200) -> Result:
    rec = views.recommendation_out(
        outcome.recommendation, [] if outcome.outcome != "pending_approval" else outcome.requires_approval
    )
    data: dict[str, Any] = {
        "recommendation": rec,
        "dry_run": outcome.dry_run,
        "outcome": outcome.outcome,
        "requests": outcome.requests,
        "blocked_by": outcome.blocked_by,
        "requires_approval": outcome.requires_approval,
    }
    return Result(data, status=status, message=message)


@api.route(
    "/api/v1/campaign/optimize",
    "POST",
    summary="Optimize a campaign: recommendations with evidence, p10/p50/p90 impact and the exact platform change",
    body=OptimizeRequest,
    response=OptimizationOut,
    status=201,
    min_role=Role.ANALYST,
    envelope_key="optimization",
    tags=TAGS,
)
def optimize(ctx: RequestCtx) -> Result:
    """Minimum-data gates: a check without enough data adds what it needs to `missing_data` instead of a
    recommendation. Nothing changes on any platform until a recommendation is applied."""
    opt = recommend.optimize_campaign(ctx.uow, ctx.me, ctx.body)
    out = views.optimization_out(ctx.uow, ctx.me, opt)
    return Result(out, status=201, message=f"{len(out.recommendations)} optimization recommendations")


@api.route(
    "/api/v1/optimizations",
    "GET",
    summary="Optimization runs you can see, newest first, paginated",
    query=OptimizationListQuery,
    response=Page,
    envelope_key="optimizations",
    tags=TAGS,
)
def list_optimizations(ctx: RequestCtx) -> Page:
    items, nxt = views.list_optimizations(ctx.uow, ctx.me, ctx.query)
    return Page(items=items, next_cursor=nxt)


@api.route(
    "/api/v1/optimizations/{optimization_id}",
    "GET",
    summary="One optimization run with its recommendations",
    response=OptimizationOut,
    path_params=OPT_ID,
    envelope_key="optimization",
    tags=TAGS,
)
def get_optimization(ctx: RequestCtx) -> OptimizationOut:
    return views.optimization_out(
        ctx.uow, ctx.me, views.get_optimization(ctx.uow, ctx.me, ctx.path["optimization_id"])
    )


@api.route(
    "/api/v1/recommendations",
    "GET",
    summary="Recommendations you can see (filter by client, campaign, optimization, status), newest first",
    query=RecommendationListQuery,
    response=Page,
    envelope_key="recommendations",
    tags=TAGS,
)
def list_recommendations(ctx: RequestCtx) -> Page:
    items, nxt = views.list_recommendations(ctx.uow, ctx.me, ctx.query)
    return Page(items=items, next_cursor=nxt)


@api.route(
    "/api/v1/recommendations/{recommendation_id}",
    "GET",
    summary="One recommendation with its evidence, impact, changes and apply/approve/undo trail",
    response=RecommendationOut,
    path_params=REC_ID,
    envelope_key="recommendation",
    tags=TAGS,
    guard=_rec_visible,
)
def get_recommendation(ctx: RequestCtx) -> RecommendationOut:
    rec = apply_svc.get_recommendation(ctx.uow, ctx.me, ctx.path["recommendation_id"])
    guard = recommend.guardrails(ctx.uow, ctx.me.tenant_id)
    return views.recommendation_out(rec, apply_svc.approval_reasons(rec, guard))


@api.route(
    "/api/v1/recommendations/{recommendation_id}/apply",
    "POST",
    summary="Dry run (default) or apply a recommendation's platform changes, behind cap, cooldown and approval",
    body=ApplyRequest,
    response=ApplyOut,
    path_params=REC_ID,
    min_role=Role.ANALYST,
    tags=TAGS,
    guard=_rec_visible,
)
def apply_recommendation(ctx: RequestCtx) -> Result:
    """dry_run=true validates with the platform (validate-only where it exists) and returns the exact requests;
    dry_run=false applies, or, for a budget raise above the tenant's thresholds, asks an owner/admin to approve
    (202, status pending_approval)."""
    outcome = apply_svc.apply(
        ctx.uow,
        ctx.me,
        ctx.path["recommendation_id"],
        dry_run=ctx.body.dry_run,
        force=ctx.body.force,
        platforms=_platforms(),
    )
    if outcome.outcome == "pending_approval":
        return _outcome(ctx, outcome, "Awaiting approval by an owner or admin", status=202)
    return _outcome(ctx, outcome, "Dry run: nothing changed" if outcome.dry_run else "Applied")


@api.route(
    "/api/v1/recommendations/{recommendation_id}/approve",
    "POST",
    summary="Approve (owner/admin, never the requester) and apply a recommendation awaiting approval",
    body=ApproveRequest,
    response=ApplyOut,
    path_params=REC_ID,
    min_role=Role.ADMIN,
    tags=TAGS,
    guard=_rec_visible,
)
def approve_recommendation(ctx: RequestCtx) -> Result:
    outcome = apply_svc.approve(
        ctx.uow, ctx.me, ctx.path["recommendation_id"], platforms=_platforms(), note=ctx.body.note
    )
    return _outcome(ctx, outcome, "Approved and applied")


@api.route(
    "/api/v1/recommendations/{recommendation_id}/undo",
    "POST",
    summary="Undo an applied recommendation: restore the platform's before state",
    body=UndoRequest,
    response=ApplyOut,
    path_params=REC_ID,
    min_role=Role.ANALYST,
    tags=TAGS,
    guard=_rec_visible,
)
def undo_recommendation(ctx: RequestCtx) -> Result:
    outcome = apply_svc.undo(
        ctx.uow, ctx.me, ctx.path["recommendation_id"], force=ctx.body.force, platforms=_platforms()
    )
    return _outcome(ctx, outcome, "Undone: the platform holds its previous values")


@api.route(
    "/api/v1/budget/optimizations/{optimization_id}/recommendations",
    "POST",
    summary="Turn a proposed budget optimization into a recommendation that goes through apply/approve/undo",
    body=BudgetPlanRecommendationsRequest,
    response=OptimizationOut,
    path_params=OPT_ID,
    status=201,
    min_role=Role.ANALYST,
    envelope_key="optimization",
    tags=TAGS,
    guard=_budget_plan_visible,
)
def budget_plan_recommendations(ctx: RequestCtx) -> Result:
    opt = recommend.from_budget_optimization(
        ctx.uow, ctx.me, ctx.path["optimization_id"], ctx.body.implementation_priority.value
    )
    return Result(
        views.optimization_out(ctx.uow, ctx.me, opt), status=201, message="Budget plan as recommendations"
    )


# -- automation rules ----------------------------------------------------------------------------------------
@api.route(
    "/api/v1/rules",
    "POST",
    summary="Create an automation rule (dry run by default; live rules need an owner/admin)",
    body=RuleIn,
    response=RuleOut,
    status=201,
    min_role=Role.ANALYST,
    envelope_key="rule",
    tags=RULE_TAGS,
)
def create_rule(ctx: RequestCtx) -> Result:
    """A rule that could move the same campaigns in the opposite direction as an enabled rule in the same run is
    refused (422 naming that rule)."""
    rule = rules.create_rule(ctx.uow, ctx.me, ctx.body)
    return Result(RuleOut.model_validate(rule), status=201, message="Rule created")


@api.route(
    "/api/v1/rules",
    "GET",
    summary="Automation rules you can see, newest first",
    query=RuleListQuery,
    response=Page,
    envelope_key="rules",
    tags=RULE_TAGS,
)
def list_rules(ctx: RequestCtx) -> Page:
    items, nxt = rules.list_rules(ctx.uow, ctx.me, ctx.query)
    return Page(items=[RuleOut.model_validate(r) for r in items], next_cursor=nxt)


@api.route(
    "/api/v1/rules/{rule_id}",
    "GET",
    summary="One automation rule",
    response=RuleOut,
    path_params=RULE_ID,
    envelope_key="rule",
    tags=RULE_TAGS,
    guard=_rule_visible,
)
def get_rule(ctx: RequestCtx) -> RuleOut:
    return RuleOut.model_validate(rules.get_rule(ctx.uow, ctx.me, ctx.path["rule_id"]))


@api.route(
    "/api/v1/rules/{rule_id}",
    "PATCH",
    summary="Change a rule (threshold, window, gates, value, schedule, mode, enabled)",
    body=RuleUpdate,
    response=RuleOut,
    path_params=RULE_ID,
    min_role=Role.ANALYST,
    envelope_key="rule",
    tags=RULE_TAGS,
    guard=_rule_visible,
)
def update_rule(ctx: RequestCtx) -> RuleOut:
    return RuleOut.model_validate(rules.update_rule(ctx.uow, ctx.me, ctx.path["rule_id"], ctx.body))


@api.route(
    "/api/v1/rules/{rule_id}",
    "DELETE",
    summary="Delete a rule",
    path_params=RULE_ID,
    status=204,
    min_role=Role.ANALYST,
    tags=RULE_TAGS,
    guard=_rule_visible,
)
def delete_rule(ctx: RequestCtx) -> Result:
    rules.delete_rule(ctx.uow, ctx.me, ctx.path["rule_id"])
    return Result(None, status=204)
