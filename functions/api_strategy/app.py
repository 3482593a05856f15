"""Strategy generation and the strategies it stores (issue 5). The work is in strategist.services.strategy."""

from __future__ import annotations

import uuid

from chalice import Chalice

from strategist.domain.auth import Role
from strategist.http.api import Api, RequestCtx, Result
from strategist.http.schemas.common import Page
from strategist.http.schemas.strategy import (
    StrategyCampaigns,
    StrategyGenerate,
    StrategyListQuery,
    StrategyOut,
    StrategySummary,
)
from strategist.services.strategy import generate as svc

app = Chalice(app_name="api_strategy")
api = Api(app)
ID = {"strategy_id": uuid.UUID}
TAGS = ("strategy",)


def _visible(ctx: RequestCtx) -> None:
    """Another tenant's or another client's strategy is a 404 before anything else is said."""
    svc.get_strategy(ctx.uow, ctx.me, ctx.path["strategy_id"])


@api.route(
    "/api/v1/strategy/generate",
    "POST",
    summary="Generate a costed, forecast multi-platform strategy from a brief",
    body=StrategyGenerate,
    response=StrategyOut,
    status=201,
    min_role=Role.ANALYST,
    envelope_key="strategy",
    tags=TAGS,
)
def generate_strategy(ctx: RequestCtx) -> Result:
    """Allocation, forecast with p10/p50/p90, audience, timeline and tests, content, KPI targets, assumptions."""
    out = StrategyOut.model_validate(svc.generate(ctx.uow, ctx.me, ctx.body))
    return Result(out, status=201, message="Strategy generated")


@api.route(
    "/api/v1/strategies",
    "GET",
    summary="Strategies, newest first, paginated (a client viewer sees its own client's only)",
    query=StrategyListQuery,
    response=Page,
    envelope_key="strategies",
    tags=TAGS,
)
def list_strategies(ctx: RequestCtx) -> Page:
    rows, nxt = svc.list_strategies(ctx.uow, ctx.me, ctx.query)
    return Page(items=[StrategySummary.model_validate(r) for r in rows], next_cursor=nxt)


@api.route(
    "/api/v1/strategies/{strategy_id}",
    "GET",
    summary="One strategy version, with the list of its lineage's versions",
    response=StrategyOut,
    path_params=ID,
    envelope_key="strategy",
    tags=TAGS,
    guard=_visible,
)
def get_strategy(ctx: RequestCtx) -> StrategyOut:
    row = svc.get_strategy(ctx.uow, ctx.me, ctx.path["strategy_id"])
    return StrategyOut.model_validate(svc.strategy_out(ctx.uow, row, with_versions=True))


@api.route(
    "/api/v1/strategies/{strategy_id}/campaigns",
    "POST",
    summary="Create one tracked draft campaign per platform of the plan (idempotent)",
    response=StrategyCampaigns,
    path_params=ID,
    min_role=Role.ANALYST,
    envelope_key="campaigns",
    tags=TAGS,
    guard=_visible,
)
def strategy_campaigns(ctx: RequestCtx) -> Result:
    out = StrategyCampaigns.model_validate(svc.create_campaigns(ctx.uow, ctx.me, ctx.path["strategy_id"]))
    return Result(out, status=201 if out.created else 200, message=f"{out.created} campaign(s) created")
