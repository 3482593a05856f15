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
    content_types=("application/json", "text/csv", "multipart/form-data"),
)
def upload(ctx: RequestCtx) -> Result:
    """CSV: the file exactly as Google Ads exports it (title and date-range rows, then 'Display URL domain',
    'Impression share', 'Overlap rate', ...; comma or tab separated, UTF-8 or UTF-16), either as the body
    (text/csv, ?client_id=) or as the `file` field of a multipart/form-data form (with a `client_id` field or
    query parameter), as a browser sends it. The same file twice for a client is a 409."""
    q = ctx.query
    if ctx.content_type == "multipart/form-data":
        fields, filename = _form(ctx)
        client = fields.get("client_id", b"").decode(errors="replace").strip() or (
            str(q.client_id) if q.client_id else ""
        )
        try:
            client_id = uuid.UUID(client)
        except ValueError as exc:
            raise ValidationFailed.one("form.client_id", "required: the client's id (a UUID)") from exc
        if not fields.get("file", b"").strip():
            raise ValidationFailed.one("form.file", "required: the auction insights CSV")
        out = svc.upload(
            ctx.uow,
            ctx.me,
            client_id=client_id,
            kind="auction_insights",
            raw=fields["file"],
            filename=q.filename or filename,
        )
        return Result(out, status=201, message="Auction insights uploaded")
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


def _form(ctx: RequestCtx) -> tuple[dict[str, bytes], str | None]:
    """The fields of a multipart/form-data body (stdlib parser) and the uploaded file's name."""
    from email.parser import BytesParser
    from email.policy import HTTP

    header = ctx.headers.get("content-type", "")
    if "boundary=" not in header:
        raise ValidationFailed.one("header.Content-Type", "multipart/form-data needs a boundary parameter")
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + header.encode("latin-1", errors="replace") + b"\r\n\r\n" + ctx.raw_body
    )
    if not message.is_multipart():
        raise ValidationFailed.one("body", "not a multipart/form-data body")
    fields: dict[str, bytes] = {}
    filename = None
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        fields[str(name)] = part.get_payload(decode=True) or b""
        if name == "file":
            filename = part.get_filename()
    return fields, filename


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
