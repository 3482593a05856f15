"""Performance reports and report schedules (issue 7): generate (HTML + PDF in S3, inline or on the reports
queue), list, read with presigned links, edit commentary (re-render), send by e-mail through the communications
flow; weekly/monthly schedules in the client's time zone. The work is in strategist.services.reports."""

from __future__ import annotations

import uuid

from chalice import Chalice

from strategist.domain.auth import Role
from strategist.http.api import Api, RequestCtx, Result
from strategist.http.schemas.common import Page
from strategist.http.schemas.reports import (
    ReportGenerate,
    ReportListQuery,
    ReportOut,
    ReportSend,
    ReportUpdate,
    ScheduleCreate,
    ScheduleListQuery,
    ScheduleOut,
    ScheduleUpdate,
)
from strategist.services.reports import schedules as sched
from strategist.services.reports import service as svc

app = Chalice(app_name="api_reports")
api = Api(app)
REPORT = {"report_id": uuid.UUID}
SCHEDULE = {"schedule_id": uuid.UUID}
TAGS = ("reports",)


def _report_visible(ctx: RequestCtx) -> None:
    svc.get_report(ctx.uow, ctx.me, ctx.path["report_id"])


def _schedule_visible(ctx: RequestCtx) -> None:
    sched.get_schedule(ctx.uow, ctx.me, ctx.path["schedule_id"])


@api.route(
    "/api/v1/reports/generate",
    "POST",
    summary="Generate a client's performance report (HTML + PDF) for a period",
    body=ReportGenerate,
    response=ReportOut,
    status=201,
    min_role=Role.ANALYST,
    envelope_key="report",
    tags=TAGS,
)
def generate_report(ctx: RequestCtx) -> Result:
    """Up to 92 days renders inline (201, status ready, with links and figures); longer periods or
    run_async=true are queued (202, status queued) and rendered by the reports worker."""
    out = svc.generate(ctx.uow, ctx.me, ctx.body)
    if out.status == "queued":
        return Result(out, status=202, message="Report queued")
    return Result(out, status=201, message="Report generated" + (" (provisional)" if out.provisional else ""))


@api.route(
    "/api/v1/reports",
    "GET",
    summary="Reports you can see, newest first, paginated (without figures)",
    query=ReportListQuery,
    response=Page,
    envelope_key="reports",
    tags=TAGS,
)
def list_reports(ctx: RequestCtx) -> Page:
    items, next_cursor = svc.list_reports(ctx.uow, ctx.me, ctx.query)
    return Page(items=items, next_cursor=next_cursor)


@api.route(
    "/api/v1/reports/{report_id}",
    "GET",
    summary="One report: its figures, finality and presigned links to the PDF and HTML",
    response=ReportOut,
    path_params=REPORT,
    envelope_key="report",
    tags=TAGS,
    guard=_report_visible,
)
def get_report(ctx: RequestCtx) -> ReportOut:
    return svc.to_out(svc.get_report(ctx.uow, ctx.me, ctx.path["report_id"]), with_data=True)


@api.route(
    "/api/v1/reports/{report_id}",
    "PATCH",
    summary="Edit a report's commentary or title before sending; a ready report is re-rendered (new version)",
    body=ReportUpdate,
    response=ReportOut,
    path_params=REPORT,
    min_role=Role.ANALYST,
    envelope_key="report",
    tags=TAGS,
    guard=_report_visible,
)
def update_report(ctx: RequestCtx) -> Result:
    out = svc.update(ctx.uow, ctx.me, ctx.path["report_id"], ctx.body)
    return Result(out, message="Report updated")


@api.route(
    "/api/v1/reports/{report_id}/send",
    "POST",
    summary="E-mail a ready report (PDF attached) through the communications flow; sending twice sends once",
    body=ReportSend,
    response=ReportOut,
    path_params=REPORT,
    min_role=Role.ANALYST,
    envelope_key="report",
    tags=TAGS,
    guard=_report_visible,
)
def send_report(ctx: RequestCtx) -> Result:
    out = svc.send(ctx.uow, ctx.me, ctx.path["report_id"], ctx.body)
    return Result(out, message="Report queued for e-mail")


@api.route(
    "/api/v1/report-schedules",
    "POST",
    summary="Schedule a weekly or monthly report for a client (in the client's time zone)",
    body=ScheduleCreate,
    response=ScheduleOut,
    status=201,
    min_role=Role.ANALYST,
    envelope_key="schedule",
    tags=TAGS,
)
def create_schedule(ctx: RequestCtx) -> Result:
    return Result(
        sched.create_schedule(ctx.uow, ctx.me, ctx.body), status=201, message="Report schedule created"
    )


@api.route(
    "/api/v1/report-schedules",
    "GET",
    summary="Report schedules you can see, newest first, paginated",
    query=ScheduleListQuery,
    response=Page,
    envelope_key="schedules",
    tags=TAGS,
)
def list_schedules(ctx: RequestCtx) -> Page:
    items, next_cursor = sched.list_schedules(ctx.uow, ctx.me, ctx.query)
    return Page(items=items, next_cursor=next_cursor)


@api.route(
    "/api/v1/report-schedules/{schedule_id}",
    "GET",
    summary="One report schedule with its next run and the period it will report",
    response=ScheduleOut,
    path_params=SCHEDULE,
    envelope_key="schedule",
    tags=TAGS,
    guard=_schedule_visible,
)
def get_schedule(ctx: RequestCtx) -> ScheduleOut:
    return sched.to_out(ctx.uow, sched.get_schedule(ctx.uow, ctx.me, ctx.path["schedule_id"]))


@api.route(
    "/api/v1/report-schedules/{schedule_id}",
    "PATCH",
    summary="Change a report schedule (timing changes recompute the next run)",
    body=ScheduleUpdate,
    response=ScheduleOut,
    path_params=SCHEDULE,
    min_role=Role.ANALYST,
    envelope_key="schedule",
    tags=TAGS,
    guard=_schedule_visible,
)
def update_schedule(ctx: RequestCtx) -> Result:
    return Result(
        sched.update_schedule(ctx.uow, ctx.me, ctx.path["schedule_id"], ctx.body),
        message="Report schedule updated",
    )


@api.route(
    "/api/v1/report-schedules/{schedule_id}",
    "DELETE",
    summary="Delete a report schedule (its reports are kept)",
    path_params=SCHEDULE,
    status=204,
    min_role=Role.ANALYST,
    tags=TAGS,
    guard=_schedule_visible,
)
def delete_schedule(ctx: RequestCtx) -> Result:
    sched.delete_schedule(ctx.uow, ctx.me, ctx.path["schedule_id"])
    return Result(None, status=204)
