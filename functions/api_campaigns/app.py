"""Campaigns: list with recent totals, detail with daily metrics, manual create, and metrics import by file."""

from __future__ import annotations

import uuid

from chalice import Chalice

from strategist.domain.auth import Role
from strategist.http.api import Api, RequestCtx, Result
from strategist.http.schemas.campaigns import (
    CampaignCreate,
    CampaignDetailOut,
    CampaignGetQuery,
    CampaignListQuery,
    CampaignOut,
    ImportQuery,
    ImportResultOut,
)
from strategist.http.schemas.common import Page
from strategist.services import campaigns, metrics_import

app = Chalice(app_name="api_campaigns")
api = Api(app)
ID = {"campaign_id": uuid.UUID}
TAGS = ("campaigns",)


@api.route(
    "/api/v1/campaigns",
    "GET",
    summary="Campaigns you can see, oldest first, paginated, with last-30-day totals",
    query=CampaignListQuery,
    response=Page,
    envelope_key="campaigns",
    tags=TAGS,
)
def list_campaigns(ctx: RequestCtx) -> Page:
    items, next_cursor = campaigns.list_campaigns(ctx.uow, ctx.me, ctx.query)
    return Page(items=items, next_cursor=next_cursor)


@api.route(
    "/api/v1/campaigns",
    "POST",
    summary="Create a campaign by hand (e-mail, or a platform the client has no connection for)",
    body=CampaignCreate,
    response=CampaignOut,
    status=201,
    min_role=Role.ANALYST,
    envelope_key="campaign",
    tags=TAGS,
)
def create_campaign(ctx: RequestCtx) -> Result:
    created = campaigns.create_campaign(ctx.uow, ctx.me, ctx.body)
    return Result(created, status=201, message="Campaign created")


@api.route(
    "/api/v1/campaigns/{campaign_id}",
    "GET",
    summary="One campaign with its daily metrics (default: last 30 days) and period totals",
    query=CampaignGetQuery,
    response=CampaignDetailOut,
    path_params=ID,
    envelope_key="campaign",
    tags=TAGS,
)
def get_campaign(ctx: RequestCtx) -> CampaignDetailOut:
    return campaigns.get_campaign(ctx.uow, ctx.me, ctx.path["campaign_id"], ctx.query)


@api.route(
    "/api/v1/campaigns/{campaign_id}/metrics:import",
    "POST",
    summary="Import daily metrics from CSV (text/csv) or JSON ({'rows': [...]}); all rows or none",
    query=ImportQuery,
    response=ImportResultOut,
    path_params=ID,
    min_role=Role.ANALYST,
    envelope_key="import",
    tags=TAGS,
    content_types=metrics_import.ACCEPTED_TYPES,
)
def import_metrics(ctx: RequestCtx) -> Result:
    """Columns: date, cost|spend, impressions, clicks, conversions (required); revenue|conversion_value,
    breakdown, video_views, reach, currency (must be the campaign's), attribution_window (default 'imported'),
    source. A bad row rejects the whole file: error.fields names each as rows[n].field (JSON: array index;
    CSV: data row from 1, with its line). Re-importing upserts by (date, breakdown). Text starting with
    = + - @ is rejected (CSV injection)."""
    result = metrics_import.import_metrics(
        ctx.uow,
        ctx.me,
        ctx.path["campaign_id"],
        raw=ctx.raw_body,
        content_type=ctx.content_type,
        query=ctx.query,
    )
    return Result(result, message=f"{result.rows_written} rows written")
