"""The hourly fan-out of metric syncs: one SQS message per live connection, plus the missing chunks of any
backfill that stalled. Kept apart from the worker's module so the scheduled job imports no platform client."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import text

from strategist.adapters.db.models import PlatformConnection
from strategist.adapters.db.uow import UnitOfWork
from strategist.services import sync_plan
from strategist.services.ports import MessageQueue

UowFactory = Callable[[], UnitOfWork]

BACKFILL_REQUEUE_AFTER = dt.timedelta(hours=2)


def fan_out(uow_factory: UowFactory, queue: MessageQueue, *, now: dt.datetime | None = None) -> int:
    """One message per live connection, so connections sync in parallel Lambdas instead of one long job.

    A backfill whose chunks were queued long ago and are still not all done (a message dead-lettered, a queue
    lost) gets its missing chunks queued again: a first connection always ends up with its whole history."""
    now = now or dt.datetime.now(dt.UTC)
    with uow_factory() as uow:
        rows = uow.session.execute(
            text(
                "SELECT id, tenant_id, backfill_complete, backfill_queued_at FROM system_active_connections()"
            )
        ).all()
    messages = []
    for conn_id, tenant_id, complete, queued_at in rows:
        messages.append(sync_plan.message(tenant_id, conn_id, "scheduled"))
        stale = queued_at is None or dt.datetime.fromisoformat(queued_at) < now - BACKFILL_REQUEUE_AFTER
        if not complete and stale:
            messages += _requeue_backfill(uow_factory, tenant_id, conn_id, now)
    return queue.send(messages) if messages else 0


def _requeue_backfill(
    uow_factory: UowFactory, tenant_id: uuid.UUID, connection_id: uuid.UUID, now: dt.datetime
) -> list[dict[str, Any]]:
    with uow_factory() as uow:
        uow.set_tenant(tenant_id)
        conn = uow.session.get(PlatformConnection, connection_id, with_for_update=True)
        if conn is None or not conn.backfill.get("start"):
            return []
        start, end = (
            dt.date.fromisoformat(conn.backfill["start"]),
            dt.date.fromisoformat(conn.backfill["end"]),
        )
        done = set(conn.backfill.get("done", []))
        chunks = [
            w
            for w in sync_plan.backfill_chunks(end, (end - start).days + 1)
            if w.start.isoformat() not in done
        ]
        conn.backfill = {**conn.backfill, "queued_at": now.isoformat()}
        return [sync_plan.message(tenant_id, connection_id, "backfill", w) for w in chunks]
