"""Competitor analysis (issue 7): upload competitor evidence (a Google Ads auction insights export as CSV, Meta Ad
Library records, manual observations) and analyse it into competitors by overlap and outranking over time,
share-of-voice trends and detected moves, each finding with the rows it rests on. The work is in
strategist.services.competitors."""

from __future__ import annotations

import uuid

from chalice import Chalice, Response

from strategist.domain.auth import Role
from strategist.domain.errors import ValidationFailed
from strategist.http.api import Api, RequestCtx, Result
from strategist.http.schemas.common import Page
from strategist.http.schemas.competitors import (
    AnalysisCreate,
    AnalysisGetQuery,
    AnalysisListQuery,
    AnalysisOut,
    UploadJson,
    UploadOut,
    UploadQuery,
)
from strategist.services.competitors import service as svc

app = Chalice(app_name="api_competitors")
api = Api(app)
ID = {"analysis_id": uuid.UUID}
TAGS = ("competitors",)


@api.route(
    "/api/v1/competitor-analysis/uploads",
    "POST",
    summary="Upload competitor evidence: an auction insights CSV (text/csv) or Ad Library / manual records (JSON)",
    body=UploadJson,
    query=UploadQuery,
    response=UploadOut,
    status=201,
    min_role=Role.ANALYST,
    envelope_key="upload",
    tags=TAGS,
    content_types=("application/json", "text/csv"),
)
def upload(ctx: RequestCtx) -> Result:
    """CSV: the file exactly as Google Ads exports it (title and date-range rows, then 'Display URL domain',
    'Impression share', 'Overlap rate', ...; comma or tab separated, UTF-8 or UTF-16), with ?client_id=. The same
    file twice for a client is a 409."""
    q = ctx.query
    if ctx.content_type == "text/csv":
        if q.client_id is None:
            raise ValidationFailed.one("query.client_id", "required with a CSV body")
        if not ctx.raw_body.strip():
            raise ValidationFailed.one("body", "the CSV is empty")
        out = svc.upload(
            ctx.uow,
            ctx.me,
            client_id=q.client_id,
            kind="auction_insights",
            raw=ctx.raw_body,
            filename=q.filename,
        )
        return Result(out, status=201, message="Auction insights uploaded")
    body: UploadJson = ctx.body
    if body.kind == "ad_library":
        if not body.records:
            raise ValidationFailed.one("body.records", "required for kind ad_library")
        records = body.records
    else:
        if not body.observations:
            raise ValidationFailed.one("body.observations", "required for kind manual")
        records = [o.model_dump(mode="json") for o in body.observations]
    out = svc.upload(
        ctx.uow, ctx.me, client_id=body.client_id, kind=body.kind, records=records, filename=q.filename
    )
    return Result(out, status=201, message="Competitor data uploaded")


@api.route(
    "/api/v1/competitor-analysis",
    "POST",
    summary="Analyse competitors: overlap and outranking over time, share of voice, moves, with the evidence",
    body=AnalysisCreate,
    response=AnalysisOut,
    status=201,
    min_role=Role.ANALYST,
    envelope_key="analysis",
    tags=TAGS,
)
def create_analysis(ctx: RequestCtx) -> Result:
    """Reads the client's uploads (or the listed ones); states what each platform does not expose."""
    return Result(
        svc.create_analysis(ctx.uow, ctx.me, ctx.body), status=201, message="Competitor analysis created"
    )


@api.route(
    "/api/v1/competitor-analysis",
    "GET",
    summary="Competitor analyses you can see, newest first, paginated",
    query=AnalysisListQuery,
    response=Page,
    envelope_key="analyses",
    tags=TAGS,
)
def list_analyses(ctx: RequestCtx) -> Page:
    items, next_cursor = svc.list_analyses(ctx.uow, ctx.me, ctx.query)
    return Page(items=items, next_cursor=next_cursor)


@api.route(
    "/api/v1/competitor-analysis/{analysis_id}",
    "GET",
    summary="One competitor analysis (format=csv: competitors x periods, safe to open in a spreadsheet)",
    query=AnalysisGetQuery,
    response=AnalysisOut,
    path_params=ID,
    envelope_key="analysis",
    tags=TAGS,
)
def get_analysis(ctx: RequestCtx) -> dict | Response:
    row = svc.get_analysis(ctx.uow, ctx.me, ctx.path["analysis_id"])
    if ctx.query.format == "csv":
        return Response(
            body=svc.to_csv(row),
            status_code=200,
            headers={
                "Content-Type": "text/csv; charset=utf-8",
                "Content-Disposition": f'attachment; filename="competitors-{row.id}.csv"',
                "X-Request-Id": ctx.request_id,
            },
        )
    return svc.analysis_out(row)
