"""Report schedules (CRUD) and the hourly job: turn due schedules into held reports (exactly one per schedule and
period), release held reports when their data is final or their hold deadline has passed, and queue them for the
reports worker. The timing rules are in strategist.services.reports.timing."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import and_, or_, select, text
from sqlalchemy.dialects.postgresql import insert

from strategist.adapters.db.models import Client, PerformanceReport, ReportSchedule
from strategist.adapters.db.uow import UnitOfWork
from strategist.domain.auth import Principal, Role
from strategist.domain.errors import ValidationFailed
from strategist.http.schemas.common import decode_cursor, encode_cursor
from strategist.http.schemas.reports import (
    ALL_SECTIONS,
    ScheduleCreate,
    ScheduleListQuery,
    ScheduleOut,
    ScheduleUpdate,
)
from strategist.services.clients import get_client_owned, visible_to
from strategist.services.reports import build, timing

log = logging.getLogger(__name__)
UowFactory = Callable[[], UnitOfWork]
#: A job that was down catches up at most this many missed periods per schedule (one report each).
MAX_CATCH_UP = 6


def _client(uow: UnitOfWork, client_id: uuid.UUID) -> Client:
    client = uow.session.get(Client, client_id)
    assert client is not None
    return client


def to_out(uow: UnitOfWork, s: ReportSchedule) -> ScheduleOut:
    client = _client(uow, s.client_id)
    next_period = None
    if s.next_run_at is not None:
        start, end = timing.period_for_run(
            s.frequency, timing.local_run_date(s.next_run_at, client.reporting_timezone)
        )
        next_period = {"start": start, "end": end, "description": timing.describe_period(start, end)}
    return ScheduleOut(
        id=s.id,
        client_id=s.client_id,
        name=s.name,
        frequency=s.frequency,
        day_of_week=s.day_of_week,
        day_of_month=s.day_of_month,
        send_hour=s.send_hour,
        time_zone=client.reporting_timezone,
        recipients=list(s.recipients or []),
        sections=list(s.sections),
        max_hold_hours=s.max_hold_hours,
        active=s.active,
        next_run_at=s.next_run_at,
        next_period=next_period,
        last_run_at=s.last_run_at,
        created_by=s.created_by,
        created_at=s.created_at,
        updated_at=s.updated_at,
    )


def _snapshot(s: ReportSchedule) -> dict[str, Any]:
    return {
        k: getattr(s, k)
        for k in (
            "client_id",
            "name",
            "frequency",
            "day_of_week",
            "day_of_month",
            "send_hour",
            "recipients",
            "sections",
            "max_hold_hours",
            "active",
            "next_run_at",
        )
    }


def _plan_next(uow: UnitOfWork, s: ReportSchedule, now: dt.datetime) -> None:
    tz = _client(uow, s.client_id).reporting_timezone
    s.next_run_at = (
        timing.next_run(s.frequency, s.day_of_week, s.day_of_month, s.send_hour, tz, now)
        if s.active
        else None
    )


def get_schedule(
    uow: UnitOfWork, principal: Principal, schedule_id: uuid.UUID, *, lock: bool = False
) -> ReportSchedule:
    return get_client_owned(uow, principal, ReportSchedule, schedule_id, "report schedule", lock=lock)


def create_schedule(uow: UnitOfWork, principal: Principal, body: ScheduleCreate) -> ScheduleOut:
    principal.require_role(Role.ANALYST)
    principal.require_tenant(body.tenant_id)
    principal.require_client(body.client_id)
    client = uow.session.scalar(
        select(Client).where(Client.id == body.client_id, Client.deleted_at.is_(None))
    )
    if client is None:
        raise ValidationFailed.one("body.client_id", f"client {body.client_id} does not exist in this tenant")
    now = dt.datetime.now(dt.UTC)
    s = ReportSchedule(
        id=uuid.uuid4(),
        tenant_id=principal.tenant_id,
        client_id=client.id,
        name=body.name or f"{body.frequency.value.capitalize()} report",
        frequency=body.frequency.value,
        day_of_week=body.day_of_week,
        day_of_month=body.day_of_month,
        send_hour=8 if body.send_hour is None else body.send_hour,
        recipients=list(body.recipients or []),
        sections=[x.value for x in (body.sections or ALL_SECTIONS)],
        max_hold_hours=72 if body.max_hold_hours is None else body.max_hold_hours,
        active=True if body.active is None else body.active,
        created_by=principal.user_id,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(s)
    uow.session.flush()
    _plan_next(uow, s, now)
    uow.audit("report_schedule.create", "report_schedule", s.id, after=_snapshot(s))
    return to_out(uow, s)


def list_schedules(
    uow: UnitOfWork, principal: Principal, query: ScheduleListQuery
) -> tuple[list[ScheduleOut], str | None]:
    principal.require_tenant(query.tenant_id)
    s = ReportSchedule
    stmt = select(s).join(Client, Client.id == s.client_id).where(Client.deleted_at.is_(None))
    stmt = visible_to(stmt, s.client_id, principal, query.client_id)
    if query.cursor:
        try:
            after_created, after_id = decode_cursor(query.cursor)
        except ValueError as exc:
            raise ValidationFailed.one("query.cursor", str(exc)) from exc
        stmt = stmt.where(
            or_(s.created_at < after_created, and_(s.created_at == after_created, s.id < after_id))
        )
    rows = list(uow.session.scalars(stmt.order_by(s.created_at.desc(), s.id.desc()).limit(query.limit + 1)))
    nxt = (
        encode_cursor(rows[query.limit - 1].created_at, rows[query.limit - 1].id)
        if len(rows) > query.limit
        else None
    )
    return [to_out(uow, x) for x in rows[: query.limit]], nxt


def update_schedule(
    uow: UnitOfWork, principal: Principal, schedule_id: uuid.UUID, body: ScheduleUpdate
) -> ScheduleOut:
    principal.require_role(Role.ANALYST)
    s = get_schedule(uow, principal, schedule_id, lock=True)
    before = _snapshot(s)
    fields = body.model_fields_set
    for name in ("name", "send_hour", "max_hold_hours", "active"):
        if name in fields:
            value = getattr(body, name)
            if value is None:
                raise ValidationFailed.one(f"body.{name}", "must not be null")
            setattr(s, name, value)
    if "day_of_week" in fields:
        if s.frequency != "weekly":
            raise ValidationFailed.one("body.day_of_week", "is for weekly schedules; this one is monthly")
        if body.day_of_week is None:
            raise ValidationFailed.one("body.day_of_week", "must not be null")
        s.day_of_week = body.day_of_week
    if "day_of_month" in fields:
        if s.frequency != "monthly":
            raise ValidationFailed.one("body.day_of_month", "is for monthly schedules; this one is weekly")
        if body.day_of_month is None:
            raise ValidationFailed.one("body.day_of_month", "must not be null")
        s.day_of_month = body.day_of_month
    if "recipients" in fields:
        s.recipients = list(body.recipients or [])
    if "sections" in fields:
        if body.sections is None:
            raise ValidationFailed.one("body.sections", "must not be null")
        s.sections = [x.value for x in body.sections]
    now = dt.datetime.now(dt.UTC)
    if fields & {"day_of_week", "day_of_month", "send_hour", "active"}:
        _plan_next(uow, s, now)
    s.updated_at = now
    uow.audit("report_schedule.update", "report_schedule", s.id, before=before, after=_snapshot(s))
    return to_out(uow, s)


def delete_schedule(uow: UnitOfWork, principal: Principal, schedule_id: uuid.UUID) -> None:
    """Its reports stay (schedule_id becomes null); a held one is no longer released by this schedule's rules."""
    principal.require_role(Role.ANALYST)
    s = get_schedule(uow, principal, schedule_id, lock=True)
    before = _snapshot(s)
    uow.session.delete(s)
    uow.audit("report_schedule.delete", "report_schedule", schedule_id, before=before)


