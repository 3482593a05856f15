"""Campaign insights (issue 6): trends, driver decomposition, anomalies, forecast, pacing, response curve. One
read-only route; the work is in strategist.services.insights, the shape in strategist.http.schemas.insights."""

from __future__ import annotations

import uuid

from chalice import Chalice

from strategist.http.api import Api, RequestCtx
from strategist.http.schemas.insights import Insights, InsightsQuery
from strategist.services import campaigns
from strategist.services import insights as svc

app = Chalice(app_name="api_insights")
api = Api(app)


def _visible(ctx: RequestCtx) -> None:
    """Another tenant's campaign, or another client's for a viewer, is a 404 before any query error."""
    campaigns.get_visible_campaign(ctx.uow, ctx.me, ctx.path["campaign_id"])


@api.route(
    "/api/v1/campaigns/{campaign_id}/insights",
    "GET",
    summary="Campaign insights: trends vs a comparison period, KPI drivers, anomalies, forecast to flight end, "
    "pacing, response curve and marginal ROAS",
    query=InsightsQuery,
    path_params={"campaign_id": uuid.UUID},
    response=Insights,
    envelope_key="insights",
    tags=("insights",),
    guard=_visible,
)
def campaign_insights(ctx: RequestCtx) -> Insights:
    """Every figure states its currency, time zone, attribution windows and method (see data.methodology)."""
    return Insights.model_validate(svc.insights(ctx.uow, ctx.me, ctx.path["campaign_id"], ctx.query))
