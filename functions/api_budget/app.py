"""Budget optimization over a client's running campaigns and platforms (issue 5); the work is in
strategist.services.budget_optimizer. Proposals only: applying them is the optimization issue's approval flow."""

from __future__ import annotations

import uuid

from chalice import Chalice

from strategist.domain.auth import Role
from strategist.http.api import Api, RequestCtx, Result
from strategist.http.schemas.budget import (
    BudgetListQuery,
    BudgetOptimizationOut,
    BudgetOptimizationSummary,
    BudgetOptimize,
)
from strategist.http.schemas.common import Page
from strategist.services import budget_optimizer as svc

app = Chalice(app_name="api_budget")
api = Api(app)
ID = {"optimization_id": uuid.UUID}
TAGS = ("budget",)


def _visible(ctx: RequestCtx) -> None:
    svc.get_optimization(ctx.uow, ctx.me, ctx.path["optimization_id"])


@api.route(
    "/api/v1/budget/optimize",
    "POST",
    summary="Propose a budget split (max outcome, target ROAS/CPA, or least budget for a target)",
    body=BudgetOptimize,
    response=BudgetOptimizationOut,
    status=201,
    min_role=Role.ANALYST,
    envelope_key="optimization",
    tags=TAGS,
)
def optimize_budget(ctx: RequestCtx) -> Result:
    """Current vs proposed split with outcome intervals, marginal ROAS per item and the change list."""
    out = BudgetOptimizationOut.model_validate(svc.optimize(ctx.uow, ctx.me, ctx.body))
    return Result(out, status=201, message="Budget optimization proposed")


@api.route(
    "/api/v1/budget/optimizations",
    "GET",
    summary="Budget optimizations, newest first, paginated",
    query=BudgetListQuery,
    response=Page,
    min_role=Role.ANALYST,
    envelope_key="optimizations",
    tags=TAGS,
)
def list_optimizations(ctx: RequestCtx) -> Page:
    rows, nxt = svc.list_optimizations(ctx.uow, ctx.me, ctx.query)
    return Page(items=[BudgetOptimizationSummary.model_validate(r) for r in rows], next_cursor=nxt)


@api.route(
    "/api/v1/budget/optimizations/{optimization_id}",
    "GET",
    summary="One budget optimization",
    response=BudgetOptimizationOut,
    path_params=ID,
    min_role=Role.ANALYST,
    envelope_key="optimization",
    tags=TAGS,
    guard=_visible,
)
def get_optimization(ctx: RequestCtx) -> BudgetOptimizationOut:
    row = svc.get_optimization(ctx.uow, ctx.me, ctx.path["optimization_id"])
    return BudgetOptimizationOut.model_validate(svc.optimization_out(row))