# -- the hourly job ----------------------------------------------------------------------------------------------------
def _materialize(uow: UnitOfWork, schedule_id: uuid.UUID, now: dt.datetime) -> int:
    """Insert the held report of every due run of one schedule (ON CONFLICT DO NOTHING on the schedule+period key)
    and move next_run_at past now. SKIP LOCKED: a concurrent job leaves the schedule to whoever holds it."""
    s = uow.session.execute(
        select(ReportSchedule)
        .where(ReportSchedule.id == schedule_id, ReportSchedule.active, ReportSchedule.next_run_at <= now)
        .with_for_update(skip_locked=True)
    ).scalar_one_or_none()
    if s is None:
        return 0
    client = uow.session.scalar(select(Client).where(Client.id == s.client_id, Client.deleted_at.is_(None)))
    if client is None:
        s.active, s.next_run_at = False, None
        return 0
    created = 0
    runs = 0
    while s.next_run_at is not None and s.next_run_at <= now and runs < MAX_CATCH_UP:
        run_at = s.next_run_at
        start, end = timing.period_for_run(
            s.frequency, timing.local_run_date(run_at, client.reporting_timezone)
        )
        inserted = uow.session.execute(
            insert(PerformanceReport)
            .values(
                id=uuid.uuid4(),
                tenant_id=s.tenant_id,
                client_id=s.client_id,
                schedule_id=s.id,
                title=s.name,
                period_start=start,
                period_end=end,
                period_label=timing.period_label(start, end),
                sections=list(s.sections),
                status="held",
                provisional=False,
                finality={},
                hold_until=run_at + dt.timedelta(hours=s.max_hold_hours),
                version=0,
                recipients=list(s.recipients or []),
                created_by=f"schedule:{s.id}",
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(
                index_elements=["tenant_id", "schedule_id", "period_start", "period_end"],
                index_where=text("schedule_id IS NOT NULL"),
            )
            .returning(PerformanceReport.id)
        ).scalar_one_or_none()
        if inserted is not None:
            created += 1
            uow.audit(
                "report.schedule",
                "performance_report",
                inserted,
                after={"schedule_id": s.id, "period": [start, end]},
            )
        s.last_run_at = run_at
        s.next_run_at = timing.next_run(
            s.frequency, s.day_of_week, s.day_of_month, s.send_hour, client.reporting_timezone, run_at
        )
        runs += 1
    if s.next_run_at is not None and s.next_run_at <= now:  # beyond the catch-up limit: skip to the future
        s.next_run_at = timing.next_run(
            s.frequency, s.day_of_week, s.day_of_month, s.send_hour, client.reporting_timezone, now
        )
    s.updated_at = now
    return created


def _release(uow: UnitOfWork, report_id: uuid.UUID, now: dt.datetime, queue: Any) -> str:
    """A held report: queue it when final (or past its hold deadline, as provisional); a queued one whose message
    went missing: queue it again (the worker ignores duplicates)."""
    from strategist.services.reports.service import message

    r = uow.session.execute(
        select(PerformanceReport).where(PerformanceReport.id == report_id).with_for_update(skip_locked=True)
    ).scalar_one_or_none()
    if r is None or r.status not in ("held", "queued"):
        return "skipped"
    if r.status == "queued":
        r.updated_at = now
        body = message(r)
        uow.after_commit(lambda: queue.send([body]))
        return "requeued"
    client = _client(uow, r.client_id)
    fin = timing.finality(
        r.period_end, client.reporting_timezone, build.connection_facts(uow, client.id), now
    )
    r.finality = fin.as_dict()
    r.updated_at = now
    if fin.final:
        r.status, r.provisional, outcome = "queued", False, "final"
    elif r.hold_until is not None and now >= r.hold_until:
        r.status, r.provisional, outcome = "queued", True, "provisional"
    else:
        return "held"
    uow.audit(
        "report.release", "performance_report", r.id, after={"outcome": outcome, "finality": r.finality}
    )
    body = message(r)
    uow.after_commit(lambda: queue.send([body]))
    return outcome


def run(uow_factory: UowFactory, queue: Any, *, now: dt.datetime | None = None) -> dict[str, int]:
    now = now or dt.datetime.now(dt.UTC)
    counts = {
        "schedules": 0,
        "created": 0,
        "final": 0,
        "provisional": 0,
        "held": 0,
        "requeued": 0,
        "skipped": 0,
    }
    with uow_factory() as uow:
        due = uow.session.execute(
            text("SELECT id, tenant_id FROM system_due_report_schedules(:at)"), {"at": now}
        ).all()
    for schedule_id, tenant_id in due:
        with uow_factory() as uow:
            uow.set_tenant(tenant_id)
            counts["created"] += _materialize(uow, schedule_id, now)
            counts["schedules"] += 1
    with uow_factory() as uow:
        pending = uow.session.execute(
            text("SELECT id, tenant_id FROM system_pending_reports(:at)"), {"at": now}
        ).all()
    for report_id, tenant_id in pending:
        try:
            with uow_factory() as uow:
                uow.set_tenant(tenant_id)
                counts[_release(uow, report_id, now, queue)] += 1
        except Exception:  # one tenant's bad row must not stop the others; the next run retries it
            log.exception("releasing report %s failed", report_id)
    return counts
