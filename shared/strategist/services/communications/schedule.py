"""job_communications: enqueue scheduled sends that fall due within SQS's 15-minute delay window (with the
remaining delay, so they go out on time), and re-enqueue `queued` communications whose after-commit nudge was
lost (SQS unreachable at commit). A duplicate enqueue is harmless: deliveries are claimed exactly once."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable

from sqlalchemy import text, update

from strategist.adapters.db.models import ClientCommunication
from strategist.adapters.db.uow import UnitOfWork
from strategist.services.communications.queue import MAX_DELAY_S, enqueue_communication

log = logging.getLogger(__name__)

#: A queued communication still not picked up this long after it was due is assumed lost and enqueued again.
LOST_AFTER_S = 900

Enqueue = Callable[[uuid.UUID, uuid.UUID, int], None]


def _default_enqueue(tenant_id: uuid.UUID, comm_id: uuid.UUID, delay_s: int) -> None:
    enqueue_communication(tenant_id, comm_id, delay_s=delay_s)


def enqueue_due(
    uow_factory: Callable[[], UnitOfWork],
    *,
    enqueue: Enqueue = _default_enqueue,
    now: dt.datetime | None = None,
) -> dict[str, int]:
    now = now or dt.datetime.now(dt.UTC)
    with uow_factory() as uow:
        rows = uow.session.execute(
            text("SELECT id, tenant_id, status, scheduled_at FROM system_due_communications(:at, :h, :l)"),
            {"at": now, "h": MAX_DELAY_S, "l": LOST_AFTER_S},
        ).all()
    counts = {"scheduled": 0, "requeued": 0, "errors": 0}
    for comm_id, tenant_id, status, scheduled_at in rows:
        delay = 0 if scheduled_at is None else max(0, int((scheduled_at - now).total_seconds()))
        try:
            with uow_factory() as uow:
                uow.set_tenant(tenant_id)
                changed = uow.session.scalar(
                    update(ClientCommunication)
                    .where(ClientCommunication.id == comm_id, ClientCommunication.status == status)
                    .values(status="queued", enqueued_at=now, updated_at=now)
                    .returning(ClientCommunication.id)
                )
                if changed is None:  # picked up meanwhile
                    continue
                uow.after_commit(lambda t=tenant_id, c=comm_id, d=delay: enqueue(t, c, min(d, MAX_DELAY_S)))
            counts["scheduled" if status == "scheduled" else "requeued"] += 1
        except Exception:
            counts["errors"] += 1
            log.exception("could not enqueue communication %s", comm_id)
    return counts
