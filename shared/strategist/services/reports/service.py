"""Reports: generate (inline or on the reports queue), read, edit commentary (re-render), send by e-mail through
the communications flow; and the queue's worker step.

Inline or queued. A report of up to 92 days renders inside the request (the dashboard query, the movers query and
WeasyPrint took 2-6 s at p95 for 7-92 days on a busy 2-core host; bench/RESULTS.md), so the caller gets it at once with 201. Longer
periods, or ``run_async: true``, are queued: 202 with the id and status ``queued``; the reports worker renders it
and GET shows it ``ready``. Scheduled reports are always rendered by the worker.

Idempotent worker. A message names a report; the worker locks its row, renders only a ``queued`` report, and
sends a scheduled one with the dedupe key ``report:<id>:v<version>``, so a redelivered or concurrent message
finds it ``ready``/``sent`` and changes nothing, and the communications flow never sends twice."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select

from strategist.adapters.db.models import Client, PerformanceReport, ReportSchedule
from strategist.adapters.db.uow import UnitOfWork
from strategist.domain.auth import Principal, Role
from strategist.domain.errors import Conflict, ValidationFailed
from strategist.http.schemas.common import decode_cursor, encode_cursor
from strategist.http.schemas.reports import (
    ReportGenerate,
    ReportLinks,
    ReportListQuery,
    ReportOut,
    ReportSend,
    ReportUpdate,
)
from strategist.services.clients import get_client_owned, visible_to
from strategist.services.reports import build, timing

#: Longer periods are rendered on the reports queue.
INLINE_MAX_DAYS = 92
CONSUMER = "worker_reports"


def reports_queue() -> Any:
    from strategist.adapters.aws.queues import SqsQueue
    from strategist.config import get_settings

    return SqsQueue(get_settings().queue_urls.get("reports", ""))


def message(report: PerformanceReport) -> dict[str, Any]:
    return {"tenant_id": str(report.tenant_id), "report_id": str(report.id)}


def _enqueue_after_commit(uow: UnitOfWork, report: PerformanceReport, queue: Any | None = None) -> None:
    body = message(report)
    uow.after_commit(lambda: (queue or reports_queue()).send([body]))


# -- reading ---------------------------------------------------------------------------------------------------------
def get_report(
    uow: UnitOfWork, principal: Principal, report_id: uuid.UUID, *, lock: bool = False
) -> PerformanceReport:
    """404 for another tenant's (RLS), another client's for a viewer, or a deleted client's report."""
    return get_client_owned(uow, principal, PerformanceReport, report_id, "report", lock=lock)


def _links(report: PerformanceReport, data: dict[str, Any] | None) -> ReportLinks | None:
    if not report.pdf_key:
        return None
    from strategist.services.reports import render

    client_name = (data or {}).get("client", {}).get("name", "report")
    names = {
        ext: render.download_name(
            report.title, client_name, str(report.period_start), str(report.period_end), ext
        )
        for ext in ("pdf", "html")
    }
    return ReportLinks(
        pdf_url=render.presign(report.pdf_key, names["pdf"]),
        html_url=render.presign(report.html_key, names["html"]) if report.html_key else None,
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=render.PRESIGN_SECONDS),
    )


def to_out(report: PerformanceReport, *, with_data: bool = False, with_links: bool = True) -> ReportOut:
    return ReportOut(
        id=report.id,
        client_id=report.client_id,
        schedule_id=report.schedule_id,
        title=report.title,
        period_start=report.period_start,
        period_end=report.period_end,
        period_label=report.period_label,
        sections=list(report.sections),
        status=report.status,
        provisional=report.provisional,
        finality=report.finality or {},
        hold_until=report.hold_until,
        commentary=report.commentary,
        version=report.version,
        pdf_bytes=report.pdf_bytes,
        pdf_pages=report.pdf_pages,
        render_ms=report.render_ms,
        recipients=list(report.recipients or []),
        communication_id=report.communication_id,
        error=report.error,
        generated_at=report.generated_at,
        sent_at=report.sent_at,
        created_by=report.created_by,
        created_at=report.created_at,
        updated_at=report.updated_at,
        links=_links(report, report.data) if with_links else None,
        data=report.data if with_data else None,
    )


