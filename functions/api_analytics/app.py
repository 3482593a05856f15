"""The analytics dashboard (the brief's Performance Analytics): one read-only route; the work is in
strategist.services.analytics, the shape in strategist.http.schemas.analytics."""

from __future__ import annotations

from chalice import Chalice

from strategist.http.api import Api, RequestCtx
from strategist.http.schemas.analytics import Dashboard, DashboardQuery
from strategist.services import analytics

app = Chalice(app_name="api_analytics")
api = Api(app)


@api.route(
    "/api/v1/analytics/dashboard",
    "GET",
    summary="Performance dashboard: overview with deltas, daily trends, platforms, top campaigns, pacing, "
    "freshness",
    query=DashboardQuery,
    response=Dashboard,
    envelope_key="dashboard",
    tags=("analytics",),
)
def dashboard(ctx: RequestCtx) -> Dashboard:
    """Every figure names its currency, rate dates, attribution window and day boundary (see methodology)."""
    return Dashboard.model_validate(analytics.dashboard(ctx.uow, ctx.me, ctx.query))
