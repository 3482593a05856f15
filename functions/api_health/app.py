"""GET /health: the state of each dependency, without authentication and without tenant data."""

from __future__ import annotations

from typing import Any

from chalice import Chalice

from strategist import bootstrap
from strategist.http.api import Api, RequestCtx, Result
from strategist.services.health import health

app = Chalice(app_name="api_health")
api = Api(app)


@api.route(
    "/health",
    "GET",
    summary="Service and dependency health",
    response=dict[str, Any],
    auth=False,
    use_db=False,
    tags=("health",),
)
def get_health(ctx: RequestCtx) -> Result:
    healthy, report = health(bootstrap.settings())
    return Result(report, status=200 if healthy else 503, message="healthy" if healthy else "degraded")