def list_reports(
    uow: UnitOfWork, principal: Principal, query: ReportListQuery
) -> tuple[list[ReportOut], str | None]:
    principal.require_tenant(query.tenant_id)
    r = PerformanceReport
    stmt = select(r).join(Client, Client.id == r.client_id).where(Client.deleted_at.is_(None))
    stmt = visible_to(stmt, r.client_id, principal, query.client_id)
    if query.schedule_id is not None:
        stmt = stmt.where(r.schedule_id == query.schedule_id)
    if query.status is not None:
        stmt = stmt.where(r.status == query.status)
    if query.cursor:
        try:
            after_created, after_id = decode_cursor(query.cursor)
        except ValueError as exc:
            raise ValidationFailed.one("query.cursor", str(exc)) from exc
        stmt = stmt.where(
            or_(r.created_at < after_created, and_(r.created_at == after_created, r.id < after_id))
        )
    rows = list(uow.session.scalars(stmt.order_by(r.created_at.desc(), r.id.desc()).limit(query.limit + 1)))
    nxt = (
        encode_cursor(rows[query.limit - 1].created_at, rows[query.limit - 1].id)
        if len(rows) > query.limit
        else None
    )
    return [to_out(x, with_links=False) for x in rows[: query.limit]], nxt


# -- building and rendering ------------------------------------------------------------------------------------------
def _client(uow: UnitOfWork, client_id: uuid.UUID, field: str = "body.client_id") -> Client:
    client = uow.session.scalar(select(Client).where(Client.id == client_id, Client.deleted_at.is_(None)))
    if client is None:
        raise ValidationFailed.one(field, f"client {client_id} does not exist in this tenant")
    return client


def _snapshot(r: PerformanceReport) -> dict[str, Any]:
    return {
        "client_id": r.client_id,
        "schedule_id": r.schedule_id,
        "title": r.title,
        "period": [r.period_start, r.period_end],
        "status": r.status,
        "version": r.version,
        "provisional": r.provisional,
        "commentary": r.commentary,
    }


def render_and_store(
    uow: UnitOfWork,
    principal: Principal,
    report: PerformanceReport,
    *,
    now: dt.datetime,
    rebuild: bool = True,
    currency: str | None = None,
) -> None:
    """(Re)build the figures if asked, render HTML + PDF, store them under a new version, mark the report ready."""
    from strategist.services.reports import render

    client = uow.session.get(Client, report.client_id)
    assert client is not None
    if rebuild or report.data is None:
        facts = build.connection_facts(uow, client.id)
        fin = timing.finality(report.period_end, client.reporting_timezone, facts, now)
        report.finality = fin.as_dict()
        if fin.final:
            report.provisional = False
        report.data = build.build(
            uow,
            principal,
            client,
            start=report.period_start,
            end=report.period_end,
            sections=list(report.sections),
            title=report.title,
            currency=currency,
            now=now,
            finality=fin,
            provisional=report.provisional,
        )
    data = {**report.data, "title": report.title}
    out = render.render(data, report.commentary)
    version = report.version + 1
    names = {
        ext: render.download_name(
            report.title, client.name, str(report.period_start), str(report.period_end), ext
        )
        for ext in ("pdf", "html")
    }
    pdf_key = render.report_key(report.tenant_id, report.client_id, report.id, version, "pdf")
    html_key = render.report_key(report.tenant_id, report.client_id, report.id, version, "html")
    render.store(pdf_key, out.pdf, "application/pdf", names["pdf"])
    render.store(html_key, out.html.encode(), "text/html; charset=utf-8", names["html"])
    report.version = version
    report.pdf_key, report.html_key = pdf_key, html_key
    report.pdf_bytes, report.pdf_pages, report.render_ms = len(out.pdf), out.pages, out.render_ms
    report.status = "ready"
    report.error = None
    report.generated_at = now
    report.updated_at = now
    # issue 8, live updates: open pages refresh their reports list
    uow.emit("report.ready", {"report_id": report.id, "client_id": report.client_id, "version": version})


def _resolve_period(body: ReportGenerate, client: Client, now: dt.datetime) -> tuple[dt.date, dt.date]:
    today = now.astimezone(ZoneInfo(client.reporting_timezone)).date()
    if body.start is not None and body.end is not None:
        if body.end > today:
            raise ValidationFailed.one(
                "body.end", f"must not be after today ({today.isoformat()} in {client.reporting_timezone})"
            )
        return body.start, body.end
    return timing.named_period(body.period or "last_week", today)


def generate(
    uow: UnitOfWork,
    principal: Principal,
    body: ReportGenerate,
    *,
    now: dt.datetime | None = None,
    queue: Any = None,
) -> ReportOut:
    now = now or dt.datetime.now(dt.UTC)
    principal.require_role(Role.ANALYST)
    principal.require_tenant(body.tenant_id)
    principal.require_client(body.client_id)
    client = _client(uow, body.client_id)
    start, end = _resolve_period(body, client, now)
    fin = timing.finality(end, client.reporting_timezone, build.connection_facts(uow, client.id), now)
    report = PerformanceReport(
        id=uuid.uuid4(),
        tenant_id=principal.tenant_id,
        client_id=client.id,
        title=body.title or "Performance report",
        period_start=start,
        period_end=end,
        period_label=timing.period_label(start, end),
        sections=[s.value for s in body.sections],
        status="queued",
        provisional=not fin.final,
        finality=fin.as_dict(),
        commentary=body.commentary,
        version=0,
        recipients=[],
        created_by=principal.actor,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(report)
    uow.session.flush()
    inline = not body.run_async and (end - start).days + 1 <= INLINE_MAX_DAYS
    if inline:
        render_and_store(uow, principal, report, now=now, currency=body.currency)
    else:
        if body.currency is not None:
            report.data = {"requested_currency": body.currency}
        _enqueue_after_commit(uow, report, queue)
    uow.audit("report.generate", "performance_report", report.id, after=_snapshot(report))
    uow.emit(
        "report.generated" if inline else "report.queued",
        {
            "report_id": report.id,
            "client_id": client.id,
            "period": [start, end],
            "provisional": report.provisional,
        },
    )
    return to_out(report, with_data=inline)


def update(uow: UnitOfWork, principal: Principal, report_id: uuid.UUID, body: ReportUpdate) -> ReportOut:
    principal.require_role(Role.ANALYST)
    report = get_report(uow, principal, report_id, lock=True)
    if report.status == "sent":
        raise Conflict("this report has been sent; generate a new one to change it")
    before = _snapshot(report)
    fields = body.model_fields_set
    if "commentary" in fields:
        report.commentary = body.commentary or None
    if "title" in fields:
        if body.title is None:
            raise ValidationFailed.one("body.title", "must not be null")
        report.title = body.title
    now = dt.datetime.now(dt.UTC)
    report.updated_at = now
    if report.status == "ready":
        render_and_store(uow, principal, report, now=now, rebuild=False)
    uow.audit("report.update", "performance_report", report.id, before=before, after=_snapshot(report))
    return to_out(report, with_data=True)


def _email_bodies(report: PerformanceReport, note: str | None) -> tuple[str, str, str]:
    from markupsafe import escape

    data = report.data or {}
    client = data.get("client", {}).get("name", "")
    period = data.get("period", {}).get("description", f"{report.period_start} - {report.period_end}")
    subject = f"{report.title}: {client}, {period}" + (" (provisional)" if report.provisional else "")
    lines = [note, ""] if note else []
    for k in data.get("kpis", []):
        if k["value"] is not None:
            lines.append(
                f"{k['label']}: {k['value']}" + (f" ({k['status_text']})" if k["goal"] is not None else "")
            )
    if report.provisional:
        lines.append("")
        lines.append("Provisional: some platforms may still restate this period's figures.")
    lines += ["", "The full report is attached as a PDF."]
    text = "\n".join(lines)
    html = "".join(f"<p>{escape(line)}</p>" if line else "" for line in lines)
    return subject, text, html


def send(
    uow: UnitOfWork,
    principal: Principal,
    report_id: uuid.UUID,
    body: ReportSend,
    *,
    report: PerformanceReport | None = None,
    now: dt.datetime | None = None,
) -> ReportOut:
    from strategist.services.communications import queue_communication
    from strategist.services.reports import render

    now = now or dt.datetime.now(dt.UTC)
    principal.require_role(Role.ANALYST)
    report = report or get_report(uow, principal, report_id, lock=True)
    if report.status not in ("ready", "sent"):
        raise Conflict(f"the report is {report.status}; it can be sent once it is ready")
    recipients = list(body.recipients) if body.recipients else (list(report.recipients) or None)
    subject, text, html = _email_bodies(report, body.message)
    client_name = (report.data or {}).get("client", {}).get("name", "report")
    filename = render.download_name(
        report.title, client_name, str(report.period_start), str(report.period_end), "pdf"
    )
    assert report.pdf_key is not None
    try:
        comm_id = queue_communication(
            uow,
            client_id=report.client_id,
            message_type="report",
            subject=subject,
            body_text=text,
            body_html=html,
            channels=("email",),
            recipients=recipients,
            dedupe_key=f"report:{report.id}:v{report.version}",
            attachments=[{"filename": filename, "content_type": "application/pdf", "s3_key": report.pdf_key}],
            metadata={
                "report_id": str(report.id),
                "version": report.version,
                "provisional": report.provisional,
            },
        )
    except ValidationFailed as exc:
        fields = [type(f)(f"body.{f.field}", f.reason) for f in exc.fields] if exc.fields else exc.fields
        raise ValidationFailed(str(exc), fields=fields) from exc
    before = _snapshot(report)
    first = report.communication_id != comm_id
    report.communication_id = comm_id
    if recipients:
        report.recipients = recipients
    if report.status != "sent":
        report.status = "sent"
        report.sent_at = now
    report.updated_at = now
    if first:
        uow.audit("report.send", "performance_report", report.id, before=before, after=_snapshot(report))
        uow.emit(
            "report.sent",
            {"report_id": report.id, "client_id": report.client_id, "communication_id": comm_id},
        )
    return to_out(report)


# -- the worker's step ---------------------------------------------------------------------------------------------
def process_message(
    uow: UnitOfWork, body: dict[str, Any], *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Render a queued report (and send it if it came from a schedule). Safe to run twice for the same message."""
    now = now or dt.datetime.now(dt.UTC)
    try:
        tenant_id, report_id = uuid.UUID(str(body["tenant_id"])), uuid.UUID(str(body["report_id"]))
    except (KeyError, ValueError) as exc:
        raise ValueError(f"not a reports message: {body!r}") from exc
    uow.set_tenant(tenant_id)
    principal = build.system_principal(tenant_id)
    report = uow.session.execute(
        select(PerformanceReport).where(PerformanceReport.id == report_id).with_for_update()
    ).scalar_one_or_none()
    if report is None:
        return {"report_id": str(report_id), "outcome": "gone"}
    if report.status == "held":
        return {"report_id": str(report_id), "outcome": "held"}
    if report.status in ("sent", "failed"):
        return {"report_id": str(report_id), "outcome": f"already {report.status}"}
    outcome = "already ready"
    if report.status == "queued":
        currency = (report.data or {}).get("requested_currency")
        render_and_store(uow, principal, report, now=now, currency=currency)
        outcome = "rendered"
    if report.schedule_id is not None and report.status == "ready":
        try:
            with uow.session.begin_nested():
                send(uow, principal, report.id, ReportSend(), report=report, now=now)
            outcome += " and sent"
        except ValidationFailed as exc:  # e.g. no recipients: retrying cannot help; the report stays ready
            report.error = f"not sent: {exc}"
            outcome += ", not sent"
    return {"report_id": str(report_id), "outcome": outcome, "version": report.version}


def mark_failed(uow: UnitOfWork, body: dict[str, Any], error: str) -> None:
    """After the last delivery attempt: the reason is visible on the report (GET) as well as in the DLQ."""
    try:
        tenant_id, report_id = uuid.UUID(str(body["tenant_id"])), uuid.UUID(str(body["report_id"]))
    except (KeyError, ValueError):
        return
    uow.set_tenant(tenant_id)
    report = uow.session.get(PerformanceReport, report_id, with_for_update=True)
    if report is not None and report.status in ("queued", "held"):
        report.status = "failed"
        report.error = error[:2000]
        report.updated_at = dt.datetime.now(dt.UTC)
        uow.audit("report.failed", "performance_report", report.id, after={"error": report.error})


def schedule_of(uow: UnitOfWork, report: PerformanceReport) -> ReportSchedule | None:
    return uow.session.get(ReportSchedule, report.schedule_id) if report.schedule_id else None
